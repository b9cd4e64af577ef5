// Mirrors null_init_zoned_dev() (drivers/block/null_blk/zoned.c): the zone shape of a zoned
// disk from its attributes, the same refusals (naming the attribute) and the same quiet
// adjustments (reported as notes, where null_blk prints pr_info).
import { ConfigError, SECTOR_SHIFT, type ZoneShape } from '#blk-mq';

/** The attributes a zone shape is made of (sizes in MiB, as null_blk's configfs files). */
export interface ZonedSettings {
  /** The disk's size, MiB. */
  readonly size: number;
  /** Logical block size, bytes. */
  readonly blocksize: number;
  /** zone_size, MiB; a power of two. */
  readonly zoneSize: number;
  /** zone_capacity, MiB; 0 means zone_size. */
  readonly zoneCapacity: number;
  readonly zoneNrConv: number;
  readonly zoneMaxOpen: number;
  readonly zoneMaxActive: number;
  /** zone_append_max_sectors; 0 means zone append is emulated. */
  readonly zoneAppendMaxSectors: number;
  readonly zoneFull: boolean;
}

const MiB_SECTORS = (1 << 20) >> SECTOR_SHIFT;

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * The zone shape null_blk lays out for `s`, and what it changed on the way (the
 * conventional-zone count capped below the zone count, limits that cannot bite disabled,
 * max open lowered to max active). Throws ConfigError naming the attribute for what
 * null_blk refuses with -EINVAL.
 */
export function zoneShapeOf(s: ZonedSettings): { shape: ZoneShape; notes: string[] } {
  if (!isPowerOfTwo(s.zoneSize)) throw new ConfigError('zone_size', 'must be a power of two (MiB)', s.zoneSize);
  if (s.zoneSize > s.size) throw new ConfigError('zone_size', `is larger than the disk (size ${s.size} MiB)`, s.zoneSize);
  const capacityMiB = s.zoneCapacity || s.zoneSize;
  if (capacityMiB > s.zoneSize) {
    throw new ConfigError('zone_capacity', `is larger than zone_size (${s.zoneSize} MiB)`, s.zoneCapacity);
  }
  if (capacityMiB !== s.zoneSize && s.size % s.zoneSize !== 0) {
    throw new ConfigError(
      'zone_capacity',
      `a smaller last zone (size ${s.size} MiB is not a multiple of zone_size ${s.zoneSize}) is not allowed with a zone capacity below zone_size`,
      s.zoneCapacity,
    );
  }
  const notes: string[] = [];
  const zoneSectors = s.zoneSize * MiB_SECTORS;
  const capacitySectors = capacityMiB * MiB_SECTORS;
  const diskSectors = s.size * MiB_SECTORS;
  const nrZones = Math.ceil(diskSectors / zoneSectors);
  const lastZoneSectors = diskSectors - (nrZones - 1) * zoneSectors;
  let nrConv = s.zoneNrConv;
  if (nrConv >= nrZones) {
    nrConv = nrZones - 1;
    notes.push(`zone_nr_conv changed to ${nrConv} (at least one sequential zone)`);
  }
  const blockSectors = s.blocksize >> SECTOR_SHIFT;
  const appendMaxSectors = Math.min(s.zoneAppendMaxSectors - (s.zoneAppendMaxSectors % blockSectors), capacitySectors);
  const nrSeq = nrZones - nrConv;
  let maxActive = s.zoneMaxActive;
  if (maxActive >= nrSeq) {
    if (maxActive) notes.push(`zone_max_active disabled (${maxActive} >= ${nrSeq} sequential zones)`);
    maxActive = 0;
  }
  let maxOpen = s.zoneMaxOpen;
  if (maxActive && maxOpen > maxActive) {
    notes.push(`zone_max_open changed to ${maxActive} (zone_max_active)`);
    maxOpen = maxActive;
  } else if (maxOpen >= nrSeq) {
    if (maxOpen) notes.push(`zone_max_open disabled (${maxOpen} >= ${nrSeq} sequential zones)`);
    maxOpen = 0;
  }
  return {
    shape: { nrZones, nrConv, zoneSectors, capacitySectors, lastZoneSectors, maxOpen, maxActive, appendMaxSectors, full: s.zoneFull },
    notes,
  };
}
