// RnullDriver's bad-block veto (null_handle_badblocks): on the in-process engine of
// #blk-mq with an in-process fake backing, the driver vetoes a request that touches a bad
// range before any page op of it, transfers the blocks before the first bad sector with
// badblocks_partial_io, and clears the hit entry with badblocks_once.
import { BlkStatus, GenDiskBuilder, type GenDisk, ReqOp, TagSet } from '#blk-mq';
import type { BadBlockEvent } from './rnull-driver';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes } from './disk-attributes';
import { RnullDriver, type RnullPdu } from './rnull-driver';
import { FakeBacking } from './testing/fake-backing';

const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);

/** A 1 MiB disk whose attributes are `changes` then each `badblocks` write in turn. */
function badDisk(changes: Partial<DiskAttributes>, ...badblocks: string[]) {
  let attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 1, ...changes }, false);
  for (const c of badblocks) attributes = applyAttributes(attributes, { badblocks: c }, true);
  const store = new Uint8Array(capacitySectors(attributes) * 512);
  const backing = new FakeBacking(store);
  const hits: BadBlockEvent[] = [];
  const driver = new RnullDriver(attributes, backing, {
    badBlockHit: (e) => {
      hits.push(e);
    },
  });
  const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: 8, timeoutMs: attributes.timeoutMs, recycle: attributes.recycle });
  const disk: GenDisk<RnullPdu> = new GenDiskBuilder()
    .name('rnullb0')
    .capacitySectors(capacitySectors(attributes))
    .logicalBlockSize(attributes.blocksize)
    .queueLimits({ volatileWriteCache: true, fua: attributes.fua, maxDiscardSectors: 1 << 16, maxWriteZeroesSectors: 1 << 16 })
    .build(tagSet, driver, { noMerges: true });
  return { disk, driver, backing, store, hits };
}

