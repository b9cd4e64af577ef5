// Mirrors what null_blk leaves to blktrace and the queue's stats when its bandwidth throttle
// (`mbps`) stops the queues: here every process that runs a disk's driver counts the time its
// queues stood stopped and the requests refused with DEV_RESOURCE, as metrics.
import type { Telemetry } from '#service-kit';
import type { DriverEvents } from './driver-factory';

/**
 * Contract: `rnull_throttled_seconds_total{disk}` and `rnull_throttled_requests_total{disk}`
 * exist (at 0) from the moment a disk's driver is made, and grow by what the driver's
 * throttle reports; nothing is logged per event (there are up to 50 a second).
 */
export class ThrottleReporter {
  constructor(private readonly tel: Telemetry) {}

  /** The throttle events of one disk's driver. */
  eventsFor(disk: string): DriverEvents {
    const m = this.tel.metrics;
    m?.throttledSeconds.inc({ disk }, 0);
    m?.throttledRequests.inc({ disk }, 0);
    return {
      throttled: (requests) => m?.throttledRequests.inc({ disk }, requests),
      throttleEnded: (seconds) => m?.throttledSeconds.inc({ disk }, seconds),
    };
  }
}
