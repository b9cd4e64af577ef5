// Remote ends: a driver in another process, whose end records come back as messages and
// end the engine's requests through `Engine.endRemote` (DESIGN section 3, I1-I3).

import { BlkStatus } from './blk-status';
import type { GenDisk } from './gen-disk';
import { GenDiskBuilder } from './gen-disk-builder';
import { ReqOp } from './req-op';
import { OpResult, RqState } from './request-table';
import type { Completion } from './submission';
import { TagSet } from './tag-set';
import { settle } from './testing/hold-driver';
import { FakeRemoteDriver } from './testing/fake-remote-driver';

const KiB4 = 4096;
const page = (seed: number) => new Uint8Array(KiB4).fill(seed);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function remoteDisk(tags = {}, opts = {}) {
  const driver = new FakeRemoteDriver();
  const disk = new GenDiskBuilder()
    .name('rmt0')
    .capacitySectors(1 << 14)
    .logicalBlockSize(KiB4)
    .build(new TagSet({ queueDepth: 8, ...tags }), driver, { requeueDelayMs: 1, ...opts });
  return { disk, driver };
}

/** Submits and counts how often each submission settles. */
function tracked(disk: GenDisk) {
  const settled: number[] = [];
  const submit = (sub: Parameters<GenDisk['submit']>[0]) => {
    const i = settled.push(0) - 1;
    return disk.submit(sub).then((c) => {
      settled[i] += 1;
      return c;
    });
  };
  return { settled, submit };
}

/** Delivers the far side's end records until `done` settles. */
async function serve(disk: GenDisk, driver: FakeRemoteDriver, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    for (const e of driver.takeEnds()) expect(disk.queue.endRemote(e.token, e.status, e.data)).toBeGreaterThanOrEqual(0);
    await sleep(1);
  }
}

