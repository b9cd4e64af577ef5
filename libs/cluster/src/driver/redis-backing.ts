// Mirrors null_blk's `null_handle_rq` data path for a memory-backed disk: a batch of
// requests moves between their request-data fields and the page store inside Redis, in
// one script call, without the bytes passing through this process.
import { BlkStatus, type Request, ReqOp } from '#blk-mq';
import type { PageOp, PageStore } from '#redis-mq';
import type { Backing, RnullPdu } from '#rnull';
import { dataField } from '../rq-batch';

function pageOp(rq: Request<RnullPdu>): PageOp | undefined {
  switch (rq.op) {
    case ReqOp.WRITE:
      return { op: 'copyIn', sector: rq.sector, len: rq.bytes, field: dataField(rq.token) };
    case ReqOp.READ:
      return { op: 'copyOut', sector: rq.sector, len: rq.bytes, field: dataField(rq.token) };
    case ReqOp.DISCARD:
      return { op: 'discard', sector: rq.sector, len: rq.bytes };
    case ReqOp.WRITE_ZEROES:
      return { op: 'writeZeroes', sector: rq.sector, len: rq.bytes };
    default:
      return undefined;
  }
}

/**
 * Contract: one status per request, in order. The batch runs as one atomic script; when it
 * is refused (a write whose data field is gone because the request timed out meanwhile),
 * the requests run one by one so only the faulty one fails, with IOERR.
 */
export class RedisBacking implements Backing {
  constructor(
    private readonly pages: PageStore,
    private readonly disk: string,
  ) {}

  async transfer(rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    const ops = rqs.map(pageOp);
    const present = ops.filter((o): o is PageOp => o !== undefined);
    if (present.length === 0) return rqs.map(() => BlkStatus.OK);
    try {
      await this.pages.apply(this.disk, present);
      return rqs.map(() => BlkStatus.OK);
    } catch {
      return Promise.all(
        ops.map(async (op) => {
          if (!op) return BlkStatus.OK;
          try {
            await this.pages.apply(this.disk, [op]);
            return BlkStatus.OK;
          } catch {
            return BlkStatus.IOERR;
          }
        }),
      );
    }
  }
}
