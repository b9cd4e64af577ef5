// RnullDriver on the in-process engine of #blk-mq, with a fake `Backing`, in every irqmode
// (fake timers: the timer completion runs on `Request.completeAfter`'s in-process timer;
// microtasks stay real, since the softirq path queues them from real promise callbacks).
import { BlkStatus, GenDiskBuilder, type GenDisk, type Hctx, OpResult, ReqFlag, ReqOp, Request, TagSet } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes, IrqMode } from './disk-attributes';
import { RnullDriver, type RnullPdu } from './rnull-driver';
import { FakeBacking } from './testing/fake-backing';

/** RnullDriver that records the ops of every batch the engine hands it. */
class RecordingDriver extends RnullDriver {
  readonly queued: ReqOp[] = [];

  override queueRqs(hctx: Hctx, rqs: readonly Request<RnullPdu>[]): Promise<BlkStatus[]> {
    this.queued.push(...rqs.map((r) => r.op));
    return super.queueRqs(hctx, rqs);
  }
}

const FAKE_TIMERS: Parameters<typeof jest.useFakeTimers>[0] = { now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick'] };

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

function rnullDisk(changes: Partial<DiskAttributes>) {
  const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 1, ...changes }, false);
  const store = new Uint8Array(capacitySectors(attributes) * 512);
  const backing = new FakeBacking(store);
  const driver = new RecordingDriver(attributes, backing);
  const tagSet = new TagSet({
    nrHwQueues: attributes.submitQueues,
    queueDepth: attributes.hwQueueDepth,
    timeoutMs: attributes.timeoutMs,
    recycle: attributes.recycle,
  });
  const disk: GenDisk<RnullPdu> = new GenDiskBuilder()
    .name('rnullb0')
    .capacitySectors(capacitySectors(attributes))
    .logicalBlockSize(attributes.blocksize)
    .queueLimits({ volatileWriteCache: true, fua: attributes.fua })
    .build(tagSet, driver, { noMerges: true });
  return { disk, driver, backing, store };
}

/** Marks when a promise settled, so a test can ask "done yet?" between timer steps. */
function track<T>(p: Promise<T>): { readonly done: boolean; readonly value: T | undefined } {
  const t = { done: false, value: undefined as T | undefined };
  p.then((v) => {
    t.done = true;
    t.value = v;
  });
  return t;
}

