// Mirrors blk_mq_timeout_work() and the request queue's `timeout` timer: finds IN_FLIGHT
// requests past their deadline and hands each to the driver's timeout handler.

import type { InProcRequestTable } from './inproc-request-table';
import type { RequestToken } from './request-table';

export interface TimeoutHandlerOptions {
  /** Time between scans while any request is busy, ms. */
  readonly scanMs: number;
  readonly now: () => number;
  /** Called once per scan for every expired request, earliest deadline first. */
  readonly onExpired: (token: RequestToken) => void;
}

/**
 * The timeout scanner. It is armed by `arm()` (on every request start) and disarmed when
 * a scan finds no busy slot or by `disarm()`, so an idle disk holds no timer.
 *
 * Invariants: at most one timer is pending; none after `stop()`.
 */
export class TimeoutHandler {
  /** Scans run so far. */
  scans = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly table: InProcRequestTable,
    private readonly opts: TimeoutHandlerOptions,
  ) {}

  /** True while a scan is pending. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scan();
      if (this.table.busyCount > 0) this.arm();
    }, this.opts.scanMs);
  }

  /** Cancels the pending scan; the next `arm()` schedules a new one. */
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs one scan now; returns how many expired requests it found. */
  scan(): number {
    this.scans += 1;
    const due = this.table.expiredSync(this.opts.now(), Number.MAX_SAFE_INTEGER);
    for (const t of due) this.opts.onExpired(t);
    return due.length;
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }
}
