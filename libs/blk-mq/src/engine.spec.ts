// The engine's data path over every completion mode, batching, splitting and the checks
// that turn bad input into a status that names the problem.

import { BlkStatus } from './blk-status';
import { GenDiskBuilder } from './gen-disk-builder';
import type { Operations } from './operations';
import { ReqOp } from './req-op';
import { TagSet } from './tag-set';
import { HoldDriver, settle } from './testing/hold-driver';
import { CompletionMode, MemDriver } from './testing/mem-driver';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function memDisk(mode: CompletionMode, tags = { nrHwQueues: 2, queueDepth: 4 }, lbs = 4096) {
  const driver = new MemDriver({ mode, completionMs: 1 });
  const disk = new GenDiskBuilder().name('mem0').capacitySectors(8192).logicalBlockSize(lbs).build(new TagSet(tags), driver);
  return { driver, disk };
}

describe.each<CompletionMode>(['inline', 'softirq', 'timer'])('completion mode %s', (mode) => {
  it('reads back what was written, and zeros where nothing was', async () => {
    const { disk } = memDisk(mode);
    const data = bytes(8192, 7);
    expect(await disk.submit({ op: ReqOp.WRITE, sector: 16, data })).toEqual({ status: BlkStatus.OK });
    const back = await disk.submit({ op: ReqOp.READ, sector: 16, bytes: 8192 });
    expect(back.status).toBe(BlkStatus.OK);
    expect(back.data).toEqual(data);
    expect((await disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 })).data).toEqual(new Uint8Array(4096));
    await disk.del();
    expect(disk.table.busyCount).toBe(0);
  });

  it('completes many more submissions than tags, never failing one, then every tag is IDLE', async () => {
    const { disk, driver } = memDisk(mode, { nrHwQueues: 2, queueDepth: 2 });
    const subs = Array.from({ length: 60 }, (_, i) => disk.submit({ op: ReqOp.WRITE, sector: (i % 16) * 8, data: bytes(4096, i), cpu: i }));
    const done = await Promise.all(subs);
    expect(done.every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(disk.stats().engine.tagWaits).toBeGreaterThan(0);
    expect(driver.counters.ended).toBe(60);
    await disk.drain();
    expect(disk.table.busySync()).toEqual([]);
    expect(disk.table.counters).toMatchObject({ allocated: 60, recycled: 60, staleRejected: 0, doubleEnds: 0 });
  });

  it('splits an IO larger than the queue limits into several requests', async () => {
    const driver = new MemDriver({ mode, completionMs: 1 });
    const disk = new GenDiskBuilder()
      .name('split0')
      .capacitySectors(4096)
      .logicalBlockSize(512)
      .queueLimits({ maxHwSectors: 16 })
      .build(new TagSet({ queueDepth: 2 }), driver);
    const data = bytes(40 * 512, 3);
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 3, data })).status).toBe(BlkStatus.OK);
    expect(driver.counters.queued).toBe(3);
    expect((await disk.submit({ op: ReqOp.READ, sector: 3, bytes: data.length })).data).toEqual(data);
    await disk.del();
  });
});

