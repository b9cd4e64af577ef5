// Path d's in-process page backing: what is written reads back, across slabs of pages, and
// what was never written reads as zeroes.
import { BlkStatus, GenDiskBuilder, ReqOp, TagSet } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, RnullDriver } from '#rnull';
import { MemoryPageBacking } from './inproc-path';

describe('MemoryPageBacking', () => {
  it('reads back every page written, past one slab of pages, zeroes where nothing was written, and overwrites in place', async () => {
    const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 4, memoryBacked: true, irqmode: 0, blocksize: 512 }, false);
    const backing = new MemoryPageBacking();
    const tagSet = new TagSet({ nrHwQueues: 1, queueDepth: 64, recycle: attributes.recycle });
    const disk = new GenDiskBuilder()
      .name('backing0')
      .capacitySectors(capacitySectors(attributes))
      .logicalBlockSize(attributes.blocksize)
      .build(tagSet, new RnullDriver(attributes, backing));
    try {
      const pages = 300; // more than one slab (256 pages)
      for (let p = 0; p < pages; p++) {
        const data = new Uint8Array(4096).fill(p % 251);
        data[0] = p >> 8;
        expect((await disk.submit({ op: ReqOp.WRITE, sector: p * 8, data })).status).toBe(BlkStatus.OK);
      }
      expect(backing.storedPages).toBe(pages);
      for (const p of [0, 1, 255, 256, 299]) {
        const read = await disk.submit({ op: ReqOp.READ, sector: p * 8, bytes: 4096 });
        expect(read.status).toBe(BlkStatus.OK);
        expect(read.data![0]).toBe(p >> 8);
        expect(read.data![1]).toBe(p % 251);
        expect(read.data![4095]).toBe(p % 251);
      }
      const hole = await disk.submit({ op: ReqOp.READ, sector: 400 * 8, bytes: 4096 });
      expect(hole.data!.every((b) => b === 0)).toBe(true);
      // A page written again keeps its slot; a write inside a page changes only its bytes.
      const part = new Uint8Array(512).fill(0xee);
      expect((await disk.submit({ op: ReqOp.WRITE, sector: 256 * 8 + 1, data: part })).status).toBe(BlkStatus.OK);
      expect(backing.storedPages).toBe(pages);
      const after = (await disk.submit({ op: ReqOp.READ, sector: 256 * 8, bytes: 4096 })).data!;
      expect([after[511], after[512], after[1023], after[1024]]).toEqual([256 % 251, 0xee, 0xee, 256 % 251]);
    } finally {
      await disk.del();
    }
  });
});