describe('RnullDriver bad blocks', () => {
  it('fails a write that touches a bad sector with IOERR before any page op of it; its batch-mates run', async () => {
    const { disk, backing, store, hits } = badDisk({}, '+20-20');
    store.set(fill(4096, 0xaa), 16 * 512);
    const [bad, good] = await Promise.all([
      disk.submit({ op: ReqOp.WRITE, sector: 16, data: fill(4096, 0x55) }),
      disk.submit({ op: ReqOp.WRITE, sector: 32, data: fill(4096, 0x66) }),
    ]);
    expect(bad.status).toBe(BlkStatus.IOERR);
    expect(good.status).toBe(BlkStatus.OK);
    // The vetoed write never reached the backing; the stored data is unchanged.
    expect(backing.seen).toEqual([{ op: ReqOp.WRITE, sector: 32, bytes: 4096 }]);
    expect(store.subarray(16 * 512, 24 * 512)).toEqual(fill(4096, 0xaa));
    expect(hits).toEqual([{ sector: 16, sectors: 8, firstBad: 20, badSectors: 1, transferredSectors: 0, cleared: false }]);
  });

  it('fails reads, discards and write zeroes over a bad range too, but not FLUSH (null_handle_flush)', async () => {
    const { disk, backing } = badDisk({ discard: true }, '+0-7');
    const r = await disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 });
    const z = await disk.submit({ op: ReqOp.WRITE_ZEROES, sector: 0, bytes: 4096 });
    const d = await disk.submit({ op: ReqOp.DISCARD, sector: 0, bytes: 4096 });
    const f = await disk.submit({ op: ReqOp.FLUSH, sector: 0 });
    expect([r.status, z.status, d.status, f.status]).toEqual([BlkStatus.IOERR, BlkStatus.IOERR, BlkStatus.IOERR, BlkStatus.OK]);
    expect(backing.seen).toEqual([]);
  });

  it('keeps failing every hit while the range stays bad, and lets IO by once it is cleared', async () => {
    const { disk, driver, hits } = badDisk({}, '+8-15');
    expect((await disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 })).status).toBe(BlkStatus.IOERR);
    expect((await disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 })).status).toBe(BlkStatus.IOERR);
    driver.setAttributes(applyAttributes(driver.attributes, { badblocks: '-8-15' }, true));
    expect((await disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 })).status).toBe(BlkStatus.OK);
    expect(hits).toHaveLength(2);
  });

  it('with badblocks_partial_io writes the whole blocks before the first bad sector, then ends IOERR', async () => {
    const { disk, backing, store, hits } = badDisk({ blocksize: 4096, badblocksPartialIo: true }, '+21-22');
    const data = fill(16384, 0x77); // sectors 8..39; bad at 21, rounded down to its block: 16
    const c = await disk.submit({ op: ReqOp.WRITE, sector: 8, data });
    expect(c.status).toBe(BlkStatus.IOERR);
    expect(backing.seen).toEqual([{ op: ReqOp.WRITE, sector: 8, bytes: 4096 }]);
    expect(store.subarray(8 * 512, 16 * 512)).toEqual(fill(4096, 0x77));
    expect(store.subarray(16 * 512, 40 * 512)).toEqual(fill(12288, 0));
    expect(hits[0]).toMatchObject({ firstBad: 21, transferredSectors: 8 });
  });

  it('with badblocks_partial_io and 512-byte blocks transfers up to the bad sector itself', async () => {
    const { disk, backing } = badDisk({ blocksize: 512, badblocksPartialIo: true }, '+13-13');
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(4096, 1) })).status).toBe(BlkStatus.IOERR);
    expect(backing.seen).toEqual([{ op: ReqOp.WRITE, sector: 8, bytes: 5 * 512 }]);
  });

  it('with badblocks_partial_io moves nothing when the first block is bad, and reads none (a failed read returns no data)', async () => {
    const { disk, backing } = badDisk({ badblocksPartialIo: true }, '+8-8', '+40-40');
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(8192, 1) })).status).toBe(BlkStatus.IOERR);
    expect((await disk.submit({ op: ReqOp.READ, sector: 32, bytes: 8192 })).status).toBe(BlkStatus.IOERR);
    expect(backing.seen).toEqual([]);
  });

  it('with badblocks_once clears the entry it hit: the next IO there succeeds, other entries stay', async () => {
    const { disk, driver, hits } = badDisk({ badblocksOnce: true }, '+8-15', '+100-107');
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(4096, 1) })).status).toBe(BlkStatus.IOERR);
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(4096, 1) })).status).toBe(BlkStatus.OK);
    expect(driver.badBlocksShow).toBe('100 8\n');
    expect((await disk.submit({ op: ReqOp.READ, sector: 96, bytes: 8192 })).status).toBe(BlkStatus.IOERR);
    expect(driver.badBlocksShow).toBe('');
    expect(hits.map((h) => [h.firstBad, h.badSectors, h.cleared])).toEqual([
      [8, 8, true],
      [100, 8, true],
    ]);
  });

  it('keeps a once-cleared entry cleared while lists that still hold it arrive, until the host settles its clear', async () => {
    let settle!: () => void;
    const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 1, badblocksOnce: true, badblocks: '+8-15' }, false);
    const store = new Uint8Array(capacitySectors(attributes) * 512);
    const driver = new RnullDriver(attributes, new FakeBacking(store), {
      badBlockHit: (e) => (e.cleared ? new Promise<void>((r) => (settle = r)) : undefined),
    });
    const disk = new GenDiskBuilder()
      .name('rnullb0')
      .capacitySectors(capacitySectors(attributes))
      .build(new TagSet({ nrHwQueues: 1, queueDepth: 4, timeoutMs: 1000, recycle: 'on-drop' }), driver, { noMerges: true });
    expect((await disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 })).status).toBe(BlkStatus.IOERR);
    // The registry still lists 8..15 (gendisk has not applied the clear) when another write of the file lands.
    const later = applyAttributes(driver.attributes, { badblocks: '+200-200' }, true);
    driver.setAttributes(later);
    expect(driver.badBlocksShow).toBe('200 1\n');
    expect((await disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 })).status).toBe(BlkStatus.OK);
    // Once the clear was answered, the registry's list is taken as it is (here: a new +8-15).
    settle();
    await Promise.resolve();
    driver.setAttributes(applyAttributes(later, { badblocks: '+0-15' }, true));
    expect(driver.badBlocksShow).toBe('0 16\n200 1\n');
  });

  it('with badblocks_partial_io and badblocks_once both: transfers the prefix and clears the entry', async () => {
    const { disk, store, driver } = badDisk({ badblocksPartialIo: true, badblocksOnce: true }, '+16-23');
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 8, data: fill(8192, 9) })).status).toBe(BlkStatus.IOERR);
    expect(store.subarray(8 * 512, 16 * 512)).toEqual(fill(4096, 9));
    expect(store.subarray(16 * 512, 24 * 512)).toEqual(fill(4096, 0));
    expect(driver.badBlocksShow).toBe('');
  });
});