describe('engine', () => {
  it('hands the driver one batch per hctx per tick, isLast on the last, and commits', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder()
      .name('b0')
      .capacitySectors(1024)
      .build(new TagSet({ nrHwQueues: 2, queueDepth: 8 }), driver);
    const subs = [0, 1, 2, 3, 4].map((cpu) => disk.submit({ op: ReqOp.READ, sector: cpu, bytes: 512, cpu }));
    await settle();
    expect(driver.seen.map((s) => [s.hctx, s.isLast])).toEqual([
      [0, false],
      [0, false],
      [0, true],
      [1, false],
      [1, true],
    ]);
    expect(driver.commits).toBe(2);
    expect(disk.hctxs.map((h) => h.counters.batches)).toEqual([1, 1]);
    driver.endOldest(5);
    expect((await Promise.all(subs)).map((c) => c.status)).toEqual(Array(5).fill(BlkStatus.OK));
    await disk.del();
  });

  it('uses a custom queueRqs with the whole batch and its statuses', async () => {
    const batches: number[] = [];
    const ops: Operations = {
      queueRqs(_h, rqs) {
        batches.push(rqs.length);
        return rqs.map((rq, i) => {
          if (i === 1) return BlkStatus.MEDIUM;
          rq.start();
          rq.end();
          return BlkStatus.OK;
        });
      },
      queueRq: () => BlkStatus.IOERR,
      commitRqs() {},
      complete() {},
    };
    const disk = new GenDiskBuilder()
      .name('qr0')
      .capacitySectors(64)
      .build(new TagSet({ queueDepth: 8 }), ops, { noMerges: true });
    const res = await Promise.all([0, 1, 2].map((s) => disk.submit({ op: ReqOp.DISCARD, sector: s, bytes: 512 })));
    expect(res.map((c) => c.status)).toEqual([BlkStatus.NOTSUPP, BlkStatus.NOTSUPP, BlkStatus.NOTSUPP]);
    const w = await Promise.all([0, 1, 2].map((s) => disk.submit({ op: ReqOp.WRITE, sector: s, data: new Uint8Array(512) })));
    expect(batches).toEqual([3]);
    expect(w.map((c) => c.status)).toEqual([BlkStatus.OK, BlkStatus.MEDIUM, BlkStatus.OK]);
    await disk.del();
  });

  it('ends a request with IOERR and a message naming the driver error when queueRq throws or rejects', async () => {
    let n = 0;
    const ops: Operations = {
      async queueRq(_h, rq) {
        if (n++ === 0) throw new Error('boom in the driver');
        rq.start();
        rq.end();
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete() {},
    };
    const errors: string[] = [];
    const disk = new GenDiskBuilder()
      .name('err0')
      .capacitySectors(64)
      .build(new TagSet(), ops, { onDriverError: (e, where) => errors.push(`${where}: ${(e as Error).message}`) });
    const first = await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(512) });
    expect(first).toEqual({ status: BlkStatus.IOERR, error: 'driver queueRq threw: boom in the driver' });
    expect(errors).toEqual(['queueRq: boom in the driver']);
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(512) })).status).toBe(BlkStatus.OK);
    await disk.del();
    expect(disk.table.busyCount).toBe(0);
  });

  it.each([
    [{ op: ReqOp.WRITE, sector: 8191 * 8, data: new Uint8Array(8192) }, BlkStatus.IOERR, /beyond end of device/],
    [{ op: ReqOp.WRITE, sector: 1, data: new Uint8Array(4096) }, BlkStatus.IOERR, /not aligned to the logical block size 4096/],
    [{ op: ReqOp.READ, sector: 0, bytes: 100 }, BlkStatus.IOERR, /not aligned/],
    [{ op: ReqOp.WRITE, sector: 0 }, BlkStatus.IOERR, /WRITE needs data/],
    [{ op: ReqOp.READ, sector: -8, bytes: 4096 }, BlkStatus.IOERR, /sector must be a non-negative integer/],
    [{ op: 42 as ReqOp, sector: 0, bytes: 4096 }, BlkStatus.NOTSUPP, /unknown op 42/],
    [{ op: ReqOp.DISCARD, sector: 0, bytes: 4096 }, BlkStatus.NOTSUPP, /DISCARD not supported/],
    [{ op: ReqOp.READ, sector: 0, bytes: 4096, flags: 64 }, BlkStatus.NOTSUPP, /unknown flags 64/],
  ])('refuses bad input %# with a status and a message naming the problem', async (sub, status, message) => {
    const { disk, driver } = memDisk('inline');
    const c = await disk.submit(sub);
    expect(c.status).toBe(status);
    expect(c.error).toMatch(message);
    expect(c.error).toMatch(/^mem0: /);
    expect(driver.counters.queued).toBe(0);
    await disk.del();
  });

  it('completes FLUSH at once without a write cache, and hands it to the driver with one', async () => {
    const plain = memDisk('inline');
    expect(await plain.disk.submit({ op: ReqOp.FLUSH, sector: 0 })).toEqual({ status: BlkStatus.OK });
    expect(plain.driver.counters.queued).toBe(0);
    const driver = new MemDriver();
    const cached = new GenDiskBuilder()
      .name('wc0')
      .capacitySectors(64)
      .queueLimits({ volatileWriteCache: true, maxDiscardSectors: 64 })
      .build(new TagSet(), driver);
    expect(await cached.submit({ op: ReqOp.FLUSH, sector: 0 })).toEqual({ status: BlkStatus.OK });
    await cached.submit({ op: ReqOp.WRITE, sector: 8, data: new Uint8Array(4096).fill(9) });
    expect(await cached.submit({ op: ReqOp.DISCARD, sector: 8, bytes: 4096 })).toEqual({ status: BlkStatus.OK });
    expect(driver.counters.queued).toBe(3);
    expect(driver.pages.size).toBe(0);
    await Promise.all([plain.disk.del(), cached.del()]);
  });

  it('runs initHctx at build, exitHctx at del, maps cpus, polls, and refuses IO after del', async () => {
    const log: string[] = [];
    const ops: Operations<unknown, string> = {
      initHctx: (i) => (log.push(`init ${i}`), `hw${i}`),
      exitHctx: (h) => log.push(`exit ${h.driverData}`),
      mapQueues: (cpu) => (cpu === 7 ? 1 : 0),
      poll: (h) => h.index + 1,
      queueRq(h, rq) {
        log.push(`rq on ${h.driverData}`);
        rq.start();
        rq.end();
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete() {},
    };
    const disk = new GenDiskBuilder()
      .name('life0')
      .capacitySectors(64)
      .build(new TagSet({ nrHwQueues: 2 }), ops);
    expect(log).toEqual(['init 0', 'init 1']);
    await disk.submit({ op: ReqOp.READ, sector: 0, bytes: 512, cpu: 7 });
    expect(disk.poll()).toBe(3);
    expect(disk.poll(0)).toBe(1);
    await disk.del();
    expect(log).toEqual(['init 0', 'init 1', 'rq on hw1', 'exit hw0', 'exit hw1']);
    expect(await disk.submit({ op: ReqOp.READ, sector: 0, bytes: 512 })).toEqual({
      status: BlkStatus.OFFLINE,
      error: 'life0: disk is deleted',
    });
  });
});

describe('EngineOptions.completionTimer', () => {
  it("fires completeAfter on the service's timer at now + nsec, not on setTimeout, and frees the slot after", async () => {
    const driver = new MemDriver({ mode: 'timer', completionMs: 7 });
    const due: { dueMs: number; fire: () => void }[] = [];
    const completionTimer = (dueMs: number) => new Promise<void>((fire) => due.push({ dueMs, fire }));
    const disk = new GenDiskBuilder()
      .name('mem0')
      .capacitySectors(8192)
      .logicalBlockSize(4096)
      .build(new TagSet({ nrHwQueues: 1, queueDepth: 1 }), driver, { completionTimer });
    const t0 = Date.now();
    let done = false;
    const write = disk.submit({ op: ReqOp.WRITE, sector: 0, data: bytes(4096, 1) }).then((c) => ((done = true), c));
    await settle();
    expect(due).toHaveLength(1);
    expect(due[0].dueMs).toBeGreaterThanOrEqual(t0 + 7);
    expect(due[0].dueMs).toBeLessThan(Date.now() + 7 + 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false); // setTimeout is not what fires it
    due[0].fire();
    expect((await write).status).toBe(BlkStatus.OK);
    await settle();
    expect(disk.table.busyCount).toBe(0);
  });
});
