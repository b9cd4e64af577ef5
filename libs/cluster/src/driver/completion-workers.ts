// Mirrors the softirq (`blk_mq_complete_request` -> `blk_done_softirq`) and hrtimer
// completion paths: workers of the softirq and timer queues that end requests through
// the driver's `complete`.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import { type EndBatch, QueueNames } from '../rq-batch';
import type { Telemetry } from '../service-logger';
import type { DiskDrivers } from './disk-drivers';
import { workerOptions } from './job-options';
import { PreciseTimer } from './precise-timer';

/**
 * Invariants:
 *   - A timer batch's job stays active until its requests ended, so a process that dies
 *     with armed timers has them redelivered (late, never lost).
 *   - A batch of a disk that no longer exists is dropped: its table is gone with it.
 */
export class CompletionWorkers {
  readonly timer: PreciseTimer;
  private readonly workers: Worker<EndBatch>[];
  dropped = 0;

  constructor(
    connection: Redis,
    keys: KeySchema,
    private readonly drivers: DiskDrivers,
    concurrency: number,
    stalledIntervalMs: number,
    tel: Telemetry = {},
  ) {
    this.timer = new PreciseTimer(tel.metrics);
    tel.metrics?.watchQueues(() => drivers.completionQueues);
    const opts = workerOptions(connection, keys, concurrency, stalledIntervalMs);
    // Timer batches wait inside the worker; let many wait at once.
    const timerOpts = { ...opts, concurrency: Math.max(256, concurrency) };
    this.workers = [
      new Worker<EndBatch>(QueueNames.softirq, (job) => this.end(job.data), opts),
      new Worker<EndBatch>(
        QueueNames.timer,
        async (job) => {
          await this.timer.at(job.data.dueMs ?? 0);
          await this.end(job.data);
        },
        timerOpts,
      ),
    ];
    for (const w of this.workers) w.on('error', () => undefined);
  }

  private async end(batch: EndBatch): Promise<void> {
    const host = await this.drivers.host(batch.disk);
    if (!host) {
      this.dropped += batch.ends.length;
      return;
    }
    await host.completeBatch(batch);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