describe('Engine.endRemote with an async remote driver', () => {
  it('requeues the requests the far side refused (RESOURCE after start), retries them, and every submission settles once', async () => {
    const { disk, driver } = remoteDisk();
    driver.budget = 2;
    const { settled, submit } = tracked(disk);
    // Gaps between the writes: six requests, not one merged one.
    const writes = Promise.all(Array.from({ length: 6 }, (_, i) => submit({ op: ReqOp.WRITE, sector: i * 16, data: page(i + 1) })));
    await serve(disk, driver, writes);
    expect((await writes).map((c) => c.status)).toEqual(Array(6).fill(BlkStatus.OK));
    expect(driver.batches).toEqual([6, 4, 2]);
    expect(disk.stats().engine.requeued).toBe(6);
    const reads = Promise.all(Array.from({ length: 6 }, (_, i) => submit({ op: ReqOp.READ, sector: i * 16, bytes: KiB4 })));
    await serve(disk, driver, reads);
    (await reads).forEach((c, i) => expect(c).toEqual({ status: BlkStatus.OK, data: page(i + 1) }));
    expect(settled).toEqual(Array(12).fill(1));
    await disk.drain();
    expect(disk.table.busySync()).toEqual([]);
    expect(disk.table.counters).toMatchObject({ badState: 0, noReference: 0, staleRejected: 0, doubleEnds: 0 });
    expect(disk.stats().engine.staleEnds).toBe(0);
    expect(disk.queue.liveRequests).toBe(0);
    await disk.del();
  });

  it('ends a request whose end record arrives before queueRqs resolved (the push reply is slow)', async () => {
    const { disk, driver } = remoteDisk();
    driver.pushMs = 20;
    const c = disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(7) });
    await settle();
    expect(driver.pushed).toHaveLength(1);
    const [end] = driver.takeEnds();
    expect(disk.queue.endRemote(end.token, end.status)).toBe(OpResult.Ok);
    expect(await c).toEqual({ status: BlkStatus.OK });
    await disk.drain();
    expect(disk.table.counters.badState).toBe(0);
    await disk.del();
  });

  it("copies a merged READ's data into each submission's buffer", async () => {
    const { disk, driver } = remoteDisk();
    const w = Promise.all([0, 1, 2].map((i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: page(20 + i) })));
    await serve(disk, driver, w);
    const r = Promise.all([0, 1, 2].map((i) => disk.submit({ op: ReqOp.READ, sector: i * 8, bytes: KiB4 })));
    await settle();
    expect(driver.pushed.map((p) => p.bytes)).toEqual([3 * KiB4]);
    await serve(disk, driver, r);
    (await r).forEach((c, i) => expect(c).toEqual({ status: BlkStatus.OK, data: page(20 + i) }));
    await disk.del();
  });

  it('ends a READ with missing or short data IOERR with a message, never zeros', async () => {
    const { disk, driver } = remoteDisk();
    const a = disk.submit({ op: ReqOp.READ, sector: 0, bytes: KiB4 });
    const b = disk.submit({ op: ReqOp.READ, sector: 16, bytes: KiB4 });
    await settle();
    const [ea, eb] = driver.takeEnds();
    expect(disk.queue.endRemote(ea.token, BlkStatus.OK)).toBeGreaterThanOrEqual(0);
    expect(disk.queue.endRemote(eb.token, BlkStatus.OK, new Uint8Array(100))).toBeGreaterThanOrEqual(0);
    expect(await a).toEqual({ status: BlkStatus.IOERR, error: 'rmt0/0/0#1: read data missing or short: got 0 of 4096 bytes' });
    expect(await b).toEqual({ status: BlkStatus.IOERR, error: 'rmt0/0/1#1: read data missing or short: got 100 of 4096 bytes' });
    await disk.del();
  });

  it("hands the end record's message to the completion", async () => {
    const { disk, driver } = remoteDisk();
    const c = disk.submit({ op: ReqOp.WRITE, sector: 8, data: page(1) });
    await settle();
    const [e] = driver.takeEnds();
    disk.queue.endRemote(e.token, BlkStatus.MEDIUM, undefined, 'medium error at sector 8');
    expect(await c).toEqual({ status: BlkStatus.MEDIUM, error: 'medium error at sector 8' });
    const u = disk.submit({ op: ReqOp.WRITE, sector: 8, data: page(1) });
    await settle();
    const [eu] = driver.takeEnds();
    expect(disk.queue.endRemote(eu.token, 99 as BlkStatus, undefined, 'garbage')).toBe(OpResult.Ok);
    expect(await u).toEqual({ status: BlkStatus.IOERR, error: 'rmt0/0/0#2: end with unknown status 99' });
    await disk.del();
  });

  it('refuses stale, double, unheld and unknown ends, changes nothing, and counts them', async () => {
    const { disk, driver } = remoteDisk();
    const c = disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(1) });
    const token = { hctx: 0, tag: 0, gen: 1 };
    // Still in the plug: the driver does not hold it.
    expect(disk.queue.endRemote(token, BlkStatus.OK)).toBe(OpResult.BadState);
    await settle();
    const rq = driver.pushed[0];
    expect(rq.token).toEqual(token);
    expect(disk.queue.endRemote({ ...token, gen: 2 }, BlkStatus.OK)).toBe(OpResult.Stale);
    expect(disk.queue.endRemote({ ...token, tag: 5 }, BlkStatus.OK)).toBe(OpResult.Stale);
    expect(disk.queue.endRemote({ hctx: 9, tag: 0, gen: 1 }, BlkStatus.OK)).toBe(OpResult.Stale);
    expect(disk.table.slotSync(0, 0)).toMatchObject({ state: RqState.InFlight, refs: 2 });
    expect(disk.queue.endRemote(token, BlkStatus.OK)).toBe(OpResult.Ok);
    expect(await c).toEqual({ status: BlkStatus.OK });
    expect(disk.queue.endRemote(token, BlkStatus.OK)).toBe(OpResult.Stale);
    expect(disk.stats().engine.staleEnds).toBe(5);
    // A reference kept past the end: a second end is AlreadyComplete.
    driver.holdRefs = true;
    const d = disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(2) });
    await settle();
    const t2 = driver.pushed[1].token;
    expect(disk.queue.endRemote(t2, BlkStatus.OK)).toBe(OpResult.Ok);
    expect(disk.queue.endRemote(t2, BlkStatus.IOERR)).toBe(OpResult.AlreadyComplete);
    expect(await d).toEqual({ status: BlkStatus.OK });
    expect(driver.refs[0].drop()).toBe(OpResult.Recycled);
    expect(disk.stats().engine.staleEnds).toBe(6);
    await disk.del();
  });

  it('reports live requests and tags in use per hctx', async () => {
    const { disk, driver } = remoteDisk({ nrHwQueues: 2 });
    const subs = [0, 1, 2].map((cpu) => disk.submit({ op: ReqOp.WRITE, sector: cpu * 16, data: page(cpu), cpu }));
    await settle();
    expect(disk.queue.liveRequests).toBe(3);
    expect(disk.queue.tagsInUse()).toEqual([2, 1]);
    for (const e of driver.takeEnds()) disk.queue.endRemote(e.token, e.status);
    await Promise.all(subs);
    expect(disk.queue.liveRequests).toBe(0);
    expect(disk.queue.tagsInUse()).toEqual([0, 0]);
    await disk.del();
  });
});

