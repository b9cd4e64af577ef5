// Mirrors null_blk's throttled path (drivers/block/null_blk/main.c): `null_handle_throttled`
// answering BLK_STS_DEV_RESOURCE and stopping the queue (`null_stop_queue`) when `cur_bytes`
// runs out, and the bandwidth hrtimer (`nullb_bwtimer_fn`) that refills it every tick and
// starts the stopped queues again (`null_restart_queue_async`).
import type { Hctx, HwQueueControl } from '#blk-mq';
import { type BandwidthBudget, mbPerTick, TICK_MS } from './bandwidth-budget';

/** What the throttle tells its driver's host, for metrics and logs. */
export interface ThrottleEvents {
  /** The budget refused `requests` requests (DEV_RESOURCE) and the queues were stopped. */
  throttled?(requests: number): void;
  /** The queues the throttle stopped run again, `seconds` after they stopped. */
  throttleEnded?(seconds: number): void;
}

/**
 * The throttle of one driver (one disk in one process).
 *
 * Invariants:
 *   - A batch reaches the data path only for the requests the budget admitted, a prefix
 *     of the batch; the rest are refused (the driver answers DEV_RESOURCE).
 *   - Every refusal stops the queue of the refused batch's hctx; at most one restart timer
 *     is armed (the bw_timer), due at the budget's next tick, and it starts every queue the
 *     throttle stopped: a stopped queue never stays stopped past the tick after its refusal.
 *   - Time from the first stop to the restart is reported once per restart (`throttleEnded`).
 */
export class BandwidthThrottle {
  private readonly stoppedQueues = new Set<HwQueueControl>();
  private restart?: ReturnType<typeof setTimeout>;
  private stoppedAt = 0;

  constructor(
    private readonly budget: BandwidthBudget,
    private readonly events: ThrottleEvents = {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How many of `bytes` (one batch's requests, in order) may run now at `mbps` (> 0). */
  async admit(hctx: Hctx<unknown>, mbps: number, bytes: readonly number[]): Promise<number> {
    const { admitted, msToNextTick } = await this.budget.take(mbPerTick(mbps), TICK_MS, bytes);
    if (admitted < bytes.length) this.stop(hctx.queue, bytes.length - admitted, msToNextTick);
    return admitted;
  }

  private stop(queue: HwQueueControl, refused: number, msToNextTick: number): void {
    queue.stopHwQueues();
    this.stoppedQueues.add(queue);
    this.events.throttled?.(refused);
    if (this.restart) return;
    this.stoppedAt = this.now();
    this.restart = setTimeout(() => this.startQueues(), Math.max(1, msToNextTick));
  }

  private startQueues(): void {
    this.restart = undefined;
    const queues = [...this.stoppedQueues];
    this.stoppedQueues.clear();
    for (const q of queues) q.startStoppedHwQueues();
    this.events.throttleEnded?.((this.now() - this.stoppedAt) / 1000);
  }
}
