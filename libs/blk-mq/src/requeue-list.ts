// Mirrors `q->requeue_list` and blk_mq_requeue_work(): requests put back for a retry, sent
// to their hctx again as one batch after a delay (BLK_MQ_RESOURCE_DELAY in the kernel).

/**
 * Requeued requests per hctx.
 *
 * Invariants: at most one retry timer per hctx; a retry takes every request requeued on
 * that hctx so far, in requeue order; no timer is left after `stop()`.
 */
export class RequeueList<R> {
  private readonly lists = new Map<number, R[]>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly delayMs: number,
    private readonly redispatch: (hctx: number, batch: R[]) => void,
  ) {}

  /** Requests waiting for their retry. */
  get size(): number {
    let n = 0;
    for (const l of this.lists.values()) n += l.length;
    return n;
  }

  /** Queues `rq` for a retry on `hctx`. */
  add(hctx: number, rq: R): void {
    let list = this.lists.get(hctx);
    if (!list) this.lists.set(hctx, (list = []));
    list.push(rq);
    if (this.timers.has(hctx)) return;
    this.timers.set(
      hctx,
      setTimeout(() => {
        this.timers.delete(hctx);
        const batch = this.lists.get(hctx) ?? [];
        this.lists.delete(hctx);
        if (batch.length) this.redispatch(hctx, batch);
      }, this.delayMs),
    );
  }

  /** Cancels every pending retry; the requests stay listed. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
