// Mirrors the hardware queues' dispatch contexts in an rnull process: per hctx of every
// powered disk, a BatchWorker on its leased batch queue (the hot path), and per disk a
// BullMQ worker on its requeue queue (requests the driver refused with RESOURCE go back
// to their hctx queue after a delay), each running the disk's DriverHost.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HwQueueControl } from '#blk-mq';
import { CodecError, type KeySchema, type Lease } from '#redis-mq';
import { BatchWorker, type LeaseOutcome } from './batch-worker';
import type { DiskDrivers, RequeueJob } from './disk-drivers';
import type { DriverHost } from './driver-host';
import { type ClosableWorker, DiskWorkers } from './disk-workers';
import { workerOptions } from './job-options';

/**
 * Invariants:
 *   - A powered disk with n hardware queues has exactly n batch workers and one requeue
 *     worker here; they close (after their running batches finish) when the disk powers
 *     off, is deleted or is reshaped.
 *   - Up to `concurrency` batches per hctx run at once (several batches in flight).
 *   - A batch taken by a process that dies is delivered again after `stalledIntervalMs`.
 */
export class HctxWorkers {
  private readonly workers = new DiskWorkers();
  private drivers?: DiskDrivers;

  constructor(
    private readonly connection: Redis,
    private readonly keys: KeySchema,
    private readonly concurrency: number,
    private readonly stalledIntervalMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  attach(drivers: DiskDrivers): void {
    this.drivers = drivers;
  }

  /** DiskDrivers' listener: start or stop the workers of `disk`. */
  readonly onHost = (disk: string, host: DriverHost | undefined): Promise<void> =>
    this.workers.replace(disk, () => (host && this.drivers ? this.start(disk, host, this.drivers) : undefined));

  private start(disk: string, host: DriverHost, drivers: DiskDrivers): ClosableWorker[] {
    const list: ClosableWorker[] = [];
    const batchWorkers: BatchWorker[] = [];
    for (let h = 0; h < host.record.attributes.submitQueues; h++) {
      const queue = drivers.queueOf(disk, h);
      const run = async (lease: Lease): Promise<LeaseOutcome> => {
        // Never `drivers.host()`: a reshape's reconcile waits for these workers to close,
        // and they wait for this batch (a deadlock that stranded the disk's batches).
        const current = drivers.current(disk) ?? host;
        try {
          await current.queueBatch(lease, queue.keys.leased);
        } catch (err) {
          if (err instanceof CodecError) {
            this.onError(err);
            return 'drop'; // Not a batch: delivering it again would fail the same way.
          }
          throw err;
        }
        return 'acked';
      };
      batchWorkers.push(
        new BatchWorker(queue, run, { concurrency: this.concurrency, leaseMs: this.stalledIntervalMs, onError: this.onError }),
      );
    }
    list.push(...batchWorkers);
    host.hwQueues = stoppableQueues(batchWorkers);
    const requeue = new Worker<RequeueJob>(
      this.keys.requeueQueueName(disk),
      (job) => drivers.queueOf(job.data.disk, job.data.hctx).push(Buffer.from(job.data.message, 'base64')),
      workerOptions(this.connection, this.keys, 1, this.stalledIntervalMs),
    );
    requeue.on('error', () => undefined);
    list.push(requeue);
    return list;
  }

  /** Running batches finish; no new batch is taken. */
  close(): Promise<void> {
    return this.workers.close();
  }
}

/**
 * The disk's hardware queues in this process as its driver stops them (`Hctx.queue`): a
 * stopped hctx's worker claims nothing until the queues start again. Batches already
 * claimed still run; other processes stop their own workers when their driver is refused.
 */
function stoppableQueues(workers: readonly BatchWorker[]): HwQueueControl {
  return {
    stopHwQueues: () => workers.forEach((w) => w.pause()),
    startStoppedHwQueues: () => workers.forEach((w) => w.resume()),
    isStopped: (hctx) => workers[hctx]?.paused ?? false,
  };
}
