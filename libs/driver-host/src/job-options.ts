// BullMQ settings shared by every queue of the cluster: how jobs are kept, retried and
// taken back from a worker that died.
import type { JobsOptions, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';

/**
 * Jobs are batches whose processing is idempotent per request generation (a request that
 * already started or ended is skipped by the table), so a failed or redelivered batch is
 * simply run again. Done jobs are deleted at once; failed ones are kept for inspection.
 */
export const BATCH_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 5,
  backoff: { type: 'fixed', delay: 50 },
};

/** Worker settings: `stalledIntervalMs` bounds how long a dead worker's batches wait. */
export function workerOptions(connection: Redis, keys: KeySchema, concurrency: number, stalledIntervalMs: number): WorkerOptions {
  return {
    connection,
    prefix: keys.queuePrefix(),
    concurrency,
    lockDuration: stalledIntervalMs,
    stalledInterval: stalledIntervalMs,
    maxStalledCount: 1000,
    autorun: true,
  };
}
