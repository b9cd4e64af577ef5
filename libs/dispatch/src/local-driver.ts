// Mirrors the ordinary kernel case, a driver in the same kernel as its block layer: the
// disk's driver (from the service's factory) runs in the dispatch instance that owns the
// requests (local placement, `DRIVER_PLACEMENT=local`). Tags still come from the disk's
// shared Redis budget and data from the shared page store, so several instances can
// serve one disk; what disappears is the trip of every batch through a worker process
// and back (DESIGN §6: every hop costs a process wake-up).
import { BlkStatus, defaultQueueRqs, type Hctx, isRequeueStatus, type Operations, type Request } from '#blk-mq';
import { OwnerGoneError } from '#redis-mq';
import type { DiskAttributes } from '#rnull';
import type { HostedDriver } from '#gendisk';
import type { OwnerLease } from './owner-lease';
import type { TagBudget } from './tag-budget';

/**
 * Invariants:
 *   - The driver sees a request only once it holds a unit of the disk's tag budget; the
 *     rest of a batch is answered RESOURCE and the engine retries it (FIFO per hctx).
 *   - The driver's page ops are fenced by the owner epoch (`OwnedBacking`, I4); its
 *     completions (inline, softirq, timer) are the engine's, in this process.
 *   - Nothing reaches the driver once the owner lease is lost.
 *   - Requests the driver itself answers RESOURCE / DEV_RESOURCE (not the budget's
 *     refusals) are reported to `onDriverRequeue`, as the rnull service counts its
 *     requeues (`rnull_requeues_total`).
 */
export class LocalDriver implements Operations<void, void> {
  constructor(
    private readonly driver: HostedDriver,
    private readonly budget: TagBudget,
    private readonly lease: OwnerLease,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly onDriverRequeue: (hctx: number, count: number) => void = () => undefined,
  ) {}

  setAttributes(attributes: DiskAttributes): void {
    this.driver.setAttributes?.(attributes);
  }

  tagFreed(hctx: number, tag: number): void {
    this.budget.tagFreed(hctx, tag);
  }

  queueRq(hctx: Hctx<void>, rq: Request<void>): Promise<BlkStatus> {
    return this.queueRqs(hctx, [rq]).then((s) => s[0]);
  }

  commitRqs(hctx: Hctx<void>): void {
    this.driver.commitRqs?.(hctx);
  }

  complete(rq: Request<void>): void {
    this.driver.complete(rq);
  }

  async queueRqs(hctx: Hctx<void>, rqs: readonly Request<void>[]): Promise<BlkStatus[]> {
    if (!this.lease.alive) return rqs.map(() => BlkStatus.IOERR);
    let covered: number;
    try {
      covered = await this.budget.cover(
        hctx.index,
        rqs.map((rq) => rq.token.tag),
      );
    } catch (err) {
      if (err instanceof OwnerGoneError) this.lease.lose();
      else this.onError(err);
      return rqs.map(() => BlkStatus.IOERR);
    }
    if (covered === 0) return rqs.map(() => BlkStatus.RESOURCE);
    const batch = covered === rqs.length ? rqs : rqs.slice(0, covered);
    const statuses = this.driver.queueRqs ? await this.driver.queueRqs(hctx, batch) : await defaultQueueRqs(this.driver, hctx, batch);
    const requeued = statuses.filter(isRequeueStatus).length;
    if (requeued) this.onDriverRequeue(hctx.index, requeued);
    return rqs.map((_, i) => (i < covered ? (statuses[i] ?? BlkStatus.IOERR) : BlkStatus.RESOURCE));
  }

  /** Stops the budget's release timer; the lease gives the budget back (`flush` is the remote driver's). */
  async close(_flush: boolean): Promise<void> {
    this.budget.close();
  }
}
