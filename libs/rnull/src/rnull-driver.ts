// Mirrors drivers/block/rnull.rs (and null_blk's main path): the rnull `Operations` —
// memory backing through a `Backing`, and irqmode none / softirq / timer completion.
import { BlkStatus, type Hctx, type Operations, type Request, ReqFlag, ReqOp, SECTOR_SHIFT } from '#blk-mq';
import { BadBlockCopy } from './bad-block-copy';
import type { BadBlockHit } from './bad-blocks';
import { type BandwidthBudget, LocalBandwidthBudget } from './bandwidth-budget';
import { BandwidthThrottle, type ThrottleEvents } from './bandwidth-throttle';
import { type DiskAttributes, IrqMode } from './disk-attributes';
import { RnullFaults, type RequestFaultKind } from './rnull-faults';

/**
 * Where a memory-backed disk keeps its data (the kernel's xarray of pages). One call
 * moves a whole batch; one status per request, in order. `hctx` is the batch's hardware
 * context: a backing that fences its page ops per batch (the cluster's) finds the
 * batch's fence in its driver data.
 */
export interface Backing {
  /**
   * With `cacheBytes` > 0 the disk has a write-back cache of that size in front of its
   * pages (`cache_size`, DESIGN I13): a write without FUA may stay in it, a FUA write's
   * pages are in the store when it ends, a FLUSH (which then comes here too) and a
   * PREFLUSH write the whole cache back first, and reads see the cache first.
   */
  transfer(rqs: readonly Request<RnullPdu>[], hctx?: Hctx<unknown>, cacheBytes?: number, zoned?: boolean): Promise<BlkStatus[]>;
  /**
   * A zoned disk (`zoned`, DESIGN I17) passes `transfer` its zone appends and zone
   * management too, and every op first passes the zone checks in the same atomic step (a
   * refused one gets null_blk's status and moves nothing; an append lands at its zone's
   * write pointer, set on the request with `setLandedSector`).
   *
   * `zoneOps`: the zone checks and moves alone, for a zoned disk without memory backing
   * (its data path moves no data), in one atomic step fenced as `transfer` is; one status
   * per request, in order (OK for an op the zone table has no say in).
   */
  zoneOps?(rqs: readonly Request<RnullPdu>[], hctx?: Hctx<unknown>): Promise<BlkStatus[]>;
  /**
   * Makes every write transferred so far durable (the volatile write cache's flush):
   * OK once it is, else the status the FLUSH / FUA requests end with. A backing without
   * a cache to flush leaves it out.
   */
  persist?(): Promise<BlkStatus>;
  /**
   * The disk's byte budget for `mbps` (null_blk's `cur_bytes`), shared by every process
   * that drives the disk (the cluster keeps it in Redis). Without one the driver keeps
   * its own in memory (`LocalBandwidthBudget`): right when it is the disk's only driver.
   */
  readonly bandwidth?: BandwidthBudget;
}

/**
 * Per-request driver data (the Rust driver's `RequestData`). rnull keeps none: a request
 * may be completed by another process, so nothing may live only here.
 */
export type RnullPdu = void;

/** A request that touched a bad range (`null_handle_badblocks` returned IOERR). */
export interface BadBlockEvent extends BadBlockHit {
  /** The request's first sector and length in sectors. */
  readonly sector: number;
  readonly sectors: number;
  /** Sectors transferred before the bad one (badblocks_partial_io), 0 otherwise. */
  readonly transferredSectors: number;
  /** The entry was cleared by this hit (badblocks_once). */
  readonly cleared: boolean;
}

