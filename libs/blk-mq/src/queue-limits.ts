// Mirrors `struct queue_limits` (include/linux/blkdev.h) and blk_validate_limits(), with
// null_blk's defaults: what a request may look like on this disk.

import { PAGE_SIZE, SECTOR_SHIFT, SECTOR_SIZE } from './bio';
import { ConfigError, checkBool, checkInt, checkPowerOfTwo } from './config-check';

/** Largest block size the Rust `GenDiskBuilder` accepts (PAGE_SIZE). */
export const MAX_BLOCK_SIZE = PAGE_SIZE;
/**
 * `BLK_SAFE_MAX_SECTORS` (include/linux/blkdev.h, `enum blk_default_limits`): the
 * `max_hw_sectors` blk_validate_limits() (block/blk-settings.c) gives a queue whose driver
 * left it 0. null_blk leaves it 0 unless `max_sectors` is set (`g_max_sectors` is 0 and
 * null_add_dev() passes `dev->max_sectors` as `lim.max_hw_sectors`), and the seed's rnull
 * always does (its GenDiskBuilder sets only the block sizes). BLK_DEF_MAX_SECTORS_CAP caps
 * only the soft `max_sectors`, so it never raises this. Like the kernel, `maxRequestBytes`
 * rounds it down to the logical block size: 248 sectors with 4 KiB blocks. The one owner of
 * the default: rnull's `max_sectors` attribute takes it from here.
 */
export const BLK_SAFE_MAX_SECTORS = 255;
/** `BLK_MAX_SEGMENTS`. */
export const BLK_MAX_SEGMENTS = 128;
const UINT_MAX_SECTORS = 0xffffffff >>> SECTOR_SHIFT;

export interface QueueLimits {
  /** Smallest addressable unit, bytes; power of two in 512..4096. null_blk: 512. */
  readonly logicalBlockSize: number;
  /** Smallest unit written without read-modify-write, bytes; >= logical. */
  readonly physicalBlockSize: number;
  /** Largest request, in 512-byte sectors (`max_hw_sectors`); bigger bios are split. */
  readonly maxHwSectors: number;
  /** Most segments (pages) in one request; bigger bios are split. */
  readonly maxSegments: number;
  /** Largest discard, in sectors; 0 means DISCARD is not supported (null_blk default). */
  readonly maxDiscardSectors: number;
  /** Discard unit in bytes; a multiple of the logical block size. */
  readonly discardGranularity: number;
  /** Largest WRITE_ZEROES, in sectors; 0 means not supported. */
  readonly maxWriteZeroesSectors: number;
  /** BLK_FEAT_WRITE_CACHE: FLUSH and PREFLUSH reach the driver only when set. */
  readonly volatileWriteCache: boolean;
  /** BLK_FEAT_FUA: the driver honours FUA; without a write cache FUA is dropped. */
  readonly fua: boolean;
  /**
   * `chunk_sectors`: no request crosses a multiple of it (a zoned disk's zone size, a power
   * of two); 0 for none.
   */
  readonly chunkSectors: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = Object.freeze({
  logicalBlockSize: SECTOR_SIZE,
  physicalBlockSize: SECTOR_SIZE,
  maxHwSectors: BLK_SAFE_MAX_SECTORS,
  maxSegments: BLK_MAX_SEGMENTS,
  maxDiscardSectors: 0,
  discardGranularity: SECTOR_SIZE,
  maxWriteZeroesSectors: 0,
  volatileWriteCache: false,
  fua: false,
  chunkSectors: 0,
});

type FieldCheck = (field: string, v: unknown) => unknown;

/** Per-field range checks, usable by setters before the cross-field checks of `queueLimits`. */
export const QUEUE_LIMIT_CHECKS: { readonly [K in keyof QueueLimits]: FieldCheck } = {
  logicalBlockSize: (f, v) => checkPowerOfTwo(f, v, SECTOR_SIZE, MAX_BLOCK_SIZE),
  physicalBlockSize: (f, v) => checkPowerOfTwo(f, v, SECTOR_SIZE, MAX_BLOCK_SIZE),
  maxHwSectors: (f, v) => checkInt(f, v, PAGE_SIZE >> SECTOR_SHIFT, UINT_MAX_SECTORS),
  maxSegments: (f, v) => checkInt(f, v, 1, 0xffff),
  maxDiscardSectors: (f, v) => checkInt(f, v, 0, UINT_MAX_SECTORS),
  discardGranularity: (f, v) => checkPowerOfTwo(f, v, SECTOR_SIZE, 1 << 30),
  maxWriteZeroesSectors: (f, v) => checkInt(f, v, 0, UINT_MAX_SECTORS),
  volatileWriteCache: (f, v) => checkBool(f, v),
  fua: (f, v) => checkBool(f, v),
  chunkSectors: (f, v) => (v === 0 ? 0 : checkPowerOfTwo(f, v, 1, UINT_MAX_SECTORS)),
};

/**
 * Complete, validated and frozen limits from `init` over the defaults. A discard
 * granularity left unset follows the logical block size, as in null_blk.
 * Throws `ConfigError` naming `QueueLimits.<field>`.
 */
export function queueLimits(init: Partial<QueueLimits> = {}): QueueLimits {
  const lim: Record<string, unknown> = { ...DEFAULT_QUEUE_LIMITS };
  if (init.logicalBlockSize !== undefined && init.discardGranularity === undefined) {
    lim.discardGranularity = init.logicalBlockSize;
  }
  if (init.logicalBlockSize !== undefined && init.physicalBlockSize === undefined) {
    lim.physicalBlockSize = Math.max(init.logicalBlockSize, SECTOR_SIZE);
  }
  for (const [k, v] of Object.entries(init)) {
    const check = (QUEUE_LIMIT_CHECKS as Record<string, FieldCheck>)[k];
    if (!check) throw new ConfigError(`QueueLimits.${k}`, 'is not a queue limit', v);
    if (v !== undefined) lim[k] = check(`QueueLimits.${k}`, v);
  }
  const l = lim as unknown as QueueLimits;
  if (l.physicalBlockSize < l.logicalBlockSize) {
    throw new ConfigError('QueueLimits.physicalBlockSize', `must be >= logicalBlockSize ${l.logicalBlockSize}`, l.physicalBlockSize);
  }
  if (l.discardGranularity < l.logicalBlockSize) {
    throw new ConfigError('QueueLimits.discardGranularity', `must be >= logicalBlockSize ${l.logicalBlockSize}`, l.discardGranularity);
  }
  return Object.freeze({ ...l });
}

/**
 * Largest READ / WRITE request in bytes: `maxHwSectors` rounded down to the logical block
 * size, and no more than `maxSegments` pages.
 */
export function maxRequestBytes(l: QueueLimits): number {
  const byHw = Math.floor((l.maxHwSectors * SECTOR_SIZE) / l.logicalBlockSize) * l.logicalBlockSize;
  return Math.max(l.logicalBlockSize, Math.min(byHw, l.maxSegments * PAGE_SIZE));
}
