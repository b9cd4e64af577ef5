// Tag waits: round robin between clients, FIFO within one client, no overtaking.

import { BlkStatus } from './blk-status';
import { GenDiskBuilder } from './gen-disk-builder';
import { InProcRequestTable } from './inproc-request-table';
import { ReqOp } from './req-op';
import type { RequestToken } from './request-table';
import { TagSet } from './tag-set';
import { TagWaitQueue } from './tag-wait';
import { HoldDriver, settle } from './testing/hold-driver';

function oneTag(sharedTagBitmap = false, nrHwQueues = 1) {
  const table = new InProcRequestTable('tw0', { nrHwQueues, queueDepth: 1, sharedTagBitmap, recycle: 'inline' });
  const waits = new TagWaitQueue(table);
  const order: string[] = [];
  const tokens: RequestToken[] = [];
  const acquire = (client: number, name: string, hctx = 0) =>
    waits.acquire(hctx, client, (t) => {
      order.push(name);
      tokens.push(t);
    });
  /** Ends the request holding the tag (inline recycle frees it) and wakes the pool. */
  const release = (hctx = 0) => {
    const t = tokens.shift()!;
    table.applySync([{ op: 'end', token: t, status: 0 }]);
    waits.wake(hctx);
  };
  return { waits, order, acquire, release };
}

describe('TagWaitQueue', () => {
  it('serves clients round robin and each client FIFO', () => {
    const { order, acquire, release, waits } = oneTag();
    acquire(1, 'a0');
    for (const n of ['a1', 'a2', 'a3']) acquire(1, n);
    acquire(2, 'b1');
    acquire(2, 'b2');
    acquire(3, 'c1');
    expect(waits.waiting).toBe(6);
    for (let i = 0; i < 6; i++) release();
    expect(order).toEqual(['a0', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(waits.waiting).toBe(0);
    expect(waits.waits).toBe(6);
  });

  it('never lets a new submitter overtake a waiter, of its own client or another', () => {
    const { order, acquire, release } = oneTag();
    acquire(1, 'a0');
    acquire(1, 'a1');
    acquire(2, 'b1');
    release(); // a1 (A's turn came first)
    acquire(2, 'b2'); // a free tag is not there, and b1 waits: b2 queues behind it
    acquire(1, 'a2');
    release();
    release();
    release();
    expect(order).toEqual(['a0', 'a1', 'b1', 'a2', 'b2']);
  });

  it('keeps pools apart: a waiter of hctx 0 does not hold up hctx 1', () => {
    const { order, acquire } = oneTag(false, 2);
    acquire(1, 'a0', 0);
    acquire(1, 'a1', 0);
    acquire(1, 'x0', 1);
    expect(order).toEqual(['a0', 'x0']);
  });
});

describe('fair tag waits in the engine', () => {
  it('serves client B within 2 grants while client A has 1,000 requests queued on a 1-tag disk', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder()
      .name('fair0')
      .capacitySectors(4096)
      .build(new TagSet({ queueDepth: 1 }), driver);
    const a = Array.from({ length: 1000 }, (_, i) => disk.submit({ op: ReqOp.READ, sector: 2 * i, bytes: 512, client: 1 }));
    const b = disk.submit({ op: ReqOp.READ, sector: 4001, bytes: 512, client: 2 });
    await settle();
    expect(driver.held.map((rq) => rq.sector)).toEqual([0]);
    let grants = 0;
    while (!driver.seen.some((s) => s.rq.sector === 4001)) {
      driver.endOldest(1);
      grants += 1;
      await settle();
    }
    // Grant 1 goes to A's second request (A's turn came first), grant 2 to B.
    expect(grants).toBe(2);
    expect(driver.seen.map((s) => s.rq.sector)).toEqual([0, 2, 4001]);
    driver.endOldest(2);
    expect(await b).toMatchObject({ status: BlkStatus.OK });
    await settle();
    while (driver.held.length) {
      driver.endOldest(driver.held.length);
      await settle();
    }
    expect((await Promise.all(a)).every((c) => c.status === BlkStatus.OK)).toBe(true);
    // Within A, FIFO.
    const aOrder = driver.seen.map((s) => s.rq.sector).filter((s) => s !== 4001);
    expect(aOrder).toEqual(Array.from({ length: 1000 }, (_, i) => 2 * i));
    await disk.del();
  });

  it('takes the client from cpu when not given', async () => {
    const driver = new HoldDriver();
    const disk = new GenDiskBuilder()
      .name('fair1')
      .capacitySectors(4096)
      .build(new TagSet({ queueDepth: 1 }), driver);
    const subs = [0, 2, 4].map((sector) => disk.submit({ op: ReqOp.READ, sector, bytes: 512, cpu: 0 }));
    subs.push(disk.submit({ op: ReqOp.READ, sector: 100, bytes: 512, cpu: 3 }));
    await settle();
    for (let i = 0; i < 4; i++) {
      driver.endOldest(1);
      await settle();
    }
    await Promise.all(subs);
    expect(driver.seen.map((s) => s.rq.sector)).toEqual([0, 2, 100, 4]);
    await disk.del();
  });
});
