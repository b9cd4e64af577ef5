// Mirrors a blk-mq driver whose hardware sits in another process: `queue_rqs` packs the
// plug's batch of one hctx into one message and pushes it onto the hctx's batch queue,
// where the driver host (services/rnull) takes it. The requests' ends come back as end
// records on the owner's completion list (`CompletionRouter`), not through this object.
import {
  BlkStatus,
  type Hctx,
  opHasData,
  type Operations,
  type Request,
  ReqOp,
  tagPoolCount,
  tagPoolOf,
  type TagSpaceConfig,
} from '#blk-mq';
import { type BatchSubmitter, encodeBatch, OwnerGoneError, type RequestRecord } from '#redis-mq';
import { nowMsPrecise } from '#service-kit';
import type { OwnerLease } from './owner-lease';
import { payloadOf } from './request-payload';
import type { TagBudget } from './tag-budget';

/** Freed tags wait this long for a batch to carry them back to the budget, ms. */
export const RELEASE_DELAY_MS = 20;

/**
 * Most bytes (write payloads plus read lengths) one batch message carries, unless one
 * request alone is bigger. Every script of a batch (queueBatch, runPageOps, endBatch)
 * moves its bytes in one atomic step, and Redis serves nothing else meanwhile: a 40 MiB
 * batch of reads held Redis for 0.5 s in runPageOps and 2.8 s in endBatch on this 2-core
 * VM, long enough for owner leases to run out and, on a Redis Cluster, for the other
 * nodes to presume the master dead. Bounding the batch bounds the stall.
 */
export const MAX_BATCH_DATA_BYTES = 4 * 1024 * 1024;

/**
 * Invariants:
 *   - Every request of a batch is started before the push (the driver's reference
 *     travels with the message), so an end record can never overtake its start.
 *   - A request the Redis budget did not cover is answered RESOURCE: the engine gives its
 *     driver reference back and retries it after the requeue delay (FIFO per hctx).
 *   - Each tag the owner's table freed is given back to the budget exactly once: with the
 *     next `queueBatch` of this disk, or by a release run after `RELEASE_DELAY_MS` (I3).
 *   - Nothing is sent once the owner lease is lost: its budget was reclaimed whole.
 *   - With `sharedTags` (a shared_tags disk, I15) the budget is the shared tag set's, in
 *     its own hash slot (I7): the batch's tags are covered there first, and `queueBatch`
 *     (the disk's meta says tag_set = shared) takes none and pushes what was covered;
 *     freed tags go back through `sharedTags`, never with `queueBatch`.
 */
export class RemoteDriver implements Operations<void, void> {
  private seq = 0;
  /** Tags freed per pool and not yet given back to the Redis budget. */
  private readonly freed: number[];
  private releaseTimer?: NodeJS.Timeout;
  /** Batches pushed, for metrics and tests. */
  batches = 0;

  constructor(
    private readonly disk: string,
    private readonly tagSpace: TagSpaceConfig,
    private readonly submitter: BatchSubmitter,
    private readonly lease: OwnerLease,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly sharedTags?: TagBudget,
  ) {
    this.freed = new Array<number>(tagPoolCount(tagSpace)).fill(0);
  }

  /** The engine's table freed a tag of `hctx` (`InProcRequestTable.onTagFreed`). */
  tagFreed(hctx: number, tag: number): void {
    if (this.sharedTags) return this.sharedTags.tagFreed(hctx, tag);
    this.freed[tagPoolOf(this.tagSpace, hctx)] += 1;
    if (!this.releaseTimer) {
      this.releaseTimer = setTimeout(() => void this.releaseNow(), RELEASE_DELAY_MS);
      this.releaseTimer.unref();
    }
  }

  queueRq(hctx: Hctx<void>, rq: Request<void>): Promise<BlkStatus> {
    return this.queueRqs(hctx, [rq]).then((s) => s[0]);
  }

  commitRqs(): void {}

  /** Ends arrive as end records; nothing completes through here. */
  complete(rq: Request<void>): void {
    rq.tryEnd(BlkStatus.IOERR);
  }

  /**
   * `queue_rqs`: start all, then one `queueBatch` run per batch of at most
   * `MAX_BATCH_DATA_BYTES` takes budget and pushes it, in order. Once a batch is not
   * accepted whole, the requests after it are not sent: RESOURCE (retried in order within
   * this call; two calls on one hctx may interleave their batches) when the budget ran
   * out, IOERR as the batch's own when it failed.
   */
  async queueRqs(hctx: Hctx<void>, rqs: readonly Request<void>[]): Promise<BlkStatus[]> {
    if (!this.lease.alive) return rqs.map(() => BlkStatus.IOERR);
    for (const rq of rqs) rq.start();
    const out: BlkStatus[] = [];
    let from = 0;
    for (const to of batchEnds(rqs.map(dataBytes), MAX_BATCH_DATA_BYTES)) {
      const batch = rqs.slice(from, to);
      let statuses: BlkStatus[];
      try {
        statuses = await this.queueBatch(hctx, batch);
      } catch (err) {
        // Not a Redis answer (a request that cannot be encoded): the batches already
        // pushed stay OK, this one and the rest end IOERR.
        this.onError(err);
        statuses = batch.map(() => BlkStatus.IOERR);
      }
      out.push(...statuses);
      from = to;
      const last = statuses[statuses.length - 1];
      if (last !== BlkStatus.OK) break;
    }
    while (out.length < rqs.length) out.push(out[out.length - 1]);
    return out;
  }