describe.each([IrqMode.None, IrqMode.Soft, IrqMode.Timer])('RnullDriver, irqmode %d', (irqmode) => {
  /** 2 ms in timer mode; long enough to see, short enough to advance past. */
  const completionNsec = 2_000_000;
  let tryEnd: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers(FAKE_TIMERS);
    tryEnd = jest.spyOn(Request.prototype, 'tryEnd');
  });
  afterEach(() => {
    tryEnd.mockRestore();
    jest.useRealTimers();
  });

  /** Successful ends per request object. */
  function endsPerRequest(): Map<unknown, BlkStatus[]> {
    const ends = new Map<unknown, BlkStatus[]>();
    tryEnd.mock.results.forEach((r, i) => {
      if (r.type !== 'return' || (r.value as OpResult) < 0) return;
      const rq = tryEnd.mock.contexts[i];
      ends.set(rq, [...(ends.get(rq) ?? []), tryEnd.mock.calls[i][0] as BlkStatus]);
    });
    return ends;
  }

  it('ends every request exactly once with OK, and reads back what was written', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec, hwQueueDepth: 4, submitQueues: 2 });
    const writes = Array.from({ length: 12 }, (_, i) => disk.submit({ op: ReqOp.WRITE, sector: i * 8, data: pattern(4096, i), cpu: i }));
    await jest.advanceTimersByTimeAsync(50);
    expect((await Promise.all(writes)).map((c) => c.status)).toEqual(Array(12).fill(BlkStatus.OK));
    const read = disk.submit({ op: ReqOp.READ, sector: 40, bytes: 8192 });
    await jest.advanceTimersByTimeAsync(10);
    const back = await read;
    expect(back.status).toBe(BlkStatus.OK);
    expect(back.data).toEqual(new Uint8Array([...pattern(4096, 5), ...pattern(4096, 6)]));

    const ends = endsPerRequest();
    expect(ends.size).toBe(disk.stats().engine.requests);
    expect([...ends.values()].every((s) => s.length === 1 && s[0] === BlkStatus.OK)).toBe(true);
    expect(backing.seen.map((s) => s.op)).toEqual([...Array(12).fill(ReqOp.WRITE), ReqOp.READ]);
    expect(disk.table.counters).toMatchObject({ doubleEnds: 0, staleRejected: 0, badState: 0, noReference: 0 });
    const del = disk.del();
    await jest.advanceTimersByTimeAsync(1);
    await del;
    expect(disk.table.busyCount).toBe(0);
  });

  it('completes inline, through complete(), or through completeAfter(completion_nsec) as irqmode says', async () => {
    const complete = jest.spyOn(Request.prototype, 'complete');
    const completeAfter = jest.spyOn(Request.prototype, 'completeAfter');
    try {
      const { disk } = rnullDisk({ irqmode, completionNsec });
      const c = disk.submit({ op: ReqOp.WRITE, sector: 0, data: pattern(4096, 1) });
      await jest.advanceTimersByTimeAsync(5);
      expect(await c).toEqual({ status: BlkStatus.OK });
      expect(complete).toHaveBeenCalledTimes(irqmode === IrqMode.Soft ? 1 : 0);
      expect(completeAfter.mock.calls).toEqual(irqmode === IrqMode.Timer ? [[completionNsec]] : []);
    } finally {
      complete.mockRestore();
      completeAfter.mockRestore();
    }
  });

  it('with memory_backed=0 never calls the backing: writes are dropped, reads are zeros', async () => {
    const { disk, backing, store } = rnullDisk({ irqmode, completionNsec, memoryBacked: false });
    const w = disk.submit({ op: ReqOp.WRITE, sector: 8, data: pattern(4096, 9) });
    const f = disk.submit({ op: ReqOp.FLUSH, sector: 0 });
    await jest.advanceTimersByTimeAsync(5);
    expect((await w).status).toBe(BlkStatus.OK);
    expect((await f).status).toBe(BlkStatus.OK);
    const r = disk.submit({ op: ReqOp.READ, sector: 8, bytes: 4096 });
    await jest.advanceTimersByTimeAsync(5);
    expect(await r).toEqual({ status: BlkStatus.OK, data: new Uint8Array(4096) });
    expect(backing.batches).toEqual([]);
    expect(backing.persists).toEqual([]);
    expect(store.every((b) => b === 0)).toBe(true);
    expect([...endsPerRequest().values()]).toEqual([[BlkStatus.OK], [BlkStatus.OK], [BlkStatus.OK]]);
  });

  it('ends a request whose transfer failed with that status at once, and its batch-mates normally', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec: 5_000_000_000 });
    backing.fail = (rq) => (rq.sector === 8 ? BlkStatus.IOERR : BlkStatus.OK);
    const ok = track(disk.submit({ op: ReqOp.WRITE, sector: 0, data: pattern(4096, 1) }));
    const bad = track(disk.submit({ op: ReqOp.WRITE, sector: 8, data: pattern(4096, 2) }));
    await jest.advanceTimersByTimeAsync(1);
    expect(backing.batches).toHaveLength(1);
    expect(bad.done).toBe(true);
    expect(bad.value).toEqual({ status: BlkStatus.IOERR });
    expect(ok.done).toBe(irqmode !== IrqMode.Timer);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(ok.value).toEqual({ status: BlkStatus.OK });
    const ends = [...endsPerRequest().values()];
    expect(ends.sort()).toEqual([[BlkStatus.OK], [BlkStatus.IOERR]].sort());
  });

  it('passes other failure statuses through unchanged', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec });
    backing.fail = () => BlkStatus.MEDIUM;
    const c = disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 });
    await jest.advanceTimersByTimeAsync(1);
    expect(await c).toMatchObject({ status: BlkStatus.MEDIUM });
  });

  it('does not hand FLUSH to the backing, and still ends it OK', async () => {
    const { disk, driver, backing } = rnullDisk({ irqmode, completionNsec });
    const f = disk.submit({ op: ReqOp.FLUSH, sector: 0 });
    const w = disk.submit({ op: ReqOp.WRITE, sector: 16, data: pattern(4096, 3), flags: ReqFlag.FUA });
    await jest.advanceTimersByTimeAsync(5);
    expect(await f).toEqual({ status: BlkStatus.OK });
    expect(await w).toEqual({ status: BlkStatus.OK });
    expect(driver.queued).toEqual([ReqOp.FLUSH, ReqOp.WRITE]);
    expect(backing.seen).toEqual([{ op: ReqOp.WRITE, sector: 16, bytes: 4096 }]);
  });

  it('with cache_size, hands FLUSH to the backing with the cache size (it writes the cache back), then persists', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec, cacheSize: 1 });
    const w = disk.submit({ op: ReqOp.WRITE, sector: 16, data: pattern(4096, 3) });
    await jest.advanceTimersByTimeAsync(5);
    const f = disk.submit({ op: ReqOp.FLUSH, sector: 0 });
    await jest.advanceTimersByTimeAsync(5);
    expect((await Promise.all([w, f])).map((c) => c.status)).toEqual([BlkStatus.OK, BlkStatus.OK]);
    expect(backing.seen).toEqual([
      { op: ReqOp.WRITE, sector: 16, bytes: 4096 },
      { op: ReqOp.FLUSH, sector: 0, bytes: 0 },
    ]);
    expect(backing.cacheBytes).toEqual([1 << 20, 1 << 20]);
    expect(backing.persists).toEqual([2]);
  });

  it('ends FLUSH and FUA / PREFLUSH writes only after persist, once per batch after its transfer; plain writes never ask', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec });
    const plain = disk.submit({ op: ReqOp.WRITE, sector: 0, data: pattern(4096, 1) });
    await jest.advanceTimersByTimeAsync(5);
    expect((await plain).status).toBe(BlkStatus.OK);
    expect(backing.persists).toEqual([]);
    const subs = [
      disk.submit({ op: ReqOp.WRITE, sector: 8, data: pattern(4096, 2), flags: ReqFlag.FUA }),
      disk.submit({ op: ReqOp.FLUSH, sector: 0 }),
      disk.submit({ op: ReqOp.WRITE, sector: 16, data: pattern(4096, 3), flags: ReqFlag.PREFLUSH }),
    ];
    await jest.advanceTimersByTimeAsync(5);
    expect((await Promise.all(subs)).map((c) => c.status)).toEqual([BlkStatus.OK, BlkStatus.OK, BlkStatus.OK]);
    // One persist, after the batch that carried them was transferred (batch 2).
    expect(backing.persists).toEqual([2]);
  });

  it('fails FLUSH and FUA writes with what persist answered; their batch-mates end OK', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec });
    backing.persistStatus = BlkStatus.IOERR;
    const subs = [
      disk.submit({ op: ReqOp.WRITE, sector: 0, data: pattern(4096, 1) }),
      disk.submit({ op: ReqOp.WRITE, sector: 8, data: pattern(4096, 2), flags: ReqFlag.FUA }),
      disk.submit({ op: ReqOp.FLUSH, sector: 0 }),
    ];
    await jest.advanceTimersByTimeAsync(5);
    expect((await Promise.all(subs)).map((c) => c.status)).toEqual([BlkStatus.OK, BlkStatus.IOERR, BlkStatus.IOERR]);
    // The FUA write's data was still stored: only its durability is in doubt.
    expect(backing.seen.map((x) => x.sector)).toEqual([0, 8]);
  });

  it('hands the whole batch to the backing in one call, in order', async () => {
    const { disk, backing } = rnullDisk({ irqmode, completionNsec });
    const subs = [0, 8, 16].map((sector) => disk.submit({ op: ReqOp.WRITE, sector, data: pattern(4096, sector) }));
    await jest.advanceTimersByTimeAsync(5);
    expect((await Promise.all(subs)).every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(backing.batches).toEqual([[0, 8, 16].map((sector) => ({ op: ReqOp.WRITE, sector, bytes: 4096 }))]);
  });
});

describe('RnullDriver, irqmode 2 timing (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers(FAKE_TIMERS));
  afterEach(() => jest.useRealTimers());

  it.each([1_000_000, 5_000_000, 40_000_000])(
    'ends a request completion_nsec=%d after it was queued, not before',
    async (completionNsec) => {
      const { disk } = rnullDisk({ irqmode: IrqMode.Timer, completionNsec });
      const ms = completionNsec / 1e6;
      const c = track(disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 }));
      await jest.advanceTimersByTimeAsync(ms - 1);
      expect(c.done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(c.done).toBe(true);
      expect(c.value).toEqual({ status: BlkStatus.OK, data: new Uint8Array(4096) });
    },
  );

  it('follows a completion_nsec changed in place on the driver', async () => {
    const { disk, driver } = rnullDisk({ irqmode: IrqMode.Timer, completionNsec: 1_000_000 });
    driver.attributes = { ...driver.attributes, completionNsec: 20_000_000 };
    const c = track(disk.submit({ op: ReqOp.READ, sector: 0, bytes: 4096 }));
    await jest.advanceTimersByTimeAsync(19);
    expect(c.done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(c.done).toBe(true);
  });
});
