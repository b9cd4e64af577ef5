// Mirrors a block driver's probe entry (`null_add_dev` making a `nullb` for a configfs
// device): how a library gets the driver of one disk without naming its class. The
// service decides which driver it runs and passes a factory (DESIGN §7); the driver
// host of a worker process (remote placement) and a dispatch instance whose driver runs
// in its own process (local placement) take the same factory.
import type { Operations } from '#blk-mq';
import type { Backing, BadBlockEvent, DiskAttributes, RequestFaultKind, ThrottleEvents } from '#rnull';
import type { DiskRecord } from './disk-record';

/**
 * A driver as a library runs it. Its hctx driver data is the library's: a worker's batch
 * fence, or nothing in a dispatch instance; the driver hands it to its backing untouched.
 * `setAttributes` takes attribute changes that keep the tag space (irqmode, …).
 */
export interface HostedDriver extends Operations<void, unknown> {
  setAttributes?(attributes: DiskAttributes): void;
}

/** What a driver reports to the library that hosts it (metrics, logs, registry updates); throttling by `mbps` too. */
export interface DriverEvents extends ThrottleEvents {
  /**
   * An IO touched a bad range of the disk's `badblocks` and ended IOERR; for a hit that
   * cleared its entry (badblocks_once), the promise of sending that clear to gendisk.
   */
  badBlockHit?(event: BadBlockEvent): void | Promise<unknown>;
  /** A fault was injected into a request (the disk's `timeout` or `requeue` attribute). */
  injectedFault?(kind: RequestFaultKind): void;
}

/** Makes the driver of one disk, given the disk, the page-store backing to use and where to report. */
export type DriverFactory = (record: DiskRecord, backing: Backing, events?: DriverEvents) => HostedDriver;
