// Mirrors the BLK_MQ_S_STOPPED bit of each `struct blk_mq_hw_ctx`, with
// blk_mq_stop_hw_queues() and blk_mq_start_stopped_hw_queues() (block/blk-mq.c): a driver
// that cannot take work for a while (null_blk's bandwidth throttle, `null_stop_queue`)
// stops its queue's hctxs; a batch for a stopped hctx waits on that hctx's dispatch list
// (`hctx->dispatch`) and reaches the driver only once the driver starts the queues again.

/** What a driver may do to the queue its hctx belongs to (`hctx->queue`). */
export interface HwQueueControl {
  /** `blk_mq_stop_hw_queues`: no batch reaches the driver until the queues start again. */
  stopHwQueues(): void;
  /**
   * `blk_mq_start_stopped_hw_queues(q, true)`: starts every stopped hctx and runs what
   * waited on it, asynchronously (never from the caller's stack).
   */
  startStoppedHwQueues(): void;
  /** True while `hctx` is stopped. */
  isStopped(hctx: number): boolean;
}

/** The queue of an hctx made outside an engine (tests, a worker's per-batch hctx): it never stops. */
export const UNSTOPPABLE_QUEUE: HwQueueControl = Object.freeze({
  stopHwQueues: () => undefined,
  startStoppedHwQueues: () => undefined,
  isStopped: () => false,
});

/** Runs `fn` off the caller's stack (the kernel's kblockd work). */
export type QueueRunScheduler = (fn: () => void) => void;

/**
 * The stopped state and dispatch lists of one queue's hctxs.
 *
 * Invariants:
 *   - A batch handed to `dispatch` reaches `run` at once while its hctx runs; while it is
 *     stopped the batch waits, and waiting batches of one hctx run in the order they came.
 *   - `startStoppedHwQueues` runs the waiting batches from a scheduled callback; a batch
 *     still waits if its hctx was stopped again before that callback.
 *   - Nothing is dropped: `waiting` counts every request not yet run.
 */
export class HwQueueStops<R> implements HwQueueControl {
  private readonly stopped: boolean[];
  private readonly dispatchLists: R[][][];
  private runScheduled = false;

  constructor(
    nrHwQueues: number,
    private readonly run: (hctx: number, batch: R[]) => void,
    private readonly schedule: QueueRunScheduler = (fn) => void setImmediate(fn),
  ) {
    this.stopped = new Array<boolean>(nrHwQueues).fill(false);
    this.dispatchLists = Array.from({ length: nrHwQueues }, () => []);
  }

  /** Requests waiting on stopped hctxs. */
  get waiting(): number {
    let n = 0;
    for (const list of this.dispatchLists) for (const batch of list) n += batch.length;
    return n;
  }

  /** Runs `batch` on `hctx` now, or keeps it on the hctx's dispatch list while it is stopped. */
  dispatch(hctx: number, batch: R[]): void {
    if (this.stopped[hctx] || this.dispatchLists[hctx].length) this.dispatchLists[hctx].push(batch);
    else this.run(hctx, batch);
  }

  isStopped(hctx: number): boolean {
    return this.stopped[hctx] ?? false;
  }

  stopHwQueues(): void {
    this.stopped.fill(true);
  }

  startStoppedHwQueues(): void {
    if (!this.stopped.some(Boolean)) return;
    this.stopped.fill(false);
    if (this.runScheduled) return;
    this.runScheduled = true;
    this.schedule(() => {
      this.runScheduled = false;
      this.dispatchLists.forEach((list, hctx) => {
        while (list.length && !this.stopped[hctx]) this.run(hctx, list.shift()!);
      });
    });
  }
}
