// Mirrors null_blk's `null_handle_rq` data path for a memory-backed disk: a batch of
// requests moves between their request-data fields and the page store inside Redis, in
// one script call, without the bytes passing through this process.
import { BlkStatus, type RequestToken, ReqOp } from '#blk-mq';
import { GATED, type PageGate, type PageOp, type PageStore } from '#redis-mq';
import type { Backing } from '#rnull';
import { dataField, readDataField, type RqWire } from '../rq-batch';
import type { BatchPrefetch } from './driver-host';

/** What a page op needs of a request: a `Request`, or a request of a batch not yet started. */
interface DataRq {
  readonly token: RequestToken;
  readonly op: number;
  readonly sector: number;
  readonly bytes: number;
}

function pageOp(rq: DataRq): PageOp | undefined {
  switch (rq.op) {
    case ReqOp.WRITE:
      return { op: 'copyIn', sector: rq.sector, len: rq.bytes, field: dataField(rq.token) };
    case ReqOp.READ:
      return { op: 'copyOut', sector: rq.sector, len: rq.bytes, field: readDataField(rq.token) };
    case ReqOp.DISCARD:
      return { op: 'discard', sector: rq.sector, len: rq.bytes };
    case ReqOp.WRITE_ZEROES:
      return { op: 'writeZeroes', sector: rq.sector, len: rq.bytes };
    default:
      return undefined;
  }
}

/**
 * Contract: one status per request, in order. Every page op is gated on its request being
 * in flight (started, not ended) in the request table, in the same atomic step as the data
 * moves, so a stale request never moves data. The batch runs as one atomic script; when
 * it is refused (a write whose data field is gone because the request timed out
 * meanwhile), the requests run one by one so only the faulty one fails, with IOERR.
 *
 * Ahead of the driver (`BatchPrefetch`): the page ops of a batch are sent right behind its
 * `start`, on the same connection, so Redis runs them right after the start (gated on it)
 * and start plus data cost one round trip; `transfer` then hands out those results.
 */
export class RedisBacking implements Backing, BatchPrefetch {
  /** Results of page ops sent ahead, by request-data field; undefined: run it again alone. */
  private readonly ahead = new Map<string, Promise<BlkStatus | undefined>>();

  constructor(
    private readonly pages: PageStore,
    private readonly disk: string,
    private readonly slotIndexOf: (t: RequestToken) => number,
    /** Whether the driver moves data at all (`memory_backed`). */
    private readonly movesData: () => boolean,
  ) {}

  prepare(hctx: number, rqs: readonly RqWire[]): () => void {
    if (!this.movesData()) return () => undefined;
    const data: DataRq[] = [];
    for (const [tag, gen, op, sector, bytes] of rqs) {
      const rq = { token: { hctx, tag, gen }, op, sector, bytes };
      if (pageOp(rq)) data.push(rq);
    }
    if (data.length === 0) return () => undefined;
    const sent = this.pages.applyGated(this.disk, data.map((rq) => pageOp(rq)!), data.map((rq) => this.gate(rq.token))).then(
      (results) => results,
      () => undefined,
    );
    const fields = data.map((rq) => dataField(rq.token));
    fields.forEach((f, i) => this.ahead.set(f, sent.then((r) => (r ? toStatus(r[i]) : undefined))));
    return () => fields.forEach((f) => this.ahead.delete(f));
  }

  async transfer(rqs: readonly DataRq[]): Promise<BlkStatus[]> {
    const early = await Promise.all(rqs.map((rq) => this.ahead.get(dataField(rq.token))));
    const ops = rqs.map(pageOp);
    const todo = rqs.map((_, i) => ops[i] !== undefined && early[i] === undefined);
    const statuses = rqs.map((_, i) => early[i] ?? BlkStatus.OK);
    if (!todo.some(Boolean)) return statuses;
    const idx = todo.flatMap((t, i) => (t ? [i] : []));
    try {
      const results = await this.pages.applyGated(this.disk, idx.map((i) => ops[i]!), idx.map((i) => this.gate(rqs[i].token)));
      idx.forEach((i, k) => (statuses[i] = toStatus(results[k])));
    } catch {
      await Promise.all(
        idx.map(async (i) => {
          try {
            const [r] = await this.pages.applyGated(this.disk, [ops[i]!], [this.gate(rqs[i].token)]);
            statuses[i] = toStatus(r);
          } catch {
            statuses[i] = BlkStatus.IOERR;
          }
        }),
      );
    }
    return statuses;
  }

  private gate(t: RequestToken): PageGate {
    const index = this.slotIndexOf(t);
    // A token that names no slot: a gate no slot satisfies.
    return { index: Math.max(0, index), gen: index < 0 ? Number.MAX_SAFE_INTEGER : t.gen };
  }
}

/** A gated-out op moved nothing: its request was not in flight. */
function toStatus(r: unknown): BlkStatus {
  return r === GATED ? BlkStatus.IOERR : BlkStatus.OK;
}
