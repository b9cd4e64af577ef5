// Mirrors an hrtimer: fires at an absolute time with sub-millisecond precision, which
// Node's millisecond timers (and BullMQ's millisecond delays) cannot give alone.
import type { BlockMetrics } from './block-metrics';
import { nowMsPrecise } from './batch-clock';

/** Below this much time left, the timer polls with setImmediate instead of setTimeout. */
const SPIN_MS = 1.5;

interface Waiter {
  dueMs: number;
  resolve: () => void;
}

/**
 * One timer queue for a process: a sorted list of waiters, one Node timer for the
 * earliest, then event-loop polling for the last `SPIN_MS`.
 *
 * Invariants: waiters resolve in due order, never before `dueMs`; `lateness` records
 * (fired - due) in ms of every firing.
 */
export class PreciseTimer {
  private readonly waiters: Waiter[] = [];
  private timer?: NodeJS.Timeout;
  private spinning = false;
  /** Recent lateness samples in ms (fired - due), newest last, at most 10,000. */
  readonly lateness: number[] = [];

  /** `metrics`: each firing's lateness also goes to `rnull_timer_lateness_seconds`. */
  constructor(private readonly metrics?: BlockMetrics) {}

  /** Resolves at `dueMs` (ms since the epoch with a fraction), or at once if past. */
  at(dueMs: number): Promise<void> {
    return new Promise((resolve) => {
      const w = { dueMs, resolve };
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1].dueMs > dueMs) i--;
      this.waiters.splice(i, 0, w);
      this.arm();
    });
  }

  get pending(): number {
    return this.waiters.length;
  }

  private arm(): void {
    if (this.spinning || this.waiters.length === 0) return;
    const left = this.waiters[0].dueMs - nowMsPrecise();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (left > SPIN_MS) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.arm();
      }, left - SPIN_MS);
    } else {
      this.spinning = true;
      setImmediate(() => this.spin());
    }
  }

  private spin(): void {
    const now = nowMsPrecise();
    while (this.waiters.length && this.waiters[0].dueMs <= now) {
      const w = this.waiters.shift()!;
      this.lateness.push(now - w.dueMs);
      this.metrics?.timerLateness.observe((now - w.dueMs) / 1000);
      if (this.lateness.length > 10_000) this.lateness.shift();
      w.resolve();
    }
    this.spinning = false;
    this.arm();
  }
}
