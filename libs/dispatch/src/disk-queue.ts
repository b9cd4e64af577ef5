// Mirrors `struct request_queue` of one disk on one dispatch instance: the blk-mq
// `Engine` of libs/blk-mq (checks, split, merge, plug, tags, requeue, timeouts) driving a
// `RemoteDriver` (the driver runs in worker processes) or a `LocalDriver` (it runs here),
// under this instance's owner lease for the disk (DESIGN §2, §3).
import { BlkStatus, Engine, formatToken, OpResult, type Operations, ReqOp, type RequestToken, TagSet, type TagSpaceConfig } from '#blk-mq';
import {
  type BatchSubmitter,
  type FencedPages,
  type OwnerRegistry,
  PAGE_SIZE,
  type ReplicaSync,
  SharedTagSet,
  type ZoneTable,
} from '#redis-mq';
import type { BandwidthBudget, DiskAttributes } from '#rnull';
import { type PreciseTimer, type Telemetry } from '#service-kit';
import type { DiskRecord, DriverEvents, DriverFactory } from '#gendisk';
import { geometryOf } from './disk-geometry';
import { LocalDriver } from './local-driver';
import { OwnedBacking } from './owned-backing';
import { OwnerLease } from './owner-lease';
import { RemoteDriver } from './remote-driver';
import { SharedTagShare } from './shared-tag-share';
import { diskTagSource, TagBudget, type TagSource } from './tag-budget';
import { MAX_SUBMISSION_BYTES, type CheckedSubmission } from './submission-check';

export interface BioResult {
  status: BlkStatus;
  data?: Buffer;
  message: string;
  latencyNs: bigint;
  /** A ZONE_APPEND that ended OK: the sector its data landed at. */
  sector?: number;
}

/** Where a disk's driver runs: in worker processes (the default), or in this process. */
export type DriverPlacement =
  | { readonly kind: 'remote' }
  | {
      readonly kind: 'local';
      readonly factory: DriverFactory;
      /** Where the driver of a disk reports (bad-block hits). */
      readonly events: (disk: string) => DriverEvents;
      readonly pages: FencedPages;
      /** Where FLUSH / FUA wait for replicas (I9). */
      readonly sync: ReplicaSync;
      /** The mbps budget of a disk, in Redis, shared with every other instance (I12). */
      readonly bandwidth: (disk: string) => BandwidthBudget;
      /** The hrtimer of irqmode 2 completions in this process (the completion service's kind). */
      readonly timer: PreciseTimer;
      /** The zone tables of zoned disks (I17). */
      readonly zones: ZoneTable;
    };

/** What the queue needs of its engine's driver besides `Operations`. */
interface OwnerDriver extends Operations<void, void> {
  tagFreed(hctx: number, tag: number): void;
  setAttributes?(attributes: DiskAttributes): void;
  close(flush: boolean): Promise<void>;
}

/**
 * Invariants:
 *   - The engine's table is the only record of this instance's requests (I6): a request
 *     ends once, through the engine (`endRemote`, a timeout, or a failed push) (I2).
 *   - When the owner lease is lost every live request ends IOERR at once and the queue
 *     takes no more IO; the block layer replaces it with a queue of a new epoch.
 */
export class DiskQueue {
  readonly engine: Engine<void, void>;
  readonly driver: OwnerDriver;
  readonly lease: OwnerLease;
  /** The queue this one replaced on a reshape, while it still holds requests. */
  predecessor?: DiskQueue;
  /** Set when the lease was lost: the block layer must open a new queue. */
  retired = false;

  private recordValue: DiskRecord;

  constructor(
    record: DiskRecord,
    readonly tagSpace: TagSpaceConfig,
    submitter: BatchSubmitter,
    owners: OwnerRegistry,
    opts: { leaseMs: number; timeoutScanMs: number; placement: DriverPlacement },
    private readonly onRetired: (q: DiskQueue) => void,
    private readonly tel: Telemetry = {},
  ) {
    this.lease = new OwnerLease(
      owners,
      record.name,
      opts.leaseMs,
      () => this.leaseLost(),
      (epochs) => tel.log?.warn({ disk: record.name, epochs }, 'reclaimed the budget of dispatch owners whose lease expired'),
    );
    this.recordValue = record;
    const onError = (err: unknown) => tel.log?.warn({ disk: record.name, err: (err as Error).message }, 'sending a batch failed');
    // I15: a shared_tags disk takes its tags from the shared tag set (its own hash slot),
    // renewed with the owner lease; any other disk from its own budget.
    let tags: TagSource = diskTagSource(submitter, record.name, this.lease);
    if (record.attributes.sharedTags) {
      const share = new SharedTagShare(new SharedTagSet(submitter.redis, submitter.keys), record.name, this.lease);
      this.lease.attach(share);
      tags = share;
    }
    const p = opts.placement;
    this.driver =
      p.kind === 'local'
        ? new LocalDriver(
            p.factory(
              record,
              new OwnedBacking(
                p.pages,
                record.name,
                this.lease,
                p.sync,
                (err) => tel.log?.error({ disk: record.name, err: (err as Error).message }, 'flush failed'),
                p.bandwidth(record.name),
                (cache) => tel.metrics?.observeCache(record.name, cache, PAGE_SIZE),
                p.zones,
              ),
              p.events(record.name),
            ),
            new TagBudget(tagSpace, tags, this.lease, onError),
            this.lease,
            onError,
            (hctx, n) => tel.metrics?.requeues.inc({ disk: record.name, hctx: String(hctx) }, n),
          )
        : new RemoteDriver(
            record.name,
            tagSpace,
            submitter,
            this.lease,
            onError,
            record.attributes.sharedTags ? new TagBudget(tagSpace, tags, this.lease, onError) : undefined,
          );
    // The driver runs here: its requeues are a series from the start, as in the rnull service.
    if (p.kind === 'local')
      for (let h = 0; h < tagSpace.nrHwQueues; h++) tel.metrics?.requeues.inc({ disk: record.name, hctx: String(h) }, 0);
    const a = record.attributes;
    this.engine = new Engine<void, void>(geometryOf(record), new TagSet({ ...tagSpace, timeoutMs: a.timeoutMs }), this.driver, {
      maxSubmissionBytes: MAX_SUBMISSION_BYTES,
      timeoutScanMs: opts.timeoutScanMs,
      completionTimer: p.kind === 'local' ? (dueMs) => p.timer.at(dueMs) : undefined,
      onTimeout: (rq) => {
        tel.log?.warn({ token: formatToken(record.name, rq.token), timeoutMs: this.record.attributes.timeoutMs }, 'request timed out');
        // A remote write's payload waits in rqdata for a redelivery (I9); once the owner
        // gave up on the request, no late run may write it over a newer acknowledged write.
        if (p.kind === 'remote' && rq.op === ReqOp.WRITE) {
          const t = rq.token;
          void submitter.forgetPayload(record.name, this.lease.epoch, t.hctx, t.tag, t.gen).catch(() => undefined);
        }
      },
    });
    this.engine.table.onTagFreed((hctx, tag) => this.driver.tagFreed(hctx, tag));
  }

