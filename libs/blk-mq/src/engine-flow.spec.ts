// The engine under pressure: tag exhaustion (FIFO backpressure), requeue on RESOURCE /
// DEV_RESOURCE, and the timeout handler (fake timers).

import { BlkStatus } from './blk-status';
import type { GenDisk } from './gen-disk';
import { GenDiskBuilder } from './gen-disk-builder';
import { Operations, TimeoutAction } from './operations';
import { ReqOp } from './req-op';
import type { Request } from './request';
import { RqState } from './request-table';
import { TagSet } from './tag-set';
import { HoldDriver, settle } from './testing/hold-driver';

const read = (disk: GenDisk, sector: number, cpu = 0) => disk.submit({ op: ReqOp.READ, sector, bytes: 512, cpu });

function holdDisk(tags: ConstructorParameters<typeof TagSet>[0], driver = new HoldDriver()) {
  const disk = new GenDiskBuilder()
    .name('hold0')
    .capacitySectors(1024)
    .build(new TagSet(tags), driver, { requeueDelayMs: 1, noMerges: true });
  return { disk, driver };
}

describe('backpressure', () => {
  it('makes submitters wait for tags, serves them first come first served, and fails none', async () => {
    const { disk, driver } = holdDisk({ queueDepth: 2 });
    const subs = [0, 1, 2, 3, 4, 5].map((s) => read(disk, s));
    await settle();
    expect(driver.held.map((rq) => rq.sector)).toEqual([0, 1]);
    expect(disk.stats().engine.tagWaits).toBe(4);
    for (let round = 0; round < 3; round++) {
      driver.endOldest(2);
      await settle();
    }
    expect(driver.seen.map((s) => s.rq.sector)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await Promise.all(subs)).every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(disk.table.counters).toMatchObject({ allocated: 6, recycled: 6 });
    await disk.del();
  });

  it('lets a late submitter not overtake waiters when a tag frees up', async () => {
    const { disk, driver } = holdDisk({ queueDepth: 1 });
    const a = read(disk, 10);
    const b = read(disk, 11);
    await settle();
    driver.endOldest(1);
    const c = read(disk, 12);
    await settle();
    expect(driver.held.map((rq) => rq.sector)).toEqual([11]);
    driver.endOldest(1);
    await settle();
    driver.endOldest(1);
    await Promise.all([a, b, c]);
    expect(driver.seen.map((s) => s.rq.sector)).toEqual([10, 11, 12]);
    await disk.del();
  });

  it('shares one pool of tags between hctxs with sharedTagBitmap', async () => {
    const { disk, driver } = holdDisk({ nrHwQueues: 2, queueDepth: 2, sharedTagBitmap: true });
    const subs = [0, 1, 2, 3].map((cpu) => read(disk, cpu, cpu));
    await settle();
    expect(driver.held).toHaveLength(2);
    expect(new Set(driver.held.map((rq) => rq.token.tag)).size).toBe(2);
    driver.endOldest(2);
    await settle();
    driver.endOldest(2);
    expect((await Promise.all(subs)).map((c) => c.status)).toEqual(Array(4).fill(BlkStatus.OK));
    expect(new Set(driver.seen.map((s) => s.hctx))).toEqual(new Set([0, 1]));
    await disk.del();
  });
});

