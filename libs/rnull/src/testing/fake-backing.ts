// FOR UNIT TESTS ONLY: a RAM `Backing` over one flat buffer, in process, that records
// what the driver handed it (the cluster's backings are FencedBacking and OwnedBacking).
import { BlkStatus, type Hctx, ReqOp, type Request } from '#blk-mq';
import type { Backing, RnullPdu } from '../rnull-driver';

/** One request as the backing saw it. */
export interface Seen {
  op: ReqOp;
  sector: number;
  bytes: number;
}

/**
 * A RAM backing over one flat buffer. `fail` picks a status per request (default OK);
 * a failed request moves no data. Records every batch it was handed.
 */
export class FakeBacking implements Backing {
  readonly batches: Seen[][] = [];
  fail: (rq: Request<RnullPdu>) => BlkStatus = () => BlkStatus.OK;
  /** What `persist` answers; each call is recorded with the batches transferred before it. */
  persistStatus = BlkStatus.OK;
  readonly persists: number[] = [];
  /** The write-back cache size each batch was handed with (undefined: none). */
  readonly cacheBytes: (number | undefined)[] = [];

  constructor(private readonly store: Uint8Array) {}

  async transfer(rqs: readonly Request<RnullPdu>[], _hctx?: Hctx<unknown>, cacheBytes?: number): Promise<BlkStatus[]> {
    this.batches.push(rqs.map((rq) => ({ op: rq.op, sector: rq.sector, bytes: rq.bytes })));
    this.cacheBytes.push(cacheBytes);
    await Promise.resolve();
    return rqs.map((rq) => {
      const status = this.fail(rq);
      if (status !== BlkStatus.OK) return status;
      // As the cluster's backings: only the first `rq.bytes` (a driver may hand a prefix).
      let left = rq.bytes;
      for (const seg of rq.segments()) {
        if (left <= 0) break;
        const at = seg.sector * 512;
        if (rq.op === ReqOp.WRITE) this.store.set(seg.data.subarray(0, Math.min(left, seg.data.length)), at);
        else if (rq.op === ReqOp.READ) seg.copyFromPage(this.store, at);
        left -= seg.data.length;
      }
      if (rq.op === ReqOp.WRITE_ZEROES || rq.op === ReqOp.DISCARD) this.store.fill(0, rq.sector * 512, (rq.sector + rq.sectors) * 512);
      return BlkStatus.OK;
    });
  }

  async persist(): Promise<BlkStatus> {
    this.persists.push(this.batches.length);
    await Promise.resolve();
    return this.persistStatus;
  }

  get seen(): Seen[] {
    return this.batches.flat();
  }
}
