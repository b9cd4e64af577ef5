// Mirrors what null_blk's badblocks_once does to the configfs `badblocks` list
// (`badblocks_clear` from `null_handle_badblocks`), for a cluster where every process
// that runs the driver holds its own copy of the list: a hit is counted and logged where
// it happened, and an entry the driver cleared is cleared in the registry too, through
// gendisk like any write of the file, so every other copy follows (DESIGN I10).
import type { Telemetry } from '#service-kit';
import type { BadBlockEvent } from '#rnull';
import type { DriverEvents } from './driver-factory';

/** Sends one write of a disk's `badblocks` file to gendisk ("-START-END"). */
export type BadBlocksWriter = (disk: string, command: string) => Promise<unknown>;

/**
 * Contract: every hit increments `rnull_badblock_hits_total{disk}` and logs one line; a
 * hit that cleared its entry (badblocks_once) sends "-FIRST-LAST" for that entry to
 * gendisk once. A failed send is logged and not retried: the entry then stays in the
 * registry, so the other processes' copies keep it (and this one's, once the list changes).
 */
export class BadBlockReporter {
  constructor(
    private readonly tel: Telemetry,
    private readonly writer?: BadBlocksWriter,
  ) {}

  /** The events of one disk's driver. */
  eventsFor(disk: string): DriverEvents {
    this.tel.metrics?.badBlockHits.inc({ disk }, 0); // A series from the start: rate() reads 0, not nothing.
    return { badBlockHit: (e) => this.hit(disk, e) };
  }

  /** Counts and logs the hit; for a cleared entry, returns the send of its clear (it never rejects). */
  private hit(disk: string, e: BadBlockEvent): Promise<unknown> | undefined {
    this.tel.metrics?.badBlockHits.inc({ disk });
    const last = e.firstBad + e.badSectors - 1;
    this.tel.log?.info(
      {
        disk,
        sector: e.sector,
        sectors: e.sectors,
        firstBad: e.firstBad,
        badSectors: e.badSectors,
        transferred: e.transferredSectors,
        cleared: e.cleared,
      },
      'IO hit a bad range: IOERR',
    );
    if (!e.cleared || !this.writer) return undefined;
    return this.writer(disk, `-${e.firstBad}-${last}`).catch((err: unknown) =>
      this.tel.log?.warn({ disk, err: (err as Error).message }, 'clearing a once-bad range in the registry failed'),
    );
  }
}

/** The writer that sends the command as a GenDisk `ConfigureDisk` (dispatch and the rnull service). */
export function badBlocksWriterOf(gendisk: { call<T>(method: string, req: unknown): Promise<T> }): BadBlocksWriter {
  return (disk, command) => gendisk.call('ConfigureDisk', { name: disk, attributes: { badblocks: command } });
}
