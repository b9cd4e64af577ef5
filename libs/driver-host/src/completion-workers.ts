// Mirrors the softirq (`blk_mq_complete_request` -> `blk_done_softirq`) and hrtimer
// completion paths: per powered disk, workers of its softirq and timer batch queues that
// end requests through the driver's `complete` and send the ends to their owner.
import { CodecError, decodeEnds, type Lease } from '#redis-mq';
import { PreciseTimer, type Telemetry } from '#service-kit';
import { BatchWorker, type LeaseOutcome } from './batch-worker';
import type { DiskDrivers } from './disk-drivers';
import type { DriverHost } from './driver-host';
import { DiskWorkers } from './disk-workers';

/** Timer batches wait inside the worker: this many may wait at once per disk, at least. */
const TIMER_CONCURRENCY = 256;

/**
 * Invariants:
 *   - A timer batch stays leased until its requests ended, so a process that dies with
 *     armed timers has them delivered again (late, never lost).
 *   - A disk has softirq and timer workers here exactly while it has a host.
 */
export class CompletionWorkers {
  readonly timer: PreciseTimer;
  private readonly workers = new DiskWorkers<BatchWorker>();
  private drivers?: DiskDrivers;

  constructor(
    private readonly concurrency: number,
    private readonly stalledIntervalMs: number,
    private readonly tel: Telemetry = {},
  ) {
    this.timer = new PreciseTimer(tel.metrics);
  }

  attach(drivers: DiskDrivers): void {
    this.drivers = drivers;
    this.tel.metrics?.watchQueues(() => this.workers.disks().flatMap((d) => [drivers.queueOf(d, 'softirq'), drivers.queueOf(d, 'timer')]));
  }

  /** DiskDrivers' listener: start or stop the completion workers of `disk`. */
  readonly onHost = (disk: string, host: DriverHost | undefined): Promise<void> =>
    this.workers.replace(disk, () => (host && this.drivers ? this.start(disk, host, this.drivers) : undefined));

  private start(disk: string, host: DriverHost, drivers: DiskDrivers): BatchWorker[] {
    const onError = (err: unknown) =>
      this.tel.log?.warn({ disk, err: (err as Error).message }, 'completion batch failed; delivered again after its lease');
    const worker = (which: 'softirq' | 'timer', concurrency: number) => {
      const queue = drivers.queueOf(disk, which);
      return new BatchWorker(queue, (lease) => this.end(drivers.current(disk) ?? host, lease, queue.keys.leased, which === 'timer'), {
        concurrency,
        leaseMs: this.stalledIntervalMs,
        onError,
      });
    };
    return [worker('softirq', this.concurrency), worker('timer', Math.max(TIMER_CONCURRENCY, this.concurrency))];
  }

  /**
   * Runs one completion batch on `host`: the disk's host when the batch was taken, or the
   * one these workers were started for (never `DiskDrivers.host()`, which waits for a
   * reshape that waits for these workers to close: a deadlock).
   */
  private async end(host: DriverHost, lease: Lease, leasedKey: string, timed: boolean): Promise<LeaseOutcome> {
    let decoded: ReturnType<typeof decodeEnds>;
    try {
      decoded = decodeEnds(lease.body);
    } catch (err) {
      if (err instanceof CodecError) return 'drop';
      throw err;
    }
    if (timed) await this.timer.at(decoded.header.atMs);
    await host.completeBatch(lease, leasedKey, decoded.header, decoded.ends);
    return 'acked';
  }

  close(): Promise<void> {
    return this.workers.close();
  }
}
