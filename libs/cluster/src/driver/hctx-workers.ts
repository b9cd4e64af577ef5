// Mirrors the hardware queues' dispatch contexts in an rnull process: one BullMQ worker per
// hctx of every powered disk, each running the DriverHost on the batches it takes.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import { QueueNames, type RqBatch } from '../rq-batch';
import type { DiskDrivers } from './disk-drivers';
import type { DriverHost } from './driver-host';
import { workerOptions } from './job-options';

/**
 * Invariants:
 *   - A powered disk with n hardware queues has exactly n workers here; they close (after
 *     their running batches finish) when the disk powers off, is deleted or is reshaped.
 *   - Up to `concurrency` batches per hctx run at once (several batches in flight).
 */
export class HctxWorkers {
  private readonly workers = new Map<string, Worker[]>();
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
    const opts = workerOptions(this.connection, this.keys, this.concurrency, this.stalledIntervalMs);
    const list = Array.from(
      { length: host.record.attributes.submitQueues },
      (_, h) =>
        new Worker<RqBatch>(
          QueueNames.hctx(disk, h),
          async (job) => {
            const current = (await this.drivers?.host(job.data.disk)) ?? host;
            await current.queueBatch(job.data);
          },
          opts,
        ),
    );
    for (const w of list) w.on('error', () => undefined);
    this.workers.set(disk, list);
  };

  /** Running batches finish; no new batch is taken. */
  async close(): Promise<void> {
    const all = [...this.workers.values()].flat();
    this.workers.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}
