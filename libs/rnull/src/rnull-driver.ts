// Mirrors drivers/block/rnull.rs (and null_blk's main path): the rnull `Operations` —
// memory backing through a `Backing`, and irqmode none / softirq / timer completion.
import { BlkStatus, type Hctx, type Operations, type Request, ReqFlag, ReqOp } from '#blk-mq';
import { type DiskAttributes, IrqMode } from './disk-attributes';

/**
 * Where a memory-backed disk keeps its data (the kernel's xarray of pages). One call
 * moves a whole batch; one status per request, in order. `hctx` is the batch's hardware
 * context: a backing that fences its page ops per batch (the cluster's) finds the
 * batch's fence in its driver data.
 */
export interface Backing {
  transfer(rqs: readonly Request<RnullPdu>[], hctx?: Hctx<unknown>): Promise<BlkStatus[]>;
  /**
   * Makes every write transferred so far durable (the volatile write cache's flush):
   * OK once it is, else the status the FLUSH / FUA requests end with. A backing without
   * a cache to flush leaves it out.
   */
  persist?(): Promise<BlkStatus>;
}

/**
 * Per-request driver data (the Rust driver's `RequestData`). rnull keeps none: a request
 * may be completed by another process, so nothing may live only here.
 */
export type RnullPdu = void;

/**
 * The rnull driver for one disk.
 *
 * Invariants:
 *   - Every request it returns OK for is started, and ends exactly once: inline
 *     (irqmode 0), from `complete` after `rq.complete()` (1) or `rq.completeAfter()` (2).
 *   - A failed transfer ends its request at once with the failure, whatever the irqmode.
 *   - Without memory backing no data moves: writes are dropped, and reads return zeros
 *     (the in-process engine's segments are zeroed here; a service's read buffer is
 *     zero-filled by dispatch when no data comes back).
 *   - A FLUSH, or a write with FUA or PREFLUSH, of a memory-backed disk ends OK only after
 *     `backing.persist()` said every write transferred before it (its own included) is
 *     durable; one persist per batch, after the batch's transfer.
 */
export class RnullDriver implements Operations<RnullPdu, unknown> {
  constructor(
    /** Replaced in place when attributes that keep the tag space change. */
    public attributes: DiskAttributes,
    private readonly backing: Backing,
  ) {}

  /** Attribute changes that keep the tag space (irqmode, completion_nsec, …) apply to the next batch. */
  setAttributes(attributes: DiskAttributes): void {
    this.attributes = attributes;
  }

  queueRq(hctx: Hctx<unknown>, rq: Request<RnullPdu>): Promise<BlkStatus> {
    return this.queueRqs(hctx, [rq]).then((s) => s[0]);
  }

  /** `queue_rqs`: start all, move the whole batch's data in one backing call, complete. */
  async queueRqs(hctx: Hctx<unknown>, rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    for (const rq of rqs) rq.start();
    const statuses = this.attributes.memoryBacked ? await this.backing.transfer(rqs.filter(movesData), hctx) : [];
    if (!this.attributes.memoryBacked) {
      for (const rq of rqs) if (rq.op === ReqOp.READ) for (const seg of rq.segments()) seg.zero();
    }
    const persisted =
      this.attributes.memoryBacked && this.backing.persist && rqs.some(needsPersist) ? await this.backing.persist() : BlkStatus.OK;
    let i = 0;
    for (const rq of rqs) {
      let status = this.attributes.memoryBacked && movesData(rq) ? statuses[i++] : BlkStatus.OK;
      if (status === BlkStatus.OK && needsPersist(rq)) status = persisted;
      this.finish(rq, status);
    }
    return rqs.map(() => BlkStatus.OK);
  }

  commitRqs(): void {}

  /** Softirq / timer completion: the transfer succeeded (failures ended at once). */
  complete(rq: Request<RnullPdu>): void {
    rq.tryEnd(BlkStatus.OK);
  }

  private finish(rq: Request<RnullPdu>, status: BlkStatus): void {
    if (status !== BlkStatus.OK) {
      rq.tryEnd(status);
      return;
    }
    switch (this.attributes.irqmode) {
      case IrqMode.None:
        rq.tryEnd(BlkStatus.OK);
        break;
      case IrqMode.Soft:
        rq.complete();
        break;
      case IrqMode.Timer:
        rq.completeAfter(this.attributes.completionNsec);
        break;
    }
  }
}

/** A FLUSH, or a write that must be durable before it ends (FUA) or after earlier ones (PREFLUSH). */
function needsPersist(rq: Request<RnullPdu>): boolean {
  return rq.op === ReqOp.FLUSH || (rq.flags & (ReqFlag.FUA | ReqFlag.PREFLUSH)) !== 0;
}

/** FLUSH has nothing to move on a RAM disk; every other op touches the pages. */
function movesData(rq: Request<RnullPdu>): boolean {
  return rq.op !== ReqOp.FLUSH;
}

/**
 * rnull's probe, in the shape the cluster's libraries take a driver (`DriverFactory`):
 * one driver per disk, on the backing the library gives (a worker's fenced pages, or the
 * owning dispatch instance's). Services pass this; libraries never name the class.
 */
export function rnullDriverFactory(record: { readonly attributes: DiskAttributes }, backing: Backing): RnullDriver {
  return new RnullDriver(record.attributes, backing);
}
