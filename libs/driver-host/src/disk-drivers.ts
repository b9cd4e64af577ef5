// Mirrors the driver's per-disk state in a worker process (rnull's `NullBlkDevice` per
// gendisk): one DriverHost per powered disk, following the registry, each with a driver
// made by the factory the service gives (the libraries never name a driver class).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  DiskBandwidth,
  EndWriter,
  FencedPages,
  type KeySchema,
  LeasedQueue,
  NO_REPLICA_WAIT,
  PAGE_SIZE,
  readTagSpace,
  ReplicaSync,
  type ReplicaSyncOptions,
  ZoneTable,
} from '#redis-mq';
import { KeyedSerial, QueueNames, type Telemetry } from '#service-kit';
import { type DiskDirectory, type DiskRecord, type DriverEvents, type DriverFactory, sameTagSpace } from '#gendisk';
import { DriverHost, type DriverHostSink } from './driver-host';
import { FencedBacking } from './fenced-backing';
import { BATCH_JOB_OPTIONS } from './job-options';

/** A requeued batch as a BullMQ job: the batch message, base64 (job data is JSON). */
export interface RequeueJob {
  readonly disk: string;
  readonly hctx: number;
  readonly message: string;
}

/**
 * Invariants:
 *   - `host(disk)` answers for every disk whose tag space exists (powered now or before),
 *     with the attributes the registry holds now; a disk whose tag space changed gets a
 *     new host.
 *   - `listener` hears every disk that gained or lost its host.
 */
export class DiskDrivers implements DriverHostSink {
  private readonly hosts = new Map<string, DriverHost>();
  private readonly opening = new KeyedSerial();
  /** BullMQ queues of the delayed requeue path (`blk_mq_delay_kick_requeue_list`), by disk. */
  private readonly requeueQueues = new Map<string, Queue<RequeueJob>>();
  private readonly pages: FencedPages;
  private readonly ends: EndWriter;
  private readonly sync: ReplicaSync;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
    private readonly directory: DiskDirectory,
    private readonly factory: DriverFactory,
    private readonly listener: (disk: string, host: DriverHost | undefined) => Promise<void> = async () => undefined,
    private readonly tel: Telemetry = {},
    /** What FLUSH / FUA wait for (`REDIS_FLUSH_REPLICAS`, I9); default: nothing. */
    flush: ReplicaSyncOptions = NO_REPLICA_WAIT,
    /** Where each disk's driver reports (bad-block hits); default: nowhere. */
    private readonly eventsFor: (disk: string) => DriverEvents = () => ({}),
  ) {
    this.pages = new FencedPages(redis, keys);
    this.ends = new EndWriter(redis, keys);
    this.sync = new ReplicaSync(redis, keys, flush);
  }

  async start(): Promise<void> {
    this.directory.on('change', (name, record) => void this.follow(name, record));
    await Promise.all(this.directory.all().map((r) => this.follow(r.name, r)));
  }

  /** The host of `disk`, opening it on first use (a batch may arrive before the event). */
  async host(disk: string): Promise<DriverHost | undefined> {
    await this.opening.settled(disk);
    if (!this.hosts.has(disk)) await this.follow(disk, await this.directory.reloadOne(disk));
    return this.hosts.get(disk);
  }

  /**
   * The host of `disk` now, without waiting for a change under way. What a running batch
   * asks: `host()` waits for the reconcile, which waits for the disk's workers to close,
   * which wait for their running batches.
   */
  current(disk: string): DriverHost | undefined {
    return this.hosts.get(disk);
  }

  all(): DriverHost[] {
    return [...this.hosts.values()];
  }

  /** The leased queue of `disk`'s hctx, softirq or timer batches. */
  queueOf(disk: string, which: number | 'softirq' | 'timer'): LeasedQueue {
    return typeof which === 'number'
      ? new LeasedQueue(this.redis, QueueNames.hctx(disk, which), this.keys.hctxQueue(disk, which))
      : new LeasedQueue(this.redis, `${which}.${disk}`, this.keys.diskQueue(disk, which));
  }

  private follow(name: string, record: DiskRecord | undefined): Promise<unknown> {
    // A failure (Redis away) leaves the host as it was; the next event or batch retries.
    return this.opening.run(name, () => this.reconcile(name, record)).catch(() => undefined);
  }

  private async reconcile(name: string, record: DiskRecord | undefined): Promise<void> {
    const current = this.hosts.get(name);
    // A powered-off disk keeps its host: batches and timers already queued still finish.
    const want = record;
    if (!want?.power) this.tel.metrics?.forgetCache(name);
    if (current && want && sameTagSpace(current.record.attributes, want.attributes)) {
      current.record = want;
      current.driver.setAttributes?.(want.attributes);
      return;
    }
    if (current) {
      this.hosts.delete(name);
      await this.listener(name, undefined);
    }
    if (!want) return;
    if (!(await readTagSpace(this.redis, this.keys, name))) return; // Never powered on: nothing to drive.
    const onFlushError = (err: unknown) => this.tel.log?.error({ disk: name, err: (err as Error).message }, 'flush failed');
    const backing = new FencedBacking(
      this.pages,
      name,
      this.sync,
      onFlushError,
      new DiskBandwidth(this.redis, this.keys, name),
      (cache) => this.tel.metrics?.observeCache(name, cache, PAGE_SIZE),
      new ZoneTable(this.redis, this.keys),
    );
    const driver = this.factory(want, backing, this.eventsFor(name));
    const host = new DriverHost(want, driver, this.ends, this, this.tel);
    this.hosts.set(name, host);
    await this.listener(name, host);
  }

  /** Refused requests wait `delay` in a BullMQ delayed job, then go back to their hctx queue. */
  async requeue(disk: string, hctx: number, message: Buffer): Promise<void> {
    let q = this.requeueQueues.get(disk);
    if (!q) {
      q = new Queue<RequeueJob>(this.keys.requeueQueueName(disk), { connection: this.redis, prefix: this.keys.queuePrefix() });
      this.requeueQueues.set(disk, q);
    }
    await q.add('rqs', { disk, hctx, message: message.toString('base64') }, { ...BATCH_JOB_OPTIONS, delay: 1 });
  }

  async forward(disk: string, queue: 'softirq' | 'timer', message: Buffer): Promise<void> {
    await this.queueOf(disk, queue).push(message);
  }

  async close(): Promise<void> {
    this.sync.close();
    await Promise.all([...this.requeueQueues.values()].map((q) => q.close()));
  }
}