/** What the driver tells its host, for metrics and logs. */
export interface RnullDriverEvents extends ThrottleEvents {
  /**
   * A request hit a bad range. For a hit that cleared its entry the host may return the
   * promise of sending that clear to the registry; until it settles, the driver keeps the
   * entry cleared in its copy even when a list that still holds it arrives.
   */
  badBlockHit?(event: BadBlockEvent): void | Promise<unknown>;
  /** A fault was injected into a request (`timeout` or `requeue` attribute). */
  injectedFault?(kind: RequestFaultKind, rq: Request<RnullPdu>): void;
}

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
 *   - A request that touches a bad range (`badblocks`) ends IOERR and moves no data, its
 *     veto taken before the batch's one backing call: nothing of it reaches a page op,
 *     except, with badblocks_partial_io, the whole blocks before its first bad sector
 *     (writes, discards, write zeroes; a failed read returns no data, so it reads none).
 *     With badblocks_once the hit entry is cleared here, in this driver's copy, at once
 *     (`BadBlockCopy`: kept cleared until the registry holds the clear, DESIGN I10).
 *   - Fault injection (`timeout`, `requeue`; `RnullFaults`) is decided first (after the mbps throttle), as in
 *     null_queue_rq(): a request given a requeue fault is answered RESOURCE and a request
 *     given a timeout fault is answered OK and never ended (the owner's timeout handler
 *     ends it TIMEOUT, I2, I3); neither reaches the bad-block check or a page op (I11).
 *   - With `cache_size` > 0 the batch's FLUSHes go to the backing with its transfers,
 *     which writes the cache back for them (and for PREFLUSH) and keeps FUA writes out
 *     of the cache (`Backing.transfer`, DESIGN I13); persist() then runs as above.
 *   - On a zoned disk (`zoned`, DESIGN I17) writes, appends, reads and zone management pass
 *     the zone table's checks in the backing's one atomic call (`transfer`, or `zoneOps`
 *     without memory backing); a request the zone checks refuse ends with null_blk's status
 *     and moved nothing. A write that hits a bad range moves nothing on a zoned disk, even
 *     with badblocks_partial_io (null_zone_write moves the write pointer only after a
 *     whole write).
 *   - With `mbps` > 0 a batch first passes the bandwidth throttle (`null_handle_throttled`,
 *     before `blk_mq_start_request`): the requests the budget refused are not started,
 *     move nothing and are answered DEV_RESOURCE, and the throttle has stopped the queue
 *     until its next refill (DESIGN I12). With `mbps` = 0 nothing of it runs.
 */
export class RnullDriver implements Operations<RnullPdu, unknown> {
  private readonly badBlocks: BadBlockCopy;
  private readonly faults: RnullFaults;
  private readonly throttle: BandwidthThrottle;

  constructor(
    /** Replaced in place when attributes that keep the tag space change. */
    public attributes: DiskAttributes,
    private readonly backing: Backing,
    private readonly events: RnullDriverEvents = {},
  ) {
    this.badBlocks = new BadBlockCopy(attributes.badblocks);
    this.faults = new RnullFaults(attributes);
    this.throttle = new BandwidthThrottle(backing.bandwidth ?? new LocalBandwidthBudget(), events);
  }

  /** Attribute changes that keep the tag space (irqmode, completion_nsec, badblocks, …) apply to the next batch. */
  setAttributes(attributes: DiskAttributes): void {
    this.attributes = attributes;
    this.badBlocks.follow(attributes.badblocks);
    this.faults.follow(attributes);
  }

  /** This driver's bad-block list, as `badblocks_show` prints it (once-cleared entries gone). */
  get badBlocksShow(): string {
    return this.badBlocks.show();
  }

  queueRq(hctx: Hctx<unknown>, rq: Request<RnullPdu>): Promise<BlkStatus> {
    return this.queueRqs(hctx, [rq]).then((s) => s[0]);
  }

  /**
   * `queue_rqs`: the bandwidth throttle (mbps > 0), then start the admitted requests, move
   * their data in one backing call, complete; the refused ones are answered DEV_RESOURCE.
   */
  async queueRqs(hctx: Hctx<unknown>, rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    const mbps = this.attributes.mbps;
    if (mbps <= 0) return this.run(hctx, rqs);
    const admitted = await this.throttle.admit(
      hctx,
      mbps,
      rqs.map((rq) => rq.bytes),
    );
    const statuses = admitted > 0 ? await this.run(hctx, admitted === rqs.length ? rqs : rqs.slice(0, admitted)) : [];
    return rqs.map((_, i) => (i < admitted ? statuses[i] : BlkStatus.DEV_RESOURCE));
  }

  /**
   * Starts `all`, decides their injected faults, moves the data of the rest in one backing
   * call, completes them.
   */
  private async run(hctx: Hctx<unknown>, all: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    for (const rq of all) rq.start();
    // null_queue_rq: fault injection first; a faulted request goes no further (I11).
    const faults = this.faults.armed ? all.map((rq) => this.injectFault(rq)) : undefined;
    const rqs = faults ? all.filter((_, k) => faults[k] === undefined) : all;
    // null_process_cmd: the bad-block veto comes before any data moves.
    const vetoed = this.badBlocks.empty ? undefined : rqs.map((rq) => this.handleBadBlocks(rq));
    // null_handle_flush: with a write-back cache (I13) a FLUSH goes to the backing too.
    const cacheBytes = this.attributes.cacheSize * MiB;
    const { memoryBacked, zoned } = this.attributes;
    const movesData = (rq: Request<RnullPdu>) => rq.op !== ReqOp.FLUSH || cacheBytes > 0;
    // A vetoed write's prefix moves only off zoned disks (see the class invariants).
    const prefix = (sectors: number | undefined) => sectors !== undefined && sectors > 0 && !zoned;
    const transfers: Request<RnullPdu>[] = [];
    rqs.forEach((rq, k) => {
      const sectors = vetoed ? vetoed[k] : undefined;
      if (sectors === undefined) {
        if (movesData(rq)) transfers.push(rq);
      } else if (prefix(sectors)) transfers.push(prefixOf(rq, sectors!));
    });
    const statuses = transfers.length ? await this.transfer(hctx, transfers, cacheBytes) : [];
    if (!this.attributes.memoryBacked) {
      for (const rq of rqs) if (rq.op === ReqOp.READ) for (const seg of rq.segments()) seg.zero();
    }
    const persisted =
      this.attributes.memoryBacked && this.backing.persist && rqs.some(needsPersist) ? await this.backing.persist() : BlkStatus.OK;
    let i = 0;
    rqs.forEach((rq, k) => {
      const sectors = vetoed ? vetoed[k] : undefined;
      const moved = (memoryBacked || zoned) && (sectors === undefined ? movesData(rq) : prefix(sectors));
      let status = moved ? statuses[i++] : BlkStatus.OK;
      if (sectors !== undefined && status === BlkStatus.OK) status = BlkStatus.IOERR;
      if (status === BlkStatus.OK && needsPersist(rq)) status = persisted;
      this.finish(rq, status);
    });
    return all.map((_, k) => (faults?.[k] === 'requeue' ? BlkStatus.RESOURCE : BlkStatus.OK));
  }