  get record(): DiskRecord {
    return this.recordValue;
  }

  /** An attribute change that keeps the engine: the driver takes it for its next batch. */
  set record(record: DiskRecord) {
    this.recordValue = record;
    this.driver.setAttributes?.(record.attributes);
  }

  get name(): string {
    return this.record.name;
  }

  get nrHwQueues(): number {
    return this.tagSpace.nrHwQueues;
  }

  /** Registers the owner epoch; the queue takes IO only after this resolved. */
  async open(): Promise<void> {
    await this.lease.open();
  }

  /** Submissions not yet answered here. */
  get inFlight(): number {
    return this.engine.pending;
  }

  tagsInUse(): number[] {
    return this.engine.tagsInUse();
  }

  /** `submit_bio` of a checked submission; resolves once, after all its requests ended. */
  async submit(checked: CheckedSubmission, cpu: number, client: number): Promise<BioResult> {
    const t0 = process.hrtime.bigint();
    const c = await this.engine.submit({
      op: checked.op,
      sector: checked.sector,
      bytes: checked.bytes,
      data: checked.data,
      flags: checked.flags,
      cpu,
      client,
    });
    const latencyNs = process.hrtime.bigint() - t0;
    const hctx = cpu % this.nrHwQueues;
    const { metrics, log } = this.tel;
    metrics?.recordIo(this.name, hctx, checked.op, c.status, checked.bytes, Number(latencyNs) / 1e9);
    if (c.status === BlkStatus.TIMEOUT) metrics?.timeouts.inc({ disk: this.name });
    if (c.status !== BlkStatus.OK && c.status !== BlkStatus.TIMEOUT) {
      log?.error({ disk: this.name, status: BlkStatus[c.status] ?? c.status, op: checked.op }, `io error: ${c.error ?? ''}`);
    }
    const data = c.data ? Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength) : undefined;
    const message = c.error ?? (c.status === BlkStatus.TIMEOUT ? `timed out after ${this.record.attributes.timeoutMs} ms` : '');
    return { status: c.status, data, message, latencyNs, ...(c.sector !== undefined && { sector: c.sector }) };
  }

  /**
   * One end record of this owner's completion list (I2): ends the request it names, or is
   * refused and counted when it names no live request of this queue.
   */
  endRemote(token: RequestToken, status: number, data: Buffer | undefined, landedSector = 0): OpResult {
    const readWithoutData = this.record.attributes.memoryBacked ? 'error' : 'zeros';
    const r = this.engine.endRemote(token, status, data, undefined, readWithoutData, landedSector);
    if (r < 0) {
      this.tel.metrics?.staleEnds.inc({ disk: this.name, service: this.tel.metrics.service });
      this.tel.log?.warn({ token: formatToken(this.name, token), result: OpResult[r] ?? r }, 'end refused: stale, double or not held here');
    }
    return r;
  }

  private leaseLost(): void {
    if (this.retired) return;
    this.retired = true;
    const n = this.engine.failAll(
      BlkStatus.IOERR,
      `${this.name}: this dispatch instance lost its owner lease (it was presumed dead); retry`,
    );
    this.tel.log?.error({ disk: this.name, epoch: this.lease.epoch, failed: n }, 'owner lease lost');
    this.onRetired(this);
  }

  /** `BlockLayer.abandon`: stops every timer of this queue and releases nothing. */
  abandon(): void {
    this.retired = true;
    void this.lease.close(false);
    void this.driver.close(false);
    this.engine.abandon();
  }

  /** Refuses new IO, waits for the requests here to end, gives the budget back. */
  async close(): Promise<void> {
    await this.engine.close();
    await this.driver.close(!this.retired);
    await this.lease.close(!this.retired);
  }
}
