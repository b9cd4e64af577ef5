// Mirrors null_blk's `null_config_discard` / `blk_queue_*` setup: a disk record's queue
// limits and geometry, as its engine and the submission check see them.
import { type DiskGeometry, queueLimits, type QueueLimits } from '#blk-mq';
import { capacitySectors, zoneShapeOf } from '#rnull';
import type { DiskRecord } from '#gendisk';

/** The queue limits of a disk's attributes (null_blk's `null_config_discard` etc.). */
export function limitsOf(record: DiskRecord): QueueLimits {
  const a = record.attributes;
  return queueLimits({
    logicalBlockSize: a.blocksize,
    physicalBlockSize: a.blocksize,
    maxHwSectors: Math.max(a.maxSectors, a.blocksize / 512),
    maxSegments: 0xffff,
    // null_config_discard: discard is ignored in zoned mode.
    maxDiscardSectors: a.discard && !a.zoned ? 0xffffffff >>> 9 : 0,
    maxWriteZeroesSectors: 0xffffffff >>> 9,
    volatileWriteCache: true,
    fua: a.fua,
    chunkSectors: a.zoned ? zoneShapeOf(a).shape.zoneSectors : 0,
  });
}

/** Records are immutable: each one's geometry is computed once. */
const geometries = new WeakMap<DiskRecord, DiskGeometry>();

/** The geometry of `record`'s disk: name, capacity in sectors and queue limits. */
export function geometryOf(record: DiskRecord): DiskGeometry {
  let g = geometries.get(record);
  if (!g) {
    const a = record.attributes;
    g = {
      name: record.name,
      capacitySectors: capacitySectors(a),
      limits: limitsOf(record),
      zones: a.zoned ? zoneShapeOf(a).shape : undefined,
    };
    geometries.set(record, g);
  }
  return g;
}
