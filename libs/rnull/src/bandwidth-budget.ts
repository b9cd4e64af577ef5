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

/** `cur_bytes` at the start of `tick`, given what it was in `lastTick` (`nullb_bwtimer_fn`: set back to `mb_per_tick`). */
export function refilledBudget(_bytes: number, _lastTick: number, _tick: number, perTick: number): number {
  return perTick;
}

/**
 * `null_handle_throttled` over a batch, in order: each request takes its bytes from
 * `budget` (`atomic_long_sub_return`); the first that drives it below 0 is refused, and so
 * is every one after it (the queue stops). Returns how many were admitted and the budget
 * left (negative once one was refused: the refused request's bytes stay taken, as in the
 * kernel, until the next refill).
 */
export function chargeBudget(budget: number, bytes: readonly number[]): { admitted: number; budget: number } {
  let admitted = 0;
  for (const b of bytes) {
    budget -= b;
    if (budget < 0) break;
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
 * A disk's byte budget. Contract: `take` charges the batch's requests in order under
 * `chargeBudget` and `refilledBudget`, on ticks of `TICK_MS` counted from the epoch of
 * the budget's clock, atomically with respect to every other `take` on the same budget.
 */
export interface BandwidthBudget {
  take(mbps: number, bytes: readonly number[]): BandwidthVerdict | Promise<BandwidthVerdict>;
}

/**
 * The budget of a disk whose driver runs in one process only (the in-process engine,
 * bench path d): `cur_bytes` in this process's memory, on `now()`'s ticks.
 */
export class LocalBandwidthBudget implements BandwidthBudget {
  private bytes = 0;
  private tick = -Infinity;

  constructor(private readonly now: () => number = () => Date.now()) {}

  take(mbps: number, bytes: readonly number[]): BandwidthVerdict {
    const now = this.now();
    const tick = Math.floor(now / TICK_MS);
    const perTick = mbPerTick(mbps);
    if (tick !== this.tick) {
      this.bytes = this.tick === -Infinity ? perTick : refilledBudget(this.bytes, this.tick, tick, perTick);
      this.tick = tick;
    }
    const { admitted, budget } = chargeBudget(this.bytes, bytes);
    this.bytes = budget;
    return { admitted, msToNextTick: Math.max(1, (tick + 1) * TICK_MS - now) };
  }
}
