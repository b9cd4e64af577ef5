// Mirrors the blk-mq core of one dispatch instance: a request queue per powered disk,
// following the disk registry, with `submit` as `submit_bio` for the client APIs.
import type { Redis } from 'ioredis';
import { BlkStatus, type BlkZone, ReqOp, type TagSpaceConfig } from '#blk-mq';
import {
  BatchSubmitter,
  FencedPages,
  DiskBandwidth,
  isRedisCluster,
  type KeySchema,
  LeasedQueue,
  NO_REPLICA_WAIT,
  OwnerRegistry,
  readTagSpace,
  ReplicaSync,
  type ReplicaSyncOptions,
  ZoneTable,
} from '#redis-mq';
import {
  DEFAULT_OWNER_LEASE_MS,
  DiskNotFoundError,
  DiskNotZonedError,
  InvalidArgumentError,
  KeyedSerial,
  OutOfRangeError,
  nowMsPrecise,
  PreciseTimer,
  QueueNames,
  type Telemetry,
  UnavailableError,
} from '#service-kit';
import { type DiskDirectory, type DiskRecord, type DriverEvents, type DriverFactory, isFrozen } from '#gendisk';
import { capacitySectors, type DiskAttributes, discardSupported, keysWhere } from '#rnull';
import { CompletionRouter } from './completion-router';
import { type BioResult, DiskQueue, type DriverPlacement } from './disk-queue';
import { type CheckedSubmission, checkSubmission, type WireSubmission } from './submission-check';
import { ZoneCensusReader } from './zone-census';

export type { BioResult } from './disk-queue';

/** How long `stop` waits for queues that still hold requests (SIGTERM drained before), ms. */
const STOP_WAIT_MS = 1000;

export interface BlockLayerOptions {
  /** How often each engine scans for timed-out requests, ms. */
  readonly timeoutScanMs: number;
  /** The owner lease (`OWNER_LEASE_MS`), ms. */
  readonly ownerLeaseMs?: number;
  /**
   * `DRIVER_PLACEMENT=local`: the driver this factory makes runs in this process, on the
   * shared page store; without it, batches go to the worker processes (remote placement).
   */
  readonly localDriver?: DriverFactory;
  /** Where each disk's local driver reports (bad-block hits); default: nowhere. */
  readonly driverEvents?: (disk: string) => DriverEvents;
  /** What FLUSH / FUA wait for with a local driver (`REDIS_FLUSH_REPLICAS`); default: nothing. */
  readonly flush?: ReplicaSyncOptions;
}

/**
 * Invariants:
 *   - A disk has a DiskQueue here from its first power-on until it is deleted, an attribute
 *     its engine is built from changes (the tag space only when idle: gendisk refuses
 *     otherwise), or its owner lease is lost: powering off refuses
 *     new IO (submission check) while requests in flight still end through the same queue.
 *   - A queue that is replaced while it holds requests stays reachable (predecessor, or
 *     leaving) until they ended, so their end records still find it; then it closes.
 *   - While the disk's record is frozen (I14) no submission enters an engine: each waits
 *     until the thawed record's queue is open here (or the freeze deadline passed), and
 *     the queue of the frozen shape leaves, drains and closes, giving its budget back.
 *   - `submit` either throws (the submission never entered the block layer: bad input,
 *     unknown or powered-off disk) or resolves once, after every request of it ended.
 */
export class BlockLayer {
  private readonly queues = new Map<string, DiskQueue>();
  /** Queues that left `queues` (lease lost, or the disk froze: I14) until their requests ended. */
  private readonly leaving = new Set<DiskQueue>();
  /** Per frozen disk, the submissions held back until it thaws (blk_queue_enter's wait, I14). */
  private readonly thaws = new Map<string, Thaw>();
  /** Submissions waiting in `thaws`. */
  private heldBack = 0;
  private readonly opening = new KeyedSerial();
  private readonly router: CompletionRouter;
  private readonly submitter: BatchSubmitter;
  private readonly owners: OwnerRegistry;
  private readonly placement: DriverPlacement;
  private readonly zones: ZoneTable;
  private nextCpu = 0;

