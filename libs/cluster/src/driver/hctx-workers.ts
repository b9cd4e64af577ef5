// Mirrors the hardware queues' dispatch contexts in an rnull process: per hctx of every
// powered disk, a BatchWorker on its batch queue (the hot path) and a BullMQ worker on its
// requeue queue (delayed re-dispatch of requests the driver refused with RESOURCE), each
// running the DriverHost on the batches it takes.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { BatchQueue, type KeySchema } from '#redis-mq';
import { QueueNames, type RqBatch } from '../rq-batch';
import { BatchWorker } from './batch-worker';
import type { DiskDrivers } from './disk-drivers';
import type { DriverHost } from './driver-host';
import { workerOptions } from './job-options';

interface HctxWorker {
  close(): Promise<void>;
}

/**
 * Invariants:
 *   - A powered disk with n hardware queues has exactly n batch workers and n requeue
 *     workers here; they close (after their running batches finish) when the disk powers
 *     off, is deleted or is reshaped.
 *   - Up to `concurrency` batches per hctx run at once (several batches in flight).
 *   - A batch taken by a process that dies is delivered again after `stalledIntervalMs`.
 */
export class HctxWorkers {
  private readonly workers = new Map<string, HctxWorker[]>();
  private drivers?: DiskDrivers;

  constructor(
    private readonly connection: Redis,
    private readonly keys: KeySchema,
    private readonly concurrency: number,
    private readonly stalledIntervalMs: number,
  ) {}

  attach(drivers: DiskDrivers): void {
    this.drivers = drivers;
  }

  /** DiskDrivers' listener: start or stop the workers of `disk`. */
  readonly onHost = async (disk: string, host: DriverHost | undefined): Promise<void> => {
    const old = this.workers.get(disk);
    this.workers.delete(disk);
    if (old) await Promise.all(old.map((w) => w.close()));
    if (!host) return;
    const run = async (batch: RqBatch) => {
      const current = (await this.drivers?.host(batch.disk)) ?? host;
      await current.queueBatch(batch);
    };
    const list: HctxWorker[] = [];
    for (let h = 0; h < host.record.attributes.submitQueues; h++) {
      const queue = new BatchQueue(this.connection, QueueNames.hctx(disk, h), this.keys.hctxQueue(disk, h));
      list.push(new BatchWorker<RqBatch>(queue, run, { concurrency: this.concurrency, leaseMs: this.stalledIntervalMs }));
      const requeue = new Worker<RqBatch>(QueueNames.requeue(disk, h), (job) => run(job.data), workerOptions(this.connection, this.keys, 1, this.stalledIntervalMs));
      requeue.on('error', () => undefined);
      list.push(requeue);
    }
    this.workers.set(disk, list);
  };

  /** Running batches finish; no new batch is taken. */
  async close(): Promise<void> {
    const all = [...this.workers.values()].flat();
    this.workers.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}