describe('Engine.failAll', () => {
  it('ends every live request (in flight, requeued, plugged) with the status and message; none reaches the driver afterwards', async () => {
    const { disk, driver } = remoteDisk({}, { requeueDelayMs: 5 });
    driver.budget = 2;
    const first = [0, 1, 2, 3].map((i) => disk.submit({ op: ReqOp.WRITE, sector: i * 16, data: page(i) }));
    await sleep(2); // flushed: 2 in flight at the far side, 2 requeued
    expect(driver.pushed).toHaveLength(2);
    const plugged = disk.submit({ op: ReqOp.READ, sector: 200, bytes: KiB4 });
    expect(disk.queue.liveRequests).toBe(5);
    expect(disk.queue.failAll(BlkStatus.IOERR, 'rmt0: owner lost its lease')).toBe(5);
    const all: Completion[] = await Promise.all([...first, plugged]);
    expect(all).toEqual(Array(5).fill({ status: BlkStatus.IOERR, error: 'rmt0: owner lost its lease' }));
    await sleep(10);
    expect(driver.batches).toEqual([4]);
    // The far side's late ends are stale now.
    for (const e of driver.takeEnds()) expect(disk.queue.endRemote(e.token, e.status)).toBe(OpResult.Stale);
    expect(disk.stats().engine.staleEnds).toBe(2);
    await disk.drain();
    expect(disk.table.busyCount).toBe(0);
    expect(disk.queue.failAll(BlkStatus.IOERR, 'again')).toBe(0);
    expect(() => disk.queue.failAll(BlkStatus.OK, 'no')).toThrow(RangeError);
    // The disk still works.
    const w = disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(9) });
    await serve(disk, driver, w);
    expect(await w).toEqual({ status: BlkStatus.OK });
    await disk.del();
  });
});

describe('timeout of a remotely held request (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('ends it with TIMEOUT, drops the driver reference, refuses the late end record, and the tag is reused', async () => {
    const { disk, driver } = remoteDisk({ queueDepth: 1, timeoutMs: 1_000 });
    const c = disk.submit({ op: ReqOp.WRITE, sector: 0, data: page(1) });
    await jest.advanceTimersByTimeAsync(2);
    expect(disk.table.slotSync(0, 0)).toMatchObject({ state: RqState.InFlight, refs: 2 });
    await jest.advanceTimersByTimeAsync(1_500);
    expect(await c).toEqual({ status: BlkStatus.TIMEOUT });
    expect(disk.table.slotSync(0, 0)).toMatchObject({ state: RqState.Idle, refs: 0 });
    const [late] = driver.takeEnds();
    expect(disk.queue.endRemote(late.token, BlkStatus.OK)).toBe(OpResult.Stale);
    expect(disk.stats().engine).toMatchObject({ staleEnds: 1, timeouts: 1 });
    const next = disk.submit({ op: ReqOp.WRITE, sector: 8, data: page(2) });
    await jest.advanceTimersByTimeAsync(2);
    const [e] = driver.takeEnds();
    expect(e.token).toEqual({ hctx: 0, tag: 0, gen: 2 });
    disk.queue.endRemote(e.token, e.status);
    expect(await next).toEqual({ status: BlkStatus.OK });
    await disk.del();
  });
});
