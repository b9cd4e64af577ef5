// Plug merging: contiguous bios of one tick become one request, never beyond the limits,
// and every submission a merged request carries gets its own completion.

import { Bio } from './bio';
import { BlkStatus } from './blk-status';
import { GenDiskBuilder } from './gen-disk-builder';
import type { Hctx } from './hctx';
import { ReqFlag, ReqOp } from './req-op';
import type { Request } from './request';
import { TagSet } from './tag-set';
import { HoldDriver, settle } from './testing/hold-driver';
import { MemDriver, type MemPdu } from './testing/mem-driver';

const KiB4 = 4096;
const page = (seed: number) => new Uint8Array(KiB4).fill(seed);

/** MemDriver that records the size and bio count of every request it is given. */
class RecordingDriver extends MemDriver {
  readonly requests: { sector: number; bytes: number; bios: number }[] = [];
  override queueRq(hctx: Hctx, rq: Request<MemPdu>): BlkStatus {
    this.requests.push({ sector: rq.sector, bytes: rq.bytes, bios: rq.bios.length });
    expect(rq.nrPhysSegments).toBeLessThanOrEqual(128);
    return super.queueRq(hctx, rq);
  }
}

function memDisk(limits = {}, opts = {}) {
  const driver = new RecordingDriver();
  const disk = new GenDiskBuilder()
    .name('mrg0')
    .capacitySectors(1 << 16)
    .logicalBlockSize(KiB4)
    .queueLimits(limits)
    .build(new TagSet({ queueDepth: 64 }), driver, opts);
  return { disk, driver };
}