  constructor(
    private readonly redis: Redis,
    blocking: Redis,
    private readonly keys: KeySchema,
    private readonly directory: DiskDirectory,
    private readonly opts: BlockLayerOptions,
    private readonly tel: Telemetry = {},
  ) {
    this.submitter = new BatchSubmitter(redis, keys);
    this.owners = new OwnerRegistry(redis, keys);
    this.zones = new ZoneTable(redis, keys);
    this.placement = opts.localDriver
      ? {
          kind: 'local',
          factory: opts.localDriver,
          events: opts.driverEvents ?? (() => ({})),
          pages: new FencedPages(redis, keys),
          sync: new ReplicaSync(redis, keys, opts.flush ?? NO_REPLICA_WAIT),
          bandwidth: (disk) => new DiskBandwidth(redis, keys, disk),
          timer: new PreciseTimer(tel.metrics),
          zones: new ZoneTable(redis, keys),
        }
      : { kind: 'remote' };
    this.router = new CompletionRouter(
      blocking,
      keys,
      () => this.everyQueue(),
      (err) => tel.log?.warn({ err: (err as Error).message }, 'malformed end message dropped'),
      (q, sentAtMs) => tel.metrics?.recycleLag.observe({ disk: q.name }, Math.max(0, nowMsPrecise() - sentAtMs) / 1000),
    );
    tel.metrics?.watchTags(() =>
      [...this.queues.values()].flatMap((q) => q.tagsInUse().map((value, hctx) => ({ labels: { disk: q.name, hctx }, value }))),
    );
    tel.metrics?.watchInFlight(() => [...this.queues.values()].map((q) => ({ labels: { disk: q.name }, value: q.inFlight })));
    tel.metrics?.watchQueues(() =>
      [...this.queues.values()].flatMap((q) =>
        Array.from({ length: q.nrHwQueues }, (_, h) => new LeasedQueue(redis, QueueNames.hctx(q.name, h), keys.hctxQueue(q.name, h))),
      ),
    );
    const zoneCensus = new ZoneCensusReader(redis, keys);
    tel.metrics?.watchZones(() => zoneCensus.read(directory.all().flatMap((r) => (r.power && r.attributes.zoned ? [r.name] : []))));
  }

  async start(): Promise<void> {
    this.directory.on('change', (name, record) => void this.follow(name, record));
    await Promise.all(this.directory.all().map((r) => this.follow(r.name, r)));
    this.router.start();
  }

  /** Submissions that this instance has not answered yet. */
  get inFlight(): number {
    let n = this.heldBack;
    for (const q of this.everyQueue()) n += q.inFlight;
    return n;
  }

  /** The current queues, the predecessors and leaving queues that still hold requests. */
  private everyQueue(): DiskQueue[] {
    const out: DiskQueue[] = [];
    for (const q of this.queues.values()) {
      for (let p: DiskQueue | undefined = q; p; p = p.predecessor) if (p === q || p.inFlight > 0) out.push(p);
    }
    for (const q of this.leaving) {
      if (q.inFlight > 0) out.push(q);
      else this.leaving.delete(q);
    }
    return out;
  }

  /**
   * Whether a submission may start. One Redis that is not ready fails it at once
   * (UNAVAILABLE, the client retries). A Redis Cluster's client is not ready while it
   * follows a failover, which its commands ride through (DESIGN I9): only a client closed
   * for good fails it.
   */
  private redisAnswers(): boolean {
    return isRedisCluster(this.redis) ? this.redis.status !== 'end' : this.redis.status === 'ready';
  }

  diskQueue(name: string): DiskQueue | undefined {
    return this.queues.get(name);
  }

  /**
   * `submit_bio`: checks `s`, then the disk's engine splits, merges, plugs and tags it on
   * the hctx of `cpu` (round robin when undefined); resolves when it ended. `client`
   * names the submitter for fair tag waits (a stream or connection).
   */
  submit(s: WireSubmission, cpu?: number, client?: number): Promise<BioResult> {
    if (!this.redisAnswers()) throw new UnavailableError(`redis unavailable (${this.redis.status}); retry shortly`);
    const known = this.directory.get(s.disk);
    const q = this.queues.get(s.disk);
    if (known && isFrozen(known)) return this.afterThaw(known).then(() => this.submit(s, cpu, client));
    if (known?.power && q && !q.retired) return this.enqueue(q, checkSubmission(s, known), cpu, client);
    return this.submitSlow(s, cpu, client);
  }

