// RnullDriver with `mbps` on the in-process engine (real timers, lower bounds only): the
// throttle answers DEV_RESOURCE, stops the queue, and the refill starts it again.
import { BlkStatus, GenDiskBuilder, ReqOp, TagSet } from '#blk-mq';
import { mbPerTick, TICK_MS } from './bandwidth-budget';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES } from './disk-attributes';
import { RnullDriver } from './rnull-driver';
import { FakeBacking } from './testing/fake-backing';

function throttledDisk(mbps: number) {
  const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 4, mbps }, false);
  const store = new Uint8Array(capacitySectors(attributes) * 512);
  const backing = new FakeBacking(store);
  const events = { refused: 0, stops: 0, seconds: 0 };
  const driver = new RnullDriver(attributes, backing, {
    throttled: (n) => (events.refused += n),
    throttleEnded: (s) => {
      events.stops += 1;
      events.seconds += s;
    },
  });
  const disk = new GenDiskBuilder()
    .name('slow0')
    .capacitySectors(capacitySectors(attributes))
    .build(new TagSet({ queueDepth: 32 }), driver, { noMerges: true });
  return { disk, backing, store, events };
}

describe('RnullDriver with mbps', () => {
  it('moves every byte, no faster than mb_per_tick per 20 ms tick, and reports the throttling', async () => {
    const { disk, backing, store, events } = throttledDisk(1);
    const n = 24; // 96 KiB at 20971 B per tick: at least 4 refills after the first tick
    const t0 = performance.now();
    const done = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        disk.submit({ op: ReqOp.WRITE, sector: i * 8, bytes: 4096, data: new Uint8Array(4096).fill(i + 1) }),
      ),
    );
    const elapsed = performance.now() - t0;
    expect(done.every((c) => c.status === BlkStatus.OK)).toBe(true);
    for (let i = 0; i < n; i++) expect(store[i * 4096]).toBe(i + 1);
    // Each request reached the backing once: refused ones were never started.
    expect(backing.batches.flat()).toHaveLength(n);
    const ticks = Math.ceil((n * 4096) / mbPerTick(1)) - 1;
    expect(elapsed).toBeGreaterThanOrEqual((ticks - 1) * TICK_MS);
    expect(events.refused).toBeGreaterThan(0);
    expect(events.stops).toBeGreaterThanOrEqual(ticks - 1);
    expect(events.seconds).toBeGreaterThan(0);
    expect(disk.stats().engine.requeued).toBe(events.refused);
    await disk.del();
  });

  it('runs nothing of the throttle with mbps = 0', async () => {
    const { disk, events } = throttledDisk(0);
    const done = await Promise.all(Array.from({ length: 64 }, (_, i) => disk.submit({ op: ReqOp.READ, sector: i * 8, bytes: 4096 })));
    expect(done.every((c) => c.status === BlkStatus.OK)).toBe(true);
    expect(events).toEqual({ refused: 0, stops: 0, seconds: 0 });
    expect(disk.stats().engine.requeued).toBe(0);
    await disk.del();
  });
});
