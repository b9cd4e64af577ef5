// Mirrors the softirq (`blk_mq_complete_request` -> `blk_done_softirq`) and hrtimer
// completion paths: workers of the softirq and timer batch queues that end requests
// through the driver's `complete`.
import type { Redis } from 'ioredis';
import { BatchQueue, type KeySchema } from '#redis-mq';
import { type EndBatch, QueueNames } from '../rq-batch';
import type { Telemetry } from '../service-logger';
import { BatchWorker } from './batch-worker';
import type { DiskDrivers } from './disk-drivers';
import { PreciseTimer } from './precise-timer';

/** Timer batches wait inside the worker: this many may wait at once, at least. */
const TIMER_CONCURRENCY = 256;

/**
 * Invariants:
 *   - A timer batch stays leased until its requests ended, so a process that dies with
 *     armed timers has them delivered again (late, never lost).
 *   - A batch of a disk that no longer exists is dropped: its table is gone with it.
 */
export class CompletionWorkers {
  readonly timer: PreciseTimer;
  private readonly workers: BatchWorker<EndBatch>[];
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
    const queue = (name: string) => new BatchQueue(connection, name, keys.sharedQueue(name));
    this.workers = [
      new BatchWorker<EndBatch>(queue(QueueNames.softirq), (batch) => this.end(batch), { concurrency, leaseMs: stalledIntervalMs }),
      new BatchWorker<EndBatch>(
        queue(QueueNames.timer),
        async (batch) => {
          await this.timer.at(batch.dueMs ?? 0);
          await this.end(batch);
        },
        { concurrency: Math.max(TIMER_CONCURRENCY, concurrency), leaseMs: stalledIntervalMs },
      ),
    ];
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
