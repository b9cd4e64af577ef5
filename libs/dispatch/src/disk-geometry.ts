// Mirrors null_blk's `null_config_discard` / `blk_queue_*` setup: a disk record's queue
// limits and geometry, as its engine and the submission check see them.
import { type DiskGeometry, queueLimits, type QueueLimits, type ZoneShape } from '#blk-mq';
import { capacitySectors, discardSupported, zoneShapeOf } from '#rnull';
import type { DiskRecord } from '#gendisk';

/**
 * The queue limits of a disk's attributes (null_blk's `null_config_discard` etc.); `zones`
 * is its zone shape when zoned (computed here when not given).
 */
export function limitsOf(record: DiskRecord, zones: ZoneShape | undefined = zonesOf(record)): QueueLimits {
  const a = record.attributes;
  return queueLimits({
    logicalBlockSize: a.blocksize,
    physicalBlockSize: a.blocksize,
    maxHwSectors: Math.max(a.maxSectors, a.blocksize / 512),
    maxSegments: 0xffff,
    maxDiscardSectors: discardSupported(a) ? 0xffffffff >>> 9 : 0,
    maxWriteZeroesSectors: 0xffffffff >>> 9,
    volatileWriteCache: true,
    fua: a.fua,
    chunkSectors: zones?.zoneSectors ?? 0,
  });
}

/** The zone shape of a zoned disk, undefined otherwise. */
function zonesOf(record: DiskRecord): ZoneShape | undefined {
  return record.attributes.zoned ? zoneShapeOf(record.attributes).shape : undefined;
}

/** Records are immutable: each one's geometry is computed once. */
const geometries = new WeakMap<DiskRecord, DiskGeometry>();

/** The geometry of `record`'s disk: name, capacity in sectors and queue limits. */
export function geometryOf(record: DiskRecord): DiskGeometry {
  let g = geometries.get(record);
  if (!g) {
    const zones = zonesOf(record);
    g = { name: record.name, capacitySectors: capacitySectors(record.attributes), limits: limitsOf(record, zones), zones };
    geometries.set(record, g);
  }
  return g;
}
