// Mirrors include/uapi/linux/blkzoned.h: `struct blk_zone` as a zone report gives it, with
// the kernel's numbers for zone types and conditions (the wire and the Redis zone table use
// the same numbers), and the shape of a zoned disk's zones (null_blk's `nullb_device`
// zone fields after null_init_zoned_dev()).

/** `enum blk_zone_type`. */
export enum ZoneType {
  CONVENTIONAL = 1,
  SEQWRITE_REQ = 2,
}

/** `enum blk_zone_cond`. */
export enum ZoneCond {
  NOT_WP = 0x0,
  EMPTY = 0x1,
  IMP_OPEN = 0x2,
  EXP_OPEN = 0x3,
  CLOSED = 0x4,
  READONLY = 0xd,
  FULL = 0xe,
  OFFLINE = 0xf,
}

/** The write pointer of a READ_ONLY or OFFLINE zone (null_blk's NULL_ZONE_INVALID_WP, as a number). */
export const NO_WRITE_POINTER = -1;

/** `struct blk_zone`: one zone of a report, in 512-byte sectors. */
export interface BlkZone {
  readonly start: number;
  readonly len: number;
  readonly capacity: number;
  /** The write pointer; a conventional zone's is start + len, a READ_ONLY / OFFLINE one's NO_WRITE_POINTER. */
  readonly wp: number;
  readonly type: ZoneType;
  readonly cond: ZoneCond;
}

/**
 * The zones of a zoned disk, in sectors: `nrConv` conventional zones first, then
 * sequential ones; every zone `zoneSectors` long (a power of two) but the last, which is
 * `lastZoneSectors`; a sequential zone's capacity is min(its length, `capacitySectors`).
 * `maxOpen` / `maxActive` of 0 mean no limit; `appendMaxSectors` of 0 means zone append is
 * emulated (no limit of its own). `full`: sequential zones start FULL (null_blk's
 * zone_full).
 */
export interface ZoneShape {
  readonly nrZones: number;
  readonly nrConv: number;
  readonly zoneSectors: number;
  readonly capacitySectors: number;
  readonly lastZoneSectors: number;
  readonly maxOpen: number;
  readonly maxActive: number;
  readonly appendMaxSectors: number;
  readonly full: boolean;
}

/** The zone that holds `sector`. */
export function zoneNo(shape: ZoneShape, sector: number): number {
  return Math.floor(sector / shape.zoneSectors);
}

/** Zone `z`'s first sector, length and capacity. */
export function zoneExtent(shape: ZoneShape, z: number): { start: number; len: number; capacity: number } {
  const len = z === shape.nrZones - 1 ? shape.lastZoneSectors : shape.zoneSectors;
  return { start: z * shape.zoneSectors, len, capacity: z < shape.nrConv ? len : Math.min(len, shape.capacitySectors) };
}
