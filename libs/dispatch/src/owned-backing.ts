// Mirrors null_blk's memory backing path (`null_handle_memory_backed`) when the driver
// runs in the dispatch instance that owns its requests (local placement): the page ops
// of one batch in one `runOwnedPageOps` run, fenced by the owner epoch in the same atomic
// step as the copies (I4). Write bytes go with the run; reads are one plain HMGET of
// their pages (no script: a read moves nothing into the store), copied into the bios.
import { applyEndRecord, BlkStatus, type Hctx, ReqFlag, ReqOp, type Request } from '#blk-mq';
import {
  type CacheState,
  type FencedPages,
  type OwnedPageOp,
  OwnerGoneError,
  pageOpOf,
  pageOpStatus,
  type ReplicaSync,
  runZoneRequests,
  type ZoneTable,
} from '#redis-mq';
import type { Backing, BandwidthBudget, RnullPdu } from '#rnull';
import type { OwnerLease } from './owner-lease';
import { payloadOf } from './request-payload';
import { TransferQueue } from './transfer-queue';

/**
 * Contract: one status per request, in order; one script run per call. When the owner
 * epoch is gone nothing moved: every request gets IOERR and the lease is marked lost
 * (the queue fails what it holds and a new one opens).
 */
export class OwnedBacking implements Backing {
  /** The disk's page calls: TRANSFERS_IN_FLIGHT at a time, the batches waiting meanwhile merged. */
  private readonly calls = new TransferQueue((rqs, cacheBytes, zoned) => this.runTransfer(rqs, cacheBytes, zoned));

  constructor(
    private readonly pages: FencedPages,
    private readonly disk: string,
    private readonly lease: OwnerLease,
    /** Where FLUSH / FUA wait for replicas; without it they have nothing to wait for. */
    private readonly sync?: ReplicaSync,
    private readonly onPersistError: (err: unknown) => void = () => undefined,
    /** The disk's mbps budget, shared by every process that drives the disk (I12). */
    readonly bandwidth?: BandwidthBudget,
    /** Told the write-back cache's state after each batch that has one (I13; metrics). */
    private readonly onCache: (state: CacheState) => void = () => undefined,
    /** A zoned disk's zone table (I17), for `zoneOps`. */
    private readonly zones?: ZoneTable,
  ) {}

  /** runZoneOps fenced by the owner epoch; owner gone: IOERR and the lease is lost, as `transfer`. */
  async zoneOps(rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    const zones = this.zones;
    if (!zones) throw new Error(`${this.disk}: zoneOps needs the zone table`);
    try {
      return await runZoneRequests(rqs, (ops) => zones.run(this.disk, this.lease.epoch, ops, false));
    } catch (err) {
      if (!(err instanceof OwnerGoneError)) throw err;
      this.lease.lose();
      return rqs.map(() => BlkStatus.IOERR);
    }
  }

  persist(): Promise<BlkStatus> {
    return this.sync ? this.sync.persistStatus(this.disk, this.onPersistError) : Promise.resolve(BlkStatus.OK);
  }

  /**
   * The batch's page ops in one call, or, while TRANSFERS_IN_FLIGHT calls of the disk run,
   * in one call with the batches that wait beside it (TransferQueue: order kept, each
   * batch its own statuses). A batch of reads only goes at once: it costs Redis one plain
   * MGET, holding it saves little, and held reads cost dispatch more (docs/bench/v2-lean/).
   * It may pass waiting writes: those are not acknowledged, so nothing orders them.
   */
  transfer(rqs: readonly Request<RnullPdu>[], _hctx?: Hctx<unknown>, cacheBytes = 0, zoned = false): Promise<BlkStatus[]> {
    if (rqs.every((rq) => rq.op === ReqOp.READ)) return this.runTransfer(rqs, cacheBytes, zoned);
    return this.calls.submit(rqs, cacheBytes, zoned);
  }

  /** One call: the page ops of `rqs` in one runOwned, their reads in one MGET behind it. */
  private async runTransfer(rqs: readonly Request<RnullPdu>[], cacheBytes: number, zoned: boolean): Promise<BlkStatus[]> {
    const ops: OwnedPageOp[] = [];
    const at: number[] = [];
    const reads: Request<RnullPdu>[] = [];
    const readAt: number[] = [];
    rqs.forEach((rq, i) => {
      const op = pageOpOf(rq.op);
      // With a write-back cache (I13): FLUSH and PREFLUSH write it back, FUA writes through.
      const flush = cacheBytes > 0 && (rq.op === ReqOp.FLUSH || (rq.flags & ReqFlag.PREFLUSH) !== 0);
      if (flush) {
        at.push(i); // `at` names each op's request: a PREFLUSH write has two ops
        ops.push({ op: 'flush', sector: 0, bytes: 0 });
      }
      if (op === 'read') {
        readAt.push(i);
        reads.push(rq);
        if (zoned) {
          at.push(i); // the zone check of the read (OFFLINE zones fail), in op order
          ops.push({ op, sector: rq.sector, bytes: rq.bytes });
        }
      } else if (op) {
        at.push(i);
        ops.push(
          // A driver may transfer a prefix of a request (bad blocks, partial IO): its first `bytes`.
          op === 'write'
            ? { op, sector: rq.sector, bytes: rq.bytes, data: payloadOf(rq).subarray(0, rq.bytes), fua: (rq.flags & ReqFlag.FUA) !== 0 }
            : op === 'append'
              ? { op, sector: rq.sector, bytes: rq.bytes, data: payloadOf(rq).subarray(0, rq.bytes) }
              : { op, sector: rq.sector, bytes: rq.bytes },
        );
      }
    });
    const statuses = rqs.map(() => BlkStatus.OK);
    // Both leave in this tick, on one connection, writes first: Redis runs them in that
    // order, so a read of this batch sees its writes. Requests in flight together have no
    // order between them otherwise (as in the kernel); an acknowledged write is always seen.
    const written = ops.length ? this.pages.runOwned(this.disk, this.lease.epoch, ops, cacheBytes, zoned) : undefined;
    const read = reads.length ? this.pages.readPages(this.disk, reads, cacheBytes > 0) : undefined;
    const [result, data] = await Promise.all([written, read]);
    if (result?.status === 'ownerGone') {
      this.lease.lose();
      return rqs.map(() => BlkStatus.IOERR);
    }
    if (result) {
      at.forEach((i, k) => {
        const status = pageOpStatus(result.results[k]);
        // A PREFLUSH write has two ops: the first failure stays.
        if (statuses[i] === BlkStatus.OK) statuses[i] = status;
        if (status === BlkStatus.OK && rqs[i].op === ReqOp.ZONE_APPEND) rqs[i].setLandedSector(result.landed![k]);
      });
    }
    if (result?.cache) this.onCache(result.cache);
    // The bytes go into the request's bios as an end record's would (applyEndRecord checks
    // the length); a read its zone check refused keeps that status.
    if (data) {
      readAt.forEach((i, k) => {
        if (statuses[i] === BlkStatus.OK) statuses[i] = applyEndRecord(rqs[i], BlkStatus.OK, data[k]).status;
      });
    }
    return statuses;
  }
}
