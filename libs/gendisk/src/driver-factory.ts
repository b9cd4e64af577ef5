// Mirrors a block driver's probe entry (`null_add_dev` making a `nullb` for a configfs
// device): how a library gets the driver of one disk without naming its class. The
// service decides which driver it runs and passes a factory (DESIGN §7); the driver
// host of a worker process (remote placement) and a dispatch instance whose driver runs
// in its own process (local placement) take the same factory.
import type { Operations } from '#blk-mq';
import type { Backing, DiskAttributes } from '#rnull';
import type { DiskRecord } from './disk-record';

/**
 * A driver as a library runs it. Its hctx driver data is the library's: a worker's batch
 * fence, or nothing in a dispatch instance; the driver hands it to its backing untouched.
 * `setAttributes` takes attribute changes that keep the tag space (irqmode, …).
 */
export interface HostedDriver extends Operations<void, unknown> {
  setAttributes?(attributes: DiskAttributes): void;
}

/** Makes the driver of one disk, given the disk and the page-store backing to use. */
export type DriverFactory = (record: DiskRecord, backing: Backing) => HostedDriver;