describe('requeue', () => {
  it.each([BlkStatus.RESOURCE, BlkStatus.DEV_RESOURCE])(
    'retries a request refused with %s later, stopping the batch at the refusal',
    async (refusal) => {
      const { disk, driver } = holdDisk({ queueDepth: 4 });
      let refusals = 2;
      driver.verdict = (rq) => (rq.sector === 1 && refusals-- > 0 ? refusal : BlkStatus.OK);
      const subs = [0, 1, 2].map((s) => read(disk, s));
      await settle();
      expect(driver.seen.map((s) => s.rq.sector)).toEqual([0, 1]);
      while (driver.held.length < 3) await new Promise((r) => setTimeout(r, 2));
      driver.endOldest(3);
      expect((await Promise.all(subs)).map((c) => c.status)).toEqual(Array(3).fill(BlkStatus.OK));
      expect(driver.seen.map((s) => s.rq.sector)).toEqual([0, 1, 1, 1, 2]);
      expect(disk.hctxs[0].counters.requeued).toBe(4);
      expect(new Set(driver.seen.filter((s) => s.rq.sector === 1).map((s) => s.rq.name)).size).toBe(1);
      await disk.del();
    },
  );

  it('gives back the driver reference of a started request it requeues', async () => {
    let first = true;
    const ops: Operations = {
      queueRq(_h, rq) {
        rq.start();
        if (first) {
          first = false;
          expect(disk.table.slotSync(0, rq.token.tag)).toMatchObject({ state: RqState.InFlight, refs: 2 });
          return BlkStatus.RESOURCE;
        }
        expect(disk.table.slotSync(0, rq.token.tag)).toMatchObject({ state: RqState.InFlight, refs: 2 });
        rq.end();
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete() {},
    };
    const disk = new GenDiskBuilder().name('rq0').capacitySectors(64).build(new TagSet(), ops, { requeueDelayMs: 0 });
    expect(await read(disk, 0)).toEqual({ status: BlkStatus.OK, data: new Uint8Array(512) });
    expect(disk.stats().engine.requeued).toBe(1);
    expect(disk.table.counters.badState + disk.table.counters.noReference).toBe(0);
    await disk.del();
  });
});

describe('timeouts (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('ends a lost request with TIMEOUT after timeoutMs by default, and frees its tag', async () => {
    const { disk, driver } = holdDisk({ queueDepth: 2, timeoutMs: 5_000 });
    const c = read(disk, 0);
    await jest.advanceTimersByTimeAsync(1);
    expect(driver.held).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(disk.table.busyCount).toBe(1);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(await c).toEqual({ status: BlkStatus.TIMEOUT });
    expect(disk.table.busyCount).toBe(0);
    expect(disk.stats().engine.timeouts).toBe(1);
    expect(() => driver.held[0].end()).toThrow(/already ended|stale/);
  });

  it("calls the driver's timeout handler, which may reset the timer once", async () => {
    const calls: string[] = [];
    const driver = new (class extends HoldDriver {
      timeout(rq: Request): TimeoutAction {
        calls.push(rq.name);
        if (calls.length === 1) return TimeoutAction.ResetTimer;
        rq.end(BlkStatus.TARGET);
        return TimeoutAction.Done;
      }
    })();
    const { disk } = holdDisk({ timeoutMs: 1_000 }, driver);
    const c = read(disk, 0);
    await jest.advanceTimersByTimeAsync(1_600);
    expect(calls).toEqual(['hold0/0/0#1']);
    expect(disk.table.busyCount).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
    expect(await c).toEqual({ status: BlkStatus.TARGET });
  });

  it('completeAfter runs complete after the delay, holding a reference until then', async () => {
    const driver = new (class extends HoldDriver {
      override queueRq(h: Parameters<HoldDriver['queueRq']>[0], rq: Request, isLast: boolean): BlkStatus {
        const s = super.queueRq(h, rq, isLast);
        rq.completeAfter(3_000_000);
        return s;
      }
    })();
    const { disk } = holdDisk({ timeoutMs: 1_000 }, driver);
    const c = read(disk, 0);
    await jest.advanceTimersByTimeAsync(1);
    expect(disk.table.slotSync(0, 0)).toMatchObject({ state: RqState.InFlight, refs: 3 });
    await jest.advanceTimersByTimeAsync(1);
    expect(disk.table.slotSync(0, 0).state).toBe(RqState.InFlight);
    await jest.advanceTimersByTimeAsync(2);
    expect(await c).toEqual({ status: BlkStatus.OK, data: new Uint8Array(512) });
    expect(disk.table.slotSync(0, 0)).toMatchObject({ state: RqState.Idle, refs: 0 });
    expect(() => driver.held[0].completeAfter(-1)).toThrow(/completeAfter needs nsec >= 0/);
  });

  it('disarms the scan when the disk is idle', async () => {
    const { disk, driver } = holdDisk({ timeoutMs: 1_000 });
    const c = read(disk, 0);
    await jest.advanceTimersByTimeAsync(1);
    driver.endOldest(1);
    await c;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(jest.getTimerCount()).toBe(0);
  });
});
