// Mirrors null_blk's bandwidth budget (drivers/block/null_blk/main.c): `TICKS_PER_SEC`,
// `TIMER_INTERVAL`, `mb_per_tick()` and the atomic `cur_bytes` that `null_handle_throttled`
// takes from and `nullb_bwtimer_fn` refills. The rule is here once, as pure functions; the
// in-process budget below runs it on this process's clock, and the cluster's budget (one
// per disk in Redis, `takeBandwidth-1.lua`) runs the same rule on Redis's clock.

/** `TICKS_PER_SEC`: the budget is refilled 50 times a second. */
export const TICKS_PER_SEC = 50;

/** `TIMER_INTERVAL`: one tick, ms (20). */
export const TICK_MS = 1000 / TICKS_PER_SEC;

/** `mbps`' largest value: null_blk clamps to `1024 * 40` (null_validate_conf); here a larger one is refused. */
export const MAX_MBPS = 1024 * 40;

/** `mb_per_tick(mbps)`: bytes per tick, `(1 << 20) / TICKS_PER_SEC * mbps` in the kernel's integer arithmetic. */
export function mbPerTick(mbps: number): number {
  return Math.floor((1 << 20) / TICKS_PER_SEC) * mbps;
}

/**
 * `cur_bytes` at the start of `tick`, given what it was left at in `lastTick`: a full
 * tick's budget, less what requests admitted on credit took beyond their own tick (the
 * overdraft is repaid one tick's budget per tick that passed, up to a full tick).
 * Mainline `nullb_bwtimer_fn` sets it back to `mb_per_tick` instead; this is the refill
 * of "null_blk: fix handling big requests with small mbps limit" (K. Khlebnikov, 2019,
 * not merged), see `chargeBudget`.
 */
export function refilledBudget(bytes: number, lastTick: number, tick: number, perTick: number): number {
  return Math.min(perTick, bytes + perTick * Math.max(1, tick - lastTick));
}

/**
 * `null_handle_throttled` over a batch, in order: a request is admitted while the budget
 * is not negative and takes its bytes from it, possibly driving it below 0 (the overdraft
 * the next refills repay); once it is negative every request after is refused (the queue
 * stops). Returns how many were admitted and the budget left.
 *
 * Mainline charges first and refuses the request that would drive the budget below 0
 * (`atomic_long_sub_return(...) < 0`), its bytes staying taken until the refill: a request
 * larger than `mb_per_tick` then never runs (mbps=4 and a 124 KiB request: never), and only
 * the whole requests that fit a tick run in it (mbps=20 with 124 KiB requests: 18.5 MiB/s
 * measured, `docs/bench/mbps/README.md`). Admitting on credit, as the 2019 patch does, keeps
 * the long-run rate at `mb_per_tick` per tick whatever the request size.
 */
export function chargeBudget(budget: number, bytes: readonly number[]): { admitted: number; budget: number } {
  let admitted = 0;
  for (const b of bytes) {
    if (budget < 0) break;
    budget -= b;
    admitted += 1;
  }
  return { admitted, budget };
}

/** What a budget said about one batch. */
export interface BandwidthVerdict {
  /** The first `admitted` requests of the batch may run; the rest are refused (DEV_RESOURCE). */
  readonly admitted: number;
  /** Time until the next refill, ms (> 0): when the throttle starts the queues again. */
  readonly msToNextTick: number;
}

/**
 * A disk's byte budget. Contract: `take` charges the batch's request sizes (`bytes`) in
 * order under `chargeBudget` and `refilledBudget`, `perTick` bytes a tick, on ticks of
 * `tickMs` counted from the epoch of the budget's clock, atomically with respect to every
 * other `take` on the same budget.
 */
export interface BandwidthBudget {
  take(perTick: number, tickMs: number, bytes: readonly number[]): BandwidthVerdict | Promise<BandwidthVerdict>;
}

/**
 * The budget of a disk whose driver runs in one process only (the in-process engine,
 * bench path d): `cur_bytes` in this process's memory, on `now()`'s ticks.
 */
export class LocalBandwidthBudget implements BandwidthBudget {
  private bytes = 0;
  private tick = -Infinity;

  constructor(private readonly now: () => number = () => Date.now()) {}

  take(perTick: number, tickMs: number, bytes: readonly number[]): BandwidthVerdict {
    const now = this.now();
    const tick = Math.floor(now / tickMs);
    if (tick !== this.tick) {
      this.bytes = this.tick === -Infinity ? perTick : refilledBudget(this.bytes, this.tick, tick, perTick);
      this.tick = tick;
    }
    const { admitted, budget } = chargeBudget(this.bytes, bytes);
    this.bytes = budget;
    return { admitted, msToNextTick: Math.max(1, (tick + 1) * tickMs - now) };
  }
}
