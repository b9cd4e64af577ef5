// DESIGN section 3, invariants 1-3, through the engine and a driver, in process: each test
// fails if its invariant breaks.

import { BlkStatus } from './blk-status';
import { GenDiskBuilder } from './gen-disk-builder';
import type { Operations } from './operations';
import { ReqOp } from './req-op';
import type { Request } from './request';
import { DoubleEndError, StaleRequestError } from './request-errors';
import type { RequestRef } from './request-ref';
import { RqState } from './request-table';
import { TagSet } from './tag-set';
import { HoldDriver, settle } from './testing/hold-driver';

const read = (sector: number) => ({ op: ReqOp.READ, sector, bytes: 512 });

describe('invariant 1: a tag is never reallocated while a reference to its previous generation is live', () => {
  it('keeps the tag from the next submitter until the driver drops its reference', async () => {
    const kept: RequestRef[] = [];
    const ops: Operations = {
      queueRq(_h, rq) {
        rq.start();
        kept.push(rq.ref());
        rq.end();
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete() {},
    };
    const disk = new GenDiskBuilder()
      .name('inv1')
      .capacitySectors(64)
      .build(new TagSet({ queueDepth: 1 }), ops);
    expect((await disk.submit(read(0))).status).toBe(BlkStatus.OK);
    const second = disk.submit(read(1));
    await settle();
    expect(kept).toHaveLength(1);
    expect(disk.table.slotSync(0, 0)).toMatchObject({ gen: 1, state: RqState.Complete, refs: 1 });
    expect(disk.stats().engine.tagWaits).toBe(1);
    kept[0].drop();
    expect((await second).status).toBe(BlkStatus.OK);
    expect(kept.map((r) => r.request.token.gen)).toEqual([1, 2]);
    kept[1].drop();
    expect(disk.table.busyCount).toBe(0);
  });

  it("with recycle 'inline' frees the tag at end; a held reference is then stale and its drop a no-op", async () => {
    const kept: RequestRef[] = [];
    const ops: Operations = {
      queueRq(_h, rq) {
        rq.start();
        kept.push(rq.ref());
        rq.end();
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete() {},
    };
    const disk = new GenDiskBuilder()
      .name('inv1i')
      .capacitySectors(64)
      .build(new TagSet({ queueDepth: 1, recycle: 'inline' }), ops);
    await disk.submit(read(0));
    await disk.submit(read(1));
    expect(disk.table.slotSync(0, 0)).toMatchObject({ gen: 2, state: RqState.Idle });
    expect(kept[0].drop()).toBe(-1);
    expect(disk.table.slotSync(0, 0).gen).toBe(2);
  });
});

describe('invariant 2: a request ends at most once', () => {
  it('refuses a second end with DoubleEndError, counts it, and the submitter sees the first status', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder().name('inv2').capacitySectors(64).build(new TagSet(), driver);
    const c = disk.submit(read(0));
    await settle();
    const rq = driver.held[0];
    const keep = rq.ref();
    rq.end(BlkStatus.MEDIUM);
    expect(() => rq.end(BlkStatus.OK)).toThrow(DoubleEndError);
    expect(rq.tryEnd(BlkStatus.OK)).toBe(-2);
    expect(await c).toEqual({ status: BlkStatus.MEDIUM });
    expect(disk.table.counters.doubleEnds).toBe(2);
    expect(disk.table.slotSync(0, rq.token.tag)).toMatchObject({ state: RqState.Complete, status: BlkStatus.MEDIUM });
    keep.drop();
  });

  it('refuses an end through a stale Request after its tag was reused, leaving the new request alone', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder()
      .name('inv2s')
      .capacitySectors(64)
      .build(new TagSet({ queueDepth: 1 }), driver);
    const a = disk.submit(read(0));
    await settle();
    const old: Request = driver.endOldest(1)[0];
    await a;
    const b = disk.submit(read(1));
    await settle();
    const cur = driver.held[0];
    expect(cur.token).toEqual({ ...old.token, gen: old.token.gen + 1 });
    expect(() => old.end(BlkStatus.IOERR)).toThrow(StaleRequestError);
    expect(() => old.pdu).toThrow(StaleRequestError);
    expect(() => old.ref()).toThrow(StaleRequestError);
    expect(old.isCurrent()).toBe(false);
    expect(disk.table.counters.staleRejected).toBe(2);
    expect(disk.table.slotSync(0, cur.token.tag)).toMatchObject({ gen: 2, state: RqState.InFlight, refs: 2 });
    driver.endOldest(1);
    expect((await b).status).toBe(BlkStatus.OK);
  });
});

describe('invariant 3: every allocated request ends, and every tag is IDLE once the disk is idle', () => {
  it('holds under a driver that mixes success, errors, requeues, lost requests, late and duplicate ends', async () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const late: Request[] = [];
    const ops: Operations = {
      queueRq(_h, rq) {
        const r = rand();
        if (r < 0.1) return BlkStatus.RESOURCE;
        if (r < 0.15) return BlkStatus.IOERR;
        rq.start();
        if (r < 0.25) {
          late.push(rq);
          return BlkStatus.OK;
        }
        if (r < 0.35) {
          rq.complete();
          rq.complete();
          return BlkStatus.OK;
        }
        const ref = rq.ref();
        setTimeout(
          () => {
            using _held = ref;
            rq.tryEnd(r < 0.4 ? BlkStatus.MEDIUM : BlkStatus.OK);
            rq.tryEnd(BlkStatus.OK);
          },
          Math.floor(r * 4),
        );
        return BlkStatus.OK;
      },
      commitRqs() {},
      complete(rq) {
        rq.tryEnd(BlkStatus.OK);
      },
    };
    const disk = new GenDiskBuilder()
      .name('inv3')
      .capacitySectors(4096)
      .build(new TagSet({ nrHwQueues: 2, queueDepth: 4, timeoutMs: 15 }), ops, { timeoutScanMs: 5, requeueDelayMs: 1 });
    const subs = Array.from({ length: 200 }, (_, i) => disk.submit({ ...read(i), cpu: i }));
    const done = await Promise.all(subs);
    for (const rq of late) expect(rq.tryEnd(BlkStatus.OK)).toBeLessThan(0);
    await disk.drain();
    const statuses = new Set(done.map((c) => c.status));
    expect([...statuses].sort()).toEqual([BlkStatus.OK, BlkStatus.TIMEOUT, BlkStatus.MEDIUM, BlkStatus.IOERR].sort());
    expect(disk.table.busySync()).toEqual([]);
    const { engine, table } = disk.stats();
    expect(engine).toMatchObject({ submitted: 200, completed: 200 });
    expect(table.allocated).toBe(200);
    expect(table.recycled).toBe(200);
    expect(engine.lateCompletes).toBeGreaterThan(0);
    expect(table.doubleEnds + table.staleRejected).toBeGreaterThan(0);
    await disk.del();
  });
});