  /**
   * The one backing call of a batch: the page ops (memory backed; zone-checked on a zoned
   * disk), or a zoned disk's zone checks alone (no memory backing), or nothing.
   */
  private transfer(hctx: Hctx<unknown>, transfers: readonly Request<RnullPdu>[], cacheBytes: number): Promise<BlkStatus[]> {
    const { memoryBacked, zoned } = this.attributes;
    if (memoryBacked) {
      if (zoned) return this.backing.transfer(transfers, hctx, cacheBytes, true);
      return cacheBytes > 0 ? this.backing.transfer(transfers, hctx, cacheBytes) : this.backing.transfer(transfers, hctx);
    }
    if (!zoned) return Promise.resolve([]);
    if (!this.backing.zoneOps) throw new Error('rnull: a zoned disk without memory backing needs a backing with zoneOps');
    return this.backing.zoneOps(transfers, hctx);
  }

  /** should_timeout_request() and should_requeue_request() for `rq`, reported to the host. */
  private injectFault(rq: Request<RnullPdu>): RequestFaultKind | undefined {
    const kind = this.faults.decide(rq);
    if (kind) this.events.injectedFault?.(kind, rq);
    return kind;
  }

  /**
   * `null_handle_badblocks`: undefined when `rq` touches no bad sector; otherwise the
   * sectors it may still transfer (0, or with badblocks_partial_io the whole blocks
   * before the first bad sector), and the request ends IOERR. With badblocks_once the
   * entry it hit is cleared.
   */
  private handleBadBlocks(rq: Request<RnullPdu>): number | undefined {
    if (rq.op === ReqOp.FLUSH) return undefined; // null_handle_flush: no bad-block check.
    const a = this.attributes;
    const hit = this.badBlocks.check(rq.sector, rq.sectors, a.badblocksOnce);
    if (!hit) return undefined;
    let transferred = 0;
    if (a.badblocksPartialIo && rq.op !== ReqOp.READ) {
      const blockSectors = a.blocksize >> SECTOR_SHIFT;
      const firstBad = hit.firstBad - (hit.firstBad % blockSectors); // ALIGN_DOWN(first_bad, block_sectors)
      if (rq.sector < firstBad) transferred = firstBad - rq.sector;
    }
    const sent = this.events.badBlockHit?.({
      ...hit,
      sector: rq.sector,
      sectors: rq.sectors,
      transferredSectors: transferred,
      cleared: a.badblocksOnce,
    });
    if (sent) {
      const settle = () => this.badBlocks.settle(hit.firstBad);
      sent.then(settle, settle);
    }
    return transferred;
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

/**
 * The first `sectors` sectors of `rq`, for the backing only: a view that reads as `rq`
 * with a shorter length (its payload is `rq`'s, of which the backing takes the first
 * `bytes`). State changes (start, end) stay on `rq`; the view is never ended.
 */
function prefixOf(rq: Request<RnullPdu>, sectors: number): Request<RnullPdu> {
  return Object.create(rq, { bytes: { value: sectors << SECTOR_SHIFT }, sectors: { value: sectors } }) as Request<RnullPdu>;
}

const MiB = 1 << 20;

/**
 * rnull's probe, in the shape the cluster's libraries take a driver (`DriverFactory`):
 * one driver per disk, on the backing the library gives (a worker's fenced pages, or the
 * owning dispatch instance's). Services pass this; libraries never name the class.
 */
export function rnullDriverFactory(
  record: { readonly attributes: DiskAttributes },
  backing: Backing,
  events?: RnullDriverEvents,
): RnullDriver {
  return new RnullDriver(record.attributes, backing, events);
}