  /**
   * null_report_zones (the ReportZones RPC): up to `count` zones (0: all) from the one that
   * holds `sector`, as the zone table every driver reads has them (I17). Refused:
   * an unknown disk (NOT_FOUND), one not zoned (FAILED_PRECONDITION), powered off
   * (UNAVAILABLE), a sector past the end (OUT_OF_RANGE).
   */
  async reportZones(disk: string, sector: number, count: number): Promise<BlkZone[]> {
    if (!disk) throw new InvalidArgumentError('disk', 'is required');
    // A record not (yet) powered here may be older than the registry's: read it again.
    let record = this.directory.get(disk);
    if (!record?.power) record = await this.directory.reloadOne(disk);
    if (!record) throw new DiskNotFoundError(disk);
    if (!record.attributes.zoned) throw new DiskNotZonedError(disk);
    if (!record.power) throw new UnavailableError(`disk ${JSON.stringify(disk)} is powered off: its zones are laid out at power on`);
    const capacity = capacitySectors(record.attributes);
    if (sector >= capacity) throw new OutOfRangeError('sector', `${sector} is past the end of the disk (${capacity} sectors)`);
    return this.zones.report(disk, sector, count > 0 ? count : Number.MAX_SAFE_INTEGER);
  }

  /**
   * Resolves when the frozen disk thaws here (its thawed record's queue is open) or its
   * freeze deadline passed (gendisk died mid-freeze). Counted in `inFlight` meanwhile.
   */
  private async afterThaw(record: DiskRecord): Promise<void> {
    let thaw = this.thaws.get(record.name);
    if (!thaw) {
      let wake!: () => void;
      const promise = new Promise<void>((resolve) => (wake = resolve));
      const timer = setTimeout(() => this.thaw(record.name), Math.max(0, (record.frozenUntilMs ?? 0) - Date.now()) + 1);
      timer.unref();
      thaw = { promise, wake, timer };
      this.thaws.set(record.name, thaw);
    }
    this.heldBack += 1;
    try {
      await thaw.promise;
    } finally {
      this.heldBack -= 1;
    }
  }

  /** Lets the submissions held back for `disk` go (they are submitted again, in order). */
  private thaw(disk: string): void {
    const thaw = this.thaws.get(disk);
    if (!thaw) return;
    this.thaws.delete(disk);
    clearTimeout(thaw.timer);
    thaw.wake();
  }

  /**
   * The disk is unknown, off or not open here yet: the registry event may still be on its
   * way (a client that just created or powered the disk), so read the record and wait for
   * the queue to open before answering NOT_FOUND / UNAVAILABLE.
   */
  private async submitSlow(s: WireSubmission, cpu?: number, client?: number): Promise<BioResult> {
    const record = s.disk ? await this.directory.reloadOne(s.disk) : undefined;
    const checked = checkSubmission(s, record);
    if (record && isFrozen(record)) {
      await this.afterThaw(record);
      return this.submit(s, cpu, client);
    }
    await this.follow(checked.disk.name, record);
    const q = this.queues.get(checked.disk.name);
    if (!q || q.retired) throw new UnavailableError(`disk ${JSON.stringify(s.disk)} has no tag space here yet; retry shortly`);
    return this.enqueue(q, checked, cpu, client);
  }

  private enqueue(q: DiskQueue, checked: CheckedSubmission, cpu?: number, client?: number): Promise<BioResult> {
    const a = checked.disk.attributes;
    if (checked.op === ReqOp.DISCARD && !discardSupported(a)) {
      const why = a.zoned ? 'ignored in zoned mode' : 'discard=0';
      return Promise.resolve({ status: BlkStatus.NOTSUPP, message: `discard: not enabled on this disk (${why})`, latencyNs: 0n });
    }
    const c = cpu ?? this.nextCpu++;
    return q.submit(checked, c, client ?? c);
  }

  /** Opens, reshapes or closes the disk's queue after a registry change. */
  private async follow(name: string, record: DiskRecord | undefined): Promise<void> {
    if (!record?.power) this.tel.metrics?.forgetCache(name); // its cache was dropped (I13)
    // A failure (Redis away) leaves the queue as it was; the next event or submission retries.
    await this.opening
      .run(name, () => this.reconcile(name, record))
      .catch((err) =>
        this.tel.log?.warn(
          { disk: name, err: (err as Error).message },
          'opening the disk queue failed; retried with the next event or submission',
        ),
      );
    // The held-back submissions go once the thawed record's queue is open (or it failed
    // to open: they then meet the same error as any other submission).
    if (!record || !isFrozen(record)) this.thaw(name);
  }

