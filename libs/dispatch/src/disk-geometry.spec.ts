// The queue limits of a disk record: what a disk with default attributes splits at, as the
// kernel gives null_blk (and the seed's rnull) when max_sectors is not set.
import { BLK_SAFE_MAX_SECTORS, maxRequestBytes, prepareSubmission, ReqOp } from '#blk-mq';
import { applyAttributes, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import type { DiskRecord } from '#gendisk';
import { geometryOf, limitsOf } from './disk-geometry';

function disk(changes: Partial<DiskAttributes> = {}): DiskRecord {
  return { name: 'rnullb0', attributes: applyAttributes(DEFAULT_ATTRIBUTES, { size: 64, ...changes }, false), power: true, index: 0 };
}

describe('limitsOf', () => {
  it('gives a default disk max_hw_sectors BLK_SAFE_MAX_SECTORS (255), not BLK_DEF_MAX_SECTORS_CAP', () => {
    expect(BLK_SAFE_MAX_SECTORS).toBe(255);
    expect(DEFAULT_ATTRIBUTES.maxSectors).toBe(BLK_SAFE_MAX_SECTORS);
    expect(limitsOf(disk()).maxHwSectors).toBe(255);
  });

  it('rounds it down to the block size, as blk_validate_limits does: 248 sectors at 4 KiB, 255 at 512 B', () => {
    expect(maxRequestBytes(limitsOf(disk()))).toBe(248 * 512);
    expect(maxRequestBytes(limitsOf(disk({ blocksize: 512 })))).toBe(255 * 512);
  });

  it('follows a max_sectors that is set', () => {
    expect(maxRequestBytes(limitsOf(disk({ maxSectors: 2560 })))).toBe(2560 * 512);
    expect(maxRequestBytes(limitsOf(disk({ maxSectors: 8 })))).toBe(4096);
  });
});

describe('geometryOf', () => {
  it('splits a 1 MiB write on a default disk into 124 KiB requests (9 bios)', () => {
    const prepared = prepareSubmission({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(1 << 20) }, geometryOf(disk()));
    if (prepared.done) throw new Error(`refused: ${prepared.done.error ?? ''}`);
    expect(prepared.bios.map((b) => b.bytes)).toEqual([...Array<number>(8).fill(248 * 512), (1 << 20) - 8 * 248 * 512]);
  });
});