describe('plug merge', () => {
  it('turns sequential 4 KiB writes of one tick into one request for the driver', async () => {
    const { disk, driver } = memDisk();
    const subs = Array.from({ length: 8 }, (_, i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: page(i + 1) }));
    expect((await Promise.all(subs)).every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(driver.requests).toEqual([{ sector: 0, bytes: 8 * KiB4, bios: 8 }]);
    expect(disk.stats().engine).toMatchObject({ requests: 1, merges: 7, submitted: 8, completed: 8 });
    expect(driver.read(0, 8 * KiB4)).toEqual(Uint8Array.from({ length: 8 * KiB4 }, (_, i) => (i >> 12) + 1));
    await disk.del();
    expect(disk.table.counters).toMatchObject({ allocated: 1, recycled: 1 });
  });

  it('never merges beyond maxRequestBytes', async () => {
    const { disk, driver } = memDisk();
    const max = disk.queue.maxRequestBytes;
    expect(max).toBe(31 * KiB4); // 255 sectors rounded down to 4 KiB
    const subs = Array.from({ length: 40 }, (_, i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: page(i) }));
    await Promise.all(subs);
    expect(driver.requests.map((r) => r.bytes)).toEqual([31 * KiB4, 9 * KiB4]);
    expect(driver.requests.every((r) => r.bytes <= max)).toBe(true);
    await disk.del();
  });

  it('never merges beyond maxSegments: 200 sequential 512 B writes become requests of at most 128 segments', async () => {
    const driver = new RecordingDriver();
    const disk = new GenDiskBuilder()
      .name('mrg3')
      .capacitySectors(1024)
      .build(new TagSet({ queueDepth: 8 }), driver);
    const subs = Array.from({ length: 200 }, (_, i) => disk.submit({ op: ReqOp.WRITE, sector: i, data: new Uint8Array(512).fill(i) }));
    expect((await Promise.all(subs)).every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(driver.requests.map((r) => r.bios)).toEqual([128, 72]);
    expect(driver.requests.map((r) => r.bytes)).toEqual([128 * 512, 72 * 512]);
    expect(driver.read(0, 200 * 512)).toEqual(Uint8Array.from({ length: 200 * 512 }, (_, i) => (i >> 9) & 0xff));
    await disk.del();
  });

  it('gives each submission of a merged READ its own data', async () => {
    const { disk, driver } = memDisk();
    await Promise.all([0, 1, 2, 3].map((i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: page(10 + i) })));
    driver.requests.length = 0;
    const reads = await Promise.all([0, 1, 2, 3].map((i) => disk.submit({ op: ReqOp.READ, sector: i * 8, bytes: KiB4 })));
    expect(driver.requests).toEqual([{ sector: 0, bytes: 4 * KiB4, bios: 4 }]);
    reads.forEach((c, i) => expect(c).toEqual({ status: BlkStatus.OK, data: page(10 + i) }));
    await disk.del();
  });

  it('never merges different flags, FUA / PREFLUSH (REQ_NOMERGE_FLAGS), different ops, gaps, or with noMerges', async () => {
    const { disk, driver } = memDisk({ volatileWriteCache: true, fua: true });
    await Promise.all([
      disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(1) }),
      disk.submit({ op: ReqOp.WRITE, sector: 8, data: page(2) }),
      disk.submit({ op: ReqOp.WRITE, sector: 16, data: page(3), flags: ReqFlag.FUA }),
      disk.submit({ op: ReqOp.WRITE, sector: 24, data: page(4), flags: ReqFlag.FUA }),
      disk.submit({ op: ReqOp.WRITE, sector: 32, data: page(5), flags: ReqFlag.PREFLUSH }),
      disk.submit({ op: ReqOp.WRITE, sector: 40, data: page(6) }),
      disk.submit({ op: ReqOp.READ, sector: 48, bytes: KiB4 }),
      disk.submit({ op: ReqOp.READ, sector: 64, bytes: KiB4 }),
    ]);
    expect(driver.requests.map((r) => [r.sector, r.bios])).toEqual([
      [0, 2],
      [16, 1],
      [24, 1],
      [32, 1],
      [40, 1],
      [48, 1],
      [64, 1],
    ]);
    await disk.del();
    const plain = memDisk({}, { noMerges: true });
    await Promise.all([0, 1, 2].map((i) => plain.disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: page(i) })));
    expect(plain.driver.requests).toHaveLength(3);
    expect(plain.disk.stats().engine.merges).toBe(0);
    await plain.disk.del();
  });

  it('settles a submission once every request carrying a part of it ended, with the failure of any', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder()
      .name('mrg1')
      .capacitySectors(1024)
      .queueLimits({ maxHwSectors: 16 })
      .build(new TagSet({ queueDepth: 4 }), driver);
    let bDone = false;
    let cDone = false;
    // B: 12 KiB -> bios 8 KiB @0 and 4 KiB @16; C: 4 KiB @24 joins B's second request.
    const b = disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(3 * KiB4) }).then((x) => ((bDone = true), x));
    const c = disk.submit({ op: ReqOp.WRITE, sector: 24, data: new Uint8Array(KiB4) }).then((x) => ((cDone = true), x));
    await settle();
    expect(driver.held.map((rq) => [rq.sector, rq.bytes, rq.bios.length])).toEqual([
      [0, 8192, 1],
      [16, 8192, 2],
    ]);
    driver.held[1].end(BlkStatus.MEDIUM);
    driver.held.splice(1, 1);
    await settle();
    expect([bDone, cDone]).toEqual([false, true]);
    expect(await c).toEqual({ status: BlkStatus.MEDIUM });
    driver.endOldest(1);
    expect(await b).toEqual({ status: BlkStatus.MEDIUM });
    await disk.del();
    expect(disk.table.busyCount).toBe(0);
  });

  it('refuses a back merge into a started request or one that does not continue it', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder().name('mrg2').capacitySectors(64).build(new TagSet(), driver);
    const sub = disk.submit({ op: ReqOp.READ, sector: 0, bytes: 512 });
    await settle();
    const rq = driver.held[0];
    expect(() => rq.backMerge(new Bio({ op: ReqOp.READ, sector: 1, bytes: 512, buffer: new Uint8Array(512) }))).toThrow(/back merge/);
    driver.endOldest(1);
    await sub;
    await disk.del();
  });
});