  private async reconcile(name: string, record: DiskRecord | undefined): Promise<void> {
    const current = this.queues.get(name);
    if (record && isFrozen(record)) {
      // I14: the queue takes nothing new (`submit` holds submissions back), drains, and
      // its close gives every tag of this owner back, so gendisk can re-lay the tag space.
      if (current) this.leave(current, 'frozen');
      return;
    }
    const want = record;
    // A power on lays the tag space out anew (gendisk): a queue opened while the disk was
    // off, on the tag space of its last power on, does not outlive a different layout.
    const stale =
      current !== undefined &&
      want?.power === true &&
      !current.record.power &&
      !sameTagSpace(await readTagSpace(this.redis, this.keys, name), current.tagSpace);
    if (current && !current.retired && want && !stale && sameEngine(current.record, want)) {
      // Attribute change that leaves the tag space and the queue limits alone: keep the queue.
      current.record = want;
      return;
    }
    // A queue that still holds requests lives on as the new one's predecessor until they end.
    const retiring = current && current.inFlight > 0 ? current : undefined;
    if (current) {
      this.queues.delete(name);
      // The predecessor closes once what it holds ended: its owner epoch and budget go back.
      if (retiring) void retiring.close().catch(() => undefined);
      else await current.close();
    }
    if (!want) return;
    const tagSpace: TagSpaceConfig | undefined = await readTagSpace(this.redis, this.keys, name);
    if (!tagSpace) {
      if (retiring) this.queues.set(name, retiring);
      return; // Never powered on: no tag space yet.
    }
    const q = new DiskQueue(want, tagSpace, this.submitter, this.owners, this.queueOptions(), (lost) => this.retire(lost), this.tel);
    await q.open();
    q.predecessor = retiring;
    this.queues.set(name, q);
  }

  private queueOptions() {
    return { leaseMs: this.opts.ownerLeaseMs ?? DEFAULT_OWNER_LEASE_MS, timeoutScanMs: this.opts.timeoutScanMs, placement: this.placement };
  }

  /** A queue lost its owner lease: it answers what it held with errors; a new one opens. */
  private retire(q: DiskQueue): void {
    this.leave(q, 'lease lost');
    void this.follow(q.name, this.directory.get(q.name));
  }

  /**
   * Takes `q` out of `queues`; it stays reachable for its end records (and its
   * predecessors with it) until what it holds ended, then closes, giving its budget back.
   */
  private leave(q: DiskQueue, why: 'lease lost' | 'frozen'): void {
    if (this.queues.get(q.name) === q) this.queues.delete(q.name);
    for (let p: DiskQueue | undefined = q; p; p = p.predecessor) {
      this.leaving.add(p);
      const closing = p;
      void closing.close().then(
        () => this.tel.log?.info({ disk: closing.name, epoch: closing.lease.epoch, why }, 'disk queue closed'),
        (err) => this.tel.log?.warn({ disk: closing.name, err: (err as Error).message, why }, 'closing the disk queue failed'),
      );
    }
  }

  /** Waits until no request of this instance is in flight, or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.inFlight === 0;
  }

  /**
   * What a SIGKILL leaves behind, for tests of owner death (I3): the completion router and
   * every timer stop, nothing is released, no lease is renewed, nothing held ends.
   */
  async abandon(): Promise<void> {
    for (const q of this.queues.values()) q.abandon();
    this.queues.clear();
    for (const disk of [...this.thaws.keys()]) this.thaw(disk);
    await this.router.stop();
    if (this.placement.kind === 'local') this.placement.sync.close();
  }

  /** Closes every queue (at most `STOP_WAIT_MS` for requests still held), then the router. */
  async stop(): Promise<void> {
    const closing = Promise.all([...this.queues.values(), ...this.leaving].map((q) => q.close()));
    await Promise.race([closing, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    await this.router.stop();
    if (this.placement.kind === 'local') this.placement.sync.close();
  }
}

/** The submissions of one frozen disk wait on `promise`; `wake` (or `timer`, at its deadline) releases them. */
interface Thaw {
  readonly promise: Promise<void>;
  readonly wake: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Attributes the engine is built from (the table's `reshapes` other than 'nothing'): a change of any of them opens a new queue. */
const ENGINE_ATTRIBUTES: readonly (keyof DiskAttributes)[] = keysWhere((a) => a.reshapes !== 'nothing');

function sameTagSpace(a: TagSpaceConfig | undefined, b: TagSpaceConfig): boolean {
  return (
    a !== undefined &&
    a.nrHwQueues === b.nrHwQueues &&
    a.queueDepth === b.queueDepth &&
    a.sharedTagBitmap === b.sharedTagBitmap &&
    a.recycle === b.recycle
  );
}

function sameEngine(a: DiskRecord, b: DiskRecord): boolean {
  return ENGINE_ATTRIBUTES.every((k) => a.attributes[k] === b.attributes[k]);
}