  /**
   * One `queueBatch` run for started requests `rqs`; with shared tags, the prefix the
   * shared tag set covered first (one `takeSharedTags` run when the share is short).
   */
  private async queueBatch(hctx: Hctx<void>, all: readonly Request<void>[]): Promise<BlkStatus[]> {
    let rqs = all;
    if (this.sharedTags) {
      let covered: number;
      try {
        covered = await this.sharedTags.cover(
          hctx.index,
          all.map((rq) => rq.token.tag),
        );
      } catch (err) {
        if (err instanceof OwnerGoneError) this.lease.lose();
        else this.onError(err);
        return all.map(() => BlkStatus.IOERR);
      }
      if (covered === 0) return all.map(() => BlkStatus.RESOURCE);
      rqs = all.slice(0, covered);
    }
    const records: RequestRecord[] = [];
    const payloads: Buffer[] = [];
    for (const rq of rqs) {
      records.push({ tag: rq.token.tag, gen: rq.token.gen, op: rq.op, flags: rq.flags, bytes: rq.bytes, sector: rq.sector });
      if (rq.op === ReqOp.WRITE || rq.op === ReqOp.ZONE_APPEND) payloads.push(payloadOf(rq));
    }
    const message = encodeBatch({ hctx: hctx.index, epoch: this.lease.epoch, seq: this.seq++ >>> 0, atMs: nowMsPrecise() }, records);
    const releases = this.takeReleases();
    let accepted: number;
    try {
      accepted = await this.submitter.queueBatch({
        disk: this.disk,
        epoch: this.lease.epoch,
        pool: tagPoolOf(this.tagSpace, hctx.index),
        releases,
        message,
        payloads,
      });
    } catch (err) {
      if (err instanceof OwnerGoneError) {
        this.lease.lose();
      } else {
        // Redis away: whether the releases were applied is unknown; giving them back
        // again could only let the budget run over depth, so they are kept for later.
        this.giveBack(releases);
        this.onError(err);
      }
      return all.map(() => BlkStatus.IOERR);
    }
    this.batches += 1;
    return all.map((_, i) => (i < accepted ? BlkStatus.OK : BlkStatus.RESOURCE));
  }

  /** Stops the release timer; with `flush`, gives the freed tags back now. */
  async close(flush: boolean): Promise<void> {
    this.sharedTags?.close();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (flush) await this.releaseNow();
  }

  private async releaseNow(): Promise<void> {
    this.releaseTimer = undefined;
    const releases = this.takeReleases();
    if (releases.length === 0 || !this.lease.alive) return;
    try {
      await this.submitter.release(this.disk, this.lease.epoch, releases);
    } catch (err) {
      if (err instanceof OwnerGoneError) return this.lease.lose();
      this.giveBack(releases);
      this.onError(err);
    }
  }

  private takeReleases(): [pool: number, count: number][] {
    if (this.releaseTimer) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = undefined;
    }
    const out: [number, number][] = [];
    this.freed.forEach((n, pool) => {
      if (n > 0) out.push([pool, n]);
      this.freed[pool] = 0;
    });
    return out;
  }

  private giveBack(releases: [number, number][]): void {
    for (const [pool, n] of releases) this.freed[pool] += n;
    if (releases.length && !this.releaseTimer) {
      this.releaseTimer = setTimeout(() => void this.releaseNow(), RELEASE_DELAY_MS * 10);
      this.releaseTimer.unref();
    }
  }
}

/** The bytes a request moves through Redis: its length for reads, writes and zone appends, else none. */
function dataBytes(rq: Request<void>): number {
  return opHasData(rq.op) ? rq.bytes : 0;
}

/**
 * Where the batches of requests moving `bytes[i]` each end (exclusive indexes, in order):
 * each batch takes requests in order while their sum stays within `max`, and holds at
 * least one.
 */
export function batchEnds(bytes: readonly number[], max: number): number[] {
  const ends: number[] = [];
  let sum = 0;
  bytes.forEach((b, i) => {
    if (i > 0 && sum + b > max) {
      ends.push(i);
      sum = 0;
    }
    sum += b;
  });
  if (bytes.length > 0) ends.push(bytes.length);
  return ends;
}
