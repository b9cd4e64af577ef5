// Stopped hardware queues: HwQueueStops alone, and an engine whose driver stops its queues
// on DEV_RESOURCE and starts them later (null_blk's bandwidth throttle shape).

import { BlkStatus } from './blk-status';
import { GenDiskBuilder } from './gen-disk-builder';
import type { Hctx } from './hctx';
import { HwQueueStops, UNSTOPPABLE_QUEUE } from './hw-queue-stop';
import type { Operations } from './operations';
import { ReqOp } from './req-op';
import type { Request } from './request';
import { TagSet } from './tag-set';
import { settle } from './testing/hold-driver';

describe('HwQueueStops', () => {
  it('runs batches at once while started, keeps them in order while stopped, runs them after a start', async () => {
    const ran: [number, string[]][] = [];
    const q = new HwQueueStops<string>(2, (h, b) => ran.push([h, b]));
    q.dispatch(0, ['a']);
    expect(ran).toEqual([[0, ['a']]]);
    q.stopHwQueues();
    expect(q.isStopped(0) && q.isStopped(1)).toBe(true);
    q.dispatch(0, ['b']);
    q.dispatch(1, ['c']);
    q.dispatch(0, ['d']);
    expect(ran).toHaveLength(1);
    expect(q.waiting).toBe(3);
    q.startStoppedHwQueues();
    expect(ran).toHaveLength(1); // asynchronously, never on the caller's stack
    await settle();
    expect(ran).toEqual([
      [0, ['a']],
      [0, ['b']],
      [0, ['d']],
      [1, ['c']],
    ]);
    expect(q.waiting).toBe(0);
  });

  it('keeps the rest waiting when a run stops the queues again', async () => {
    const ran: string[] = [];
    const q: HwQueueStops<string> = new HwQueueStops<string>(1, (_h, b) => {
      ran.push(b[0]);
      q.stopHwQueues();
    });
    q.stopHwQueues();
    q.dispatch(0, ['x']);
    q.dispatch(0, ['y']);
    q.startStoppedHwQueues();
    await settle();
    expect(ran).toEqual(['x']);
    expect(q.waiting).toBe(1);
    q.dispatch(0, ['z']); // behind y, even once started
    q.startStoppedHwQueues();
    await settle();
    expect(ran).toEqual(['x', 'y']);
    q.startStoppedHwQueues();
    await settle();
    expect(ran).toEqual(['x', 'y', 'z']);
  });

  it('gives a standalone hctx a queue that never stops', () => {
    UNSTOPPABLE_QUEUE.stopHwQueues();
    expect(UNSTOPPABLE_QUEUE.isStopped(0)).toBe(false);
  });
});

/** Takes `allowed` requests, then answers DEV_RESOURCE and stops the queues until `start()`. */
class StoppingDriver implements Operations {
  allowed = 1;
  readonly offered: number[] = [];
  private hctx?: Hctx;
  queueRq(hctx: Hctx, rq: Request): BlkStatus {
    this.hctx = hctx;
    this.offered.push(rq.sector);
    if (this.allowed <= 0) {
      hctx.queue.stopHwQueues();
      return BlkStatus.DEV_RESOURCE;
    }
    this.allowed -= 1;
    rq.start();
    rq.end(BlkStatus.OK);
    return BlkStatus.OK;
  }
  commitRqs(): void {}
  complete(rq: Request): void {
    rq.end(BlkStatus.OK);
  }
  start(allowed: number): void {
    this.allowed = allowed;
    this.hctx?.queue.startStoppedHwQueues();
  }
}

describe('an engine whose driver stops its queues', () => {
  it('offers nothing while stopped, then retries the refused request first and ends everything OK', async () => {
    const driver = new StoppingDriver();
    const disk = new GenDiskBuilder()
      .name('stop0')
      .capacitySectors(1024)
      .build(new TagSet({ queueDepth: 8 }), driver, {
        requeueDelayMs: 1,
        noMerges: true,
      });
    const first = disk.submit({ op: ReqOp.READ, sector: 0, bytes: 512 });
    await settle();
    const rest = [1, 2, 3].map((sector) => disk.submit({ op: ReqOp.READ, sector, bytes: 512 }));
    await new Promise((r) => setTimeout(r, 20));
    // Sector 1 was refused and stopped the queue; its retry and sectors 2, 3 wait.
    expect(driver.offered).toEqual([0, 1]);
    expect(disk.queue.stoppedWaiting).toBe(3);
    driver.start(10);
    const done = await Promise.all([first, ...rest]);
    expect(done.every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(driver.offered).toEqual([0, 1, 1, 2, 3]);
    await disk.del();
  });
});
