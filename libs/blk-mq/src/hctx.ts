// Mirrors `struct blk_mq_hw_ctx`: one hardware dispatch queue, with the driver's data for it
// (the Rust API's `HwData`, returned by `Operations.initHctx`), and the queue it belongs to.

import { type HwQueueControl, UNSTOPPABLE_QUEUE } from './hw-queue-stop';

/** What went through one hctx, for metrics. */
export interface HctxCounters {
  /** Requests handed to `queueRq` / `queueRqs` (a requeued request counts again). */
  dispatched: number;
  /** Calls of `queueRqs` (or of the default loop): one per plug flush or retry. */
  batches: number;
  /** Requests put back for a retry: refused with RESOURCE / DEV_RESOURCE, not offered after
   * such a refusal in the same batch, or requeued by the driver. */
  requeued: number;
}

/**
 * One hardware context.
 *
 * Invariants: `index` is in `0 .. nrHwQueues - 1`; `driverData` is set once, before the
 * first request reaches the driver.
 */
export class Hctx<H = unknown> {
  readonly counters: HctxCounters = { dispatched: 0, batches: 0, requeued: 0 };
  private data: H | undefined;
  private hasData = false;

  constructor(
    readonly index: number,
    readonly nrHwQueues: number,
    /** `hctx->queue`: where the driver stops and starts the hardware queues. */
    readonly queue: HwQueueControl = UNSTOPPABLE_QUEUE,
  ) {}

  /** What `initHctx` returned for this hctx; undefined when the driver has no `initHctx`. */
  get driverData(): H {
    return this.data as H;
  }

  /** Sets the driver data; a second call throws (init_hctx runs once per hctx). */
  setDriverData(data: H): void {
    if (this.hasData) throw new Error(`${this}: driver data is already set`);
    this.data = data;
    this.hasData = true;
  }

  toString(): string {
    return `Hctx{${this.index}/${this.nrHwQueues}}`;
  }
}
