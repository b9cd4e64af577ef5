// Mirrors zone write plugging (block/blk-zoned.c, blk_zone_plug_bio): on a zoned disk at
// most one write per sequential zone is on its way to the driver at a time; the zone's
// later writes wait in its plug, in submission order, and the next one goes when the one
// in flight ends. Writes to a zone then reach the driver in the order they were submitted,
// so a client may keep several sequential writes of a zone in flight.
import type { Bio } from './bio';
import { type ZoneShape, zoneNo } from './blk-zone';
import { ReqOp } from './req-op';

/**
 * Invariants:
 *   - a zone is busy from the admission of a write until `done` for it; while busy, every
 *     other write to the zone waits, FIFO, and is issued by the `done` that precedes it;
 *   - only writes (WRITE, WRITE_ZEROES) to sequential zones are plugged: reads, zone
 *     appends (they land at the write pointer, wherever it is), zone management and
 *     conventional zones pass at once;
 *   - each admitted write is issued exactly once.
 */
export class ZoneWritePlugs {
  /** Per busy zone, the issues of the writes waiting behind the one in flight. */
  private readonly plugs = new Map<number, (() => void)[]>();

  constructor(private readonly shape: ZoneShape) {}

  /** The sequential zone whose write plug `bio` goes through, or undefined. */
  private zoneOf(bio: Bio): number | undefined {
    if (bio.op !== ReqOp.WRITE && bio.op !== ReqOp.WRITE_ZEROES) return undefined;
    const z = zoneNo(this.shape, bio.sector);
    return z >= this.shape.nrConv && z < this.shape.nrZones ? z : undefined;
  }

  /** Writes waiting in plugs (not counting those in flight). */
  get waiting(): number {
    let n = 0;
    for (const q of this.plugs.values()) n += q.length;
    return n;
  }

  /** Runs `issue` now, or once the zone's writes before it have ended. */
  admit(bio: Bio, issue: () => void): void {
    const z = this.zoneOf(bio);
    if (z === undefined) return issue();
    const plug = this.plugs.get(z);
    if (plug) {
      plug.push(issue);
      return;
    }
    this.plugs.set(z, []);
    issue();
  }

  /** The request carrying `bio` ended: the next write of its zone, if any, goes (off this stack). */
  done(bio: Bio): void {
    const z = this.zoneOf(bio);
    if (z === undefined) return;
    const plug = this.plugs.get(z);
    if (!plug) return;
    const next = plug.shift();
    if (next) queueMicrotask(next);
    else this.plugs.delete(z);
  }
}
