// Mirrors the driver's per-disk state in a worker process (rnull's `NullBlkDevice` per
// gendisk): one DriverHost per powered disk, following the registry.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BatchQueue, type KeySchema, PageStore, RedisRequestTable } from '#redis-mq';
import { RnullDriver } from '#rnull';
import type { DiskDirectory } from '../disk-directory';
import type { DiskRecord } from '../disk-record';
import { type EndBatch, QueueNames, type RqBatch } from '../rq-batch';
import type { Telemetry } from '../service-logger';
import { DriverHost, type DriverHostSinks } from './driver-host';
import { BATCH_JOB_OPTIONS } from './job-options';
import { RedisBacking } from './redis-backing';
import { KeyedSerial } from '../keyed-serial';

/**
 * Invariants:
 *   - `host(disk)` answers for every disk whose table exists (powered now or before), with
 *     the attributes the registry holds now; a disk whose tag space changed gets a new host.
 *   - `listener` hears every disk that gained or lost its host.
 */
export class DiskDrivers implements DriverHostSinks {
  private readonly hosts = new Map<string, DriverHost>();
  private readonly opening = new KeyedSerial();
  private readonly softirqQueue: BatchQueue;
  private readonly timerQueue: BatchQueue;
  /** BullMQ queues of the delayed requeue path (`blk_mq_delay_kick_requeue_list`), by name. */
  private readonly requeueQueues = new Map<string, Queue>();
  private readonly pages: PageStore;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
    private readonly directory: DiskDirectory,
    private readonly listener: (disk: string, host: DriverHost | undefined) => Promise<void> = async () => undefined,
    private readonly tel: Telemetry = {},
  ) {
    this.softirqQueue = new BatchQueue(redis, QueueNames.softirq, keys.sharedQueue(QueueNames.softirq));
    this.timerQueue = new BatchQueue(redis, QueueNames.timer, keys.sharedQueue(QueueNames.timer));
    this.pages = new PageStore(redis, keys);
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

  /** The softirq and timer queues (for the queue-depth gauge of the completion service). */
  get completionQueues(): BatchQueue[] {
    return [this.softirqQueue, this.timerQueue];
  }

  all(): DriverHost[] {
    return [...this.hosts.values()];
  }

  private follow(name: string, record: DiskRecord | undefined): Promise<unknown> {
    // A failure (Redis away) leaves the host as it was; the next event or batch retries.
    return this.opening.run(name, () => this.reconcile(name, record)).catch(() => undefined);
  }

  private async reconcile(name: string, record: DiskRecord | undefined): Promise<void> {
    const current = this.hosts.get(name);
    // A powered-off disk keeps its host: batches and timers already queued still finish.
    const want = record;
    if (current && want && JSON.stringify(tagShape(current.record)) === JSON.stringify(tagShape(want))) {
      current.record = want;
      (current.driver as RnullDriver).attributes = want.attributes;
      return;
    }
    if (current) {
      this.hosts.delete(name);
      await this.listener(name, undefined);
    }
    if (!want) return;
    let table: RedisRequestTable;
    try {
      table = await RedisRequestTable.open(this.redis, name, { keys: this.keys });
    } catch {
      return; // Never powered on: no tag space, nothing to drive.
    }
    // The backing's page ops go out behind each batch's start: both must use one connection.
    const backing: RedisBacking = new RedisBacking(this.pages, name, (t) => table.slotIndexOf(t), () => driver.attributes.memoryBacked);
    const driver = new RnullDriver(want.attributes, backing);
    const host = new DriverHost(want, table, driver, this, (replyTo) => this.keys.completionNotices(name, replyTo), this.tel, backing);
    this.hosts.set(name, host);
    await this.listener(name, host);
  }

  async softirq(batch: EndBatch): Promise<void> {
    await this.softirqQueue.push(JSON.stringify(batch));
  }

  async timer(batch: EndBatch): Promise<void> {
    await this.timerQueue.push(JSON.stringify(batch));
  }

  async requeue(batch: RqBatch): Promise<void> {
    const name = QueueNames.requeue(batch.disk, batch.hctx);
    let q = this.requeueQueues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis, prefix: this.keys.queuePrefix() });
      this.requeueQueues.set(name, q);
    }
    await q.add('rqs', batch, { ...BATCH_JOB_OPTIONS, delay: 1 });
  }

  async close(): Promise<void> {
    await Promise.all([...this.requeueQueues.values()].map((q) => q.close()));
  }
}

function tagShape(r: DiskRecord) {
  const a = r.attributes;
  return [a.submitQueues, a.hwQueueDepth, a.sharedTags, a.recycle];
}
