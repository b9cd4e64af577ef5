// The zone metrics' source (rnull_zones, rnull_zone_written_sectors,
// rnull_zone_capacity_sectors): per powered zoned disk, how many zones are in each
// condition and how far the write pointers got, read at scrape time from the zone table
// every process shares (KeySchema.zones, I17), through ZoneTable.census (the one reader of
// the table's layout); a zone the table does not list is as the layout left it (EMPTY, or
// FULL with zone_full).
import type { Redis } from 'ioredis';
import { NO_WRITE_POINTER, ZoneCond, type ZoneShape, zoneExtent } from '#blk-mq';
import { type KeySchema, ZoneTable } from '#redis-mq';
import type { ZoneCensus } from '#service-kit';

/**
 * Changed zones above which a disk's census reads only the table's counters (its open and
 * closed zones, exact) instead of every changed zone: one HGETALL of at most this many
 * zones (two fields each) per disk and scrape bounds what a scrape costs Redis.
 */
export const CENSUS_MAX_CHANGED_ZONES = 4096;

/**
 * Contract:
 *   - `read` answers one census per disk given that has a zone table (a disk powered off
 *     meanwhile has none and is left out); a disk whose read fails is left out too.
 *   - A census is exact for a table of at most CENSUS_MAX_CHANGED_ZONES changed zones.
 *     Above, it holds the conventional, open and closed counts only (`writtenSectors`
 *     undefined): the other conditions are unknown, not zero.
 *   - Reads only (HLEN, HMGET, HGETALL); two reads of one table are not one snapshot, so
 *     a zone that changes between them is counted as either read saw it.
 */
export class ZoneCensusReader {
  private readonly table: ZoneTable;

  constructor(redis: Redis, keys: KeySchema) {
    this.table = new ZoneTable(redis, keys);
  }

  /** The census of every disk of `disks` that has a zone table. */
  async read(disks: readonly string[]): Promise<ZoneCensus[]> {
    const census = await Promise.all(disks.map((d) => this.census(d).catch(() => undefined)));
    return census.filter((c): c is ZoneCensus => c !== undefined);
  }

  /** One disk's census, or undefined when it has no zone table. */
  async census(disk: string): Promise<ZoneCensus | undefined> {
    const stored = await this.table.census(disk, CENSUS_MAX_CHANGED_ZONES);
    if (!stored) return undefined;
    const { shape, counters, changed } = stored;
    const capacitySectors = sequentialCapacity(shape);
    const conds = new Map<ZoneCond, number>([[ZoneCond.NOT_WP, shape.nrConv]]);
    if (!changed) {
      conds.set(ZoneCond.IMP_OPEN, counters.impOpen).set(ZoneCond.EXP_OPEN, counters.expOpen).set(ZoneCond.CLOSED, counters.closed);
      return { disk, conds, capacitySectors };
    }
    for (const c of [
      ZoneCond.EMPTY,
      ZoneCond.IMP_OPEN,
      ZoneCond.EXP_OPEN,
      ZoneCond.CLOSED,
      ZoneCond.READONLY,
      ZoneCond.FULL,
      ZoneCond.OFFLINE,
    ])
      conds.set(c, 0);
    let changedCapacity = 0;
    let writtenSectors = 0;
    for (const [z, { cond, wp }] of changed) {
      conds.set(cond, (conds.get(cond) ?? 0) + 1);
      const { start, capacity } = zoneExtent(shape, z);
      changedCapacity += capacity;
      if (wp !== NO_WRITE_POINTER) writtenSectors += Math.min(Math.max(wp - start, 0), capacity);
    }
    const untouched = shape.nrZones - shape.nrConv - changed.size;
    if (shape.full) {
      conds.set(ZoneCond.FULL, conds.get(ZoneCond.FULL)! + untouched);
      writtenSectors += capacitySectors - changedCapacity;
    } else {
      conds.set(ZoneCond.EMPTY, conds.get(ZoneCond.EMPTY)! + untouched);
    }
    return { disk, conds, capacitySectors, writtenSectors };
  }
}

/** The summed capacity of the sequential zones (all full-length but maybe the last). */
function sequentialCapacity(shape: ZoneShape): number {
  const last = zoneExtent(shape, shape.nrZones - 1).capacity;
  return (shape.nrZones - shape.nrConv - 1) * Math.min(shape.zoneSectors, shape.capacitySectors) + last;
}
