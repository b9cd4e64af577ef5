// Mirrors null_blk's memory backing path (`null_handle_memory_backed`) as the rnull
// service runs it: the page ops of one batch, in one fenced script run (DESIGN §3, I4):
// they move data only while this worker still holds the batch's lease and the batch's
// owner is alive, checked in the same atomic step as the copies.
import { BlkStatus, type Hctx, ReqFlag, ReqOp, type Request } from '#blk-mq';
import {
  type CacheState,
  type FencedPageOp,
  type FencedPages,
  LeaseLostError,
  OwnerGoneError,
  pageOpOf,
  pageOpStatus,
  type ReplicaSync,
  requestId,
  runZoneRequests,
  type ZoneTable,
} from '#redis-mq';
import type { Backing, BandwidthBudget, RnullPdu } from '#rnull';
import type { BatchFence } from './driver-host';

/** The page op of one request, or undefined for ops that move nothing (FLUSH). */
function pageOp(rq: Request<RnullPdu>, epoch: number): FencedPageOp | undefined {
  const op = pageOpOf(rq.op);
  const t = rq.token;
  const id = requestId(epoch, t.hctx, t.tag, t.gen);
  if (op === 'write') return { op, sector: rq.sector, bytes: rq.bytes, id, fua: (rq.flags & ReqFlag.FUA) !== 0 };
  if (op === 'read' || op === 'append') return { op, sector: rq.sector, bytes: rq.bytes, id };
  return op && { op, sector: rq.sector, bytes: rq.bytes };
}

/** With a write-back cache (I13), FLUSH and PREFLUSH write it back first. */
function writesCacheBack(rq: Request<RnullPdu>): boolean {
  return pageOpOf(rq.op) === undefined || (rq.flags & ReqFlag.PREFLUSH) !== 0;
}

/**
 * Contract: one status per request, in order; one script run per call. A fenced-out batch
 * (lease lost, owner gone) moves nothing and its requests get IOERR here; their ends are
 * then refused by `endBatch` for the same reason, so no client ever sees that status.
 */
export class FencedBacking implements Backing {
  constructor(
    private readonly pages: FencedPages,
    private readonly disk: string,
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

  /** runZoneOps fenced by the batch's lease and owner epoch; fenced out: IOERR, as `transfer`. */
  async zoneOps(rqs: readonly Request<RnullPdu>[], hctx?: Hctx<unknown>): Promise<BlkStatus[]> {
    const fence = hctx?.driverData as BatchFence | undefined;
    if (!fence || !this.zones) throw new Error(`${this.disk}: zoneOps needs the batch fence and the zone table`);
    const zones = this.zones;
    try {
      return await runZoneRequests(rqs, (ops) =>
        zones.run(this.disk, fence.epoch, ops, false, { leased: fence.leasedKey, member: fence.member }),
      );
    } catch (err) {
      if (err instanceof LeaseLostError || err instanceof OwnerGoneError) return rqs.map(() => BlkStatus.IOERR);
      throw err;
    }
  }

  persist(): Promise<BlkStatus> {
    return this.sync ? this.sync.persistStatus(this.disk, this.onPersistError) : Promise.resolve(BlkStatus.OK);
  }

  async transfer(rqs: readonly Request<RnullPdu>[], hctx?: Hctx<unknown>, cacheBytes = 0, zoned = false): Promise<BlkStatus[]> {
    const fence = hctx?.driverData as BatchFence | undefined;
    if (!fence) throw new Error(`${this.disk}: a fenced backing needs the batch fence as the hctx's driver data`);
    const ops: FencedPageOp[] = [];
    const at: number[] = [];
    rqs.forEach((rq, i) => {
      const op = pageOp(rq, fence.epoch);
      if (cacheBytes > 0 && writesCacheBack(rq)) {
        at.push(i); // `at` names each op's request: a PREFLUSH write has two ops
        ops.push({ op: 'flush', sector: 0, bytes: 0 });
      }
      if (op) {
        at.push(i);
        ops.push(op);
      }
    });
    const statuses = rqs.map(() => BlkStatus.OK);
    if (ops.length === 0) return statuses;
    const result = await this.pages.runFenced(
      this.disk,
      { leased: fence.leasedKey, member: fence.member, epoch: fence.epoch },
      ops,
      cacheBytes,
      zoned,
    );
    if (result.status !== 'ok') return rqs.map(() => BlkStatus.IOERR);
    if (result.cache) this.onCache(result.cache);
    at.forEach((i, k) => {
      const status = pageOpStatus(result.results[k]);
      // A PREFLUSH write has two ops: the first failure stays.
      if (statuses[i] === BlkStatus.OK) statuses[i] = status;
      if (status === BlkStatus.OK && rqs[i].op === ReqOp.ZONE_APPEND) rqs[i].setLandedSector(result.landed![k]);
    });
    return statuses;
  }
}
