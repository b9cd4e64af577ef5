// The cluster's hot path in one process (HotPathHarness: registry, dispatch engines with
// remote drivers, the rnull driver host, completion), on the real Redis: data integrity
// over every irqmode, budgets that come back, refused stale ends, fair tag waits, and
// the death of an owner (DESIGN §3, I1–I4).
import { randomBytes } from 'node:crypto';
import { BlkStatus } from '#blk-mq';
import { encodeEnds, MessageKind, OwnerRegistry } from '#redis-mq';
import { WIRE_OP } from '#dispatch';
import { HotPathHarness } from './testing/hot-path-harness';
import { eventually } from './testing/eventually';

const { READ, WRITE, WRITE_ZEROES } = WIRE_OP;
jest.setTimeout(30_000);
const PLACEMENTS = ['remote', 'local'] as const;
let h: HotPathHarness;

afterEach(async () => {
  await h?.stop();
});

async function budgetUsed(disk: string): Promise<number> {
  const budget = await new OwnerRegistry(h.redis, h.keys).budget(disk);
  return budget.reduce((n, b) => n + b.used, 0);
}

describe.each(PLACEMENTS)('driver placement %s', (placement) => {
  describe.each([0, 1, 2])('irqmode %i', (irqmode) => {
    it('reads back every write, zeros where nothing was written, and gives its budget back', async () => {
      h = await HotPathHarness.start({ placement });
      await h.createDisk('d0', { size: 16, irqmode, completionNsec: 200_000, hwQueueDepth: 8 });
      const blocks = Array.from({ length: 40 }, (_, i) => ({ sector: i * 32, data: randomBytes(4096 * (1 + (i % 3))) }));
      const writes = await Promise.all(
        blocks.map((b) => h.submit({ disk: 'd0', op: WRITE, sector: b.sector, length: b.data.length, data: b.data })),
      );
      expect(writes.map((w) => w.status)).toEqual(blocks.map(() => BlkStatus.OK));
      const reads = await Promise.all(blocks.map((b) => h.submit({ disk: 'd0', op: READ, sector: b.sector, length: b.data.length })));
      reads.forEach((r, i) => {
        expect(r.status).toBe(BlkStatus.OK);
        expect(Buffer.compare(r.data!, blocks[i].data)).toBe(0);
      });
      const unwritten = await h.submit({ disk: 'd0', op: READ, sector: 30000, length: 8192 });
      expect(unwritten.data).toEqual(Buffer.alloc(8192));
      expect(await eventually(async () => (await budgetUsed('d0')) === 0)).toBe(true);
      // Request data in transit is gone once every request ended.
      expect(await h.redis.hlen(h.keys.requestData('d0'))).toBe(0);
    });
  });

  it('vetoes IO over a bad range (IOERR, nothing moved), writes the good prefix with partial_io, clears a once range in the registry', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('bb0', { size: 16, badblocksPartialIo: true, badblocksOnce: true });
    const old = randomBytes(32768);
    expect((await h.submit({ disk: 'bb0', op: WRITE, sector: 0, length: old.length, data: old })).status).toBe(BlkStatus.OK);
    await h.registry.configure('bb0', { badblocks: '+21-22' });
    await h.registry.configure('bb0', { badblocks: '+60-60' });
    const next = randomBytes(16384);
    // Sectors 0..31; the bad sector 21 rounds down to the block at 16: blocks 0 and 1 land.
    expect((await h.submit({ disk: 'bb0', op: WRITE, sector: 0, length: next.length, data: next })).status).toBe(BlkStatus.IOERR);
    expect(await eventually(async () => (await h.registry.get('bb0')).attributes.badblocks === '60 1\n')).toBe(true);
    const back = await h.submit({ disk: 'bb0', op: READ, sector: 0, length: 28672 }); // up to sector 55, short of the bad 60
    expect([back.status, back.message]).toEqual([BlkStatus.OK, '']);
    expect(back.data).toEqual(Buffer.concat([next.subarray(0, 8192), old.subarray(8192, 28672)]));
    // partial_io at the first block of a request moves nothing.
    expect((await h.submit({ disk: 'bb0', op: WRITE, sector: 56, length: 4096, data: randomBytes(4096) })).status).toBe(BlkStatus.IOERR);
    expect((await h.submit({ disk: 'bb0', op: READ, sector: 56, length: 4096 })).data).toEqual(old.subarray(56 * 512, 64 * 512));
    expect(await eventually(async () => (await h.registry.get('bb0')).attributes.badblocks === '')).toBe(true);
  });

  it('serves a disk without memory backing: writes are dropped, reads are zeros, nothing stays staged', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('nomem', { size: 16, memoryBacked: false, irqmode: 1 });
    const w = await h.submit({ disk: 'nomem', op: WRITE, sector: 8, length: 4096, data: randomBytes(4096) });
    expect(w.status).toBe(BlkStatus.OK);
    const r = await h.submit({ disk: 'nomem', op: READ, sector: 8, length: 4096 });
    expect(r.status).toBe(BlkStatus.OK);
    expect(r.data).toEqual(Buffer.alloc(4096));
    expect(await eventually(async () => (await h.redis.hlen(h.keys.requestData('nomem'))) === 0)).toBe(true);
  });

  it('zeroes 512 MiB of a sparse disk and keeps the pages outside the range', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('z0', { size: 1024 });
    const keep = randomBytes(4096);
    await h.submit({ disk: 'z0', op: WRITE, sector: 0, length: 4096, data: keep });
    await h.submit({ disk: 'z0', op: WRITE, sector: 8 * 1000, length: 4096, data: randomBytes(4096) });
    const z = await h.submit({ disk: 'z0', op: WRITE_ZEROES, sector: 8, length: 512 * 1024 * 1024 });
    expect(z.status).toBe(BlkStatus.OK);
    expect((await h.submit({ disk: 'z0', op: READ, sector: 8 * 1000, length: 4096 })).data).toEqual(Buffer.alloc(4096));
    expect((await h.submit({ disk: 'z0', op: READ, sector: 0, length: 4096 })).data).toEqual(keep);
  });

  it('serves a small read of another client while a 4 MiB write waits for tags (fair tag waits)', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('fair0', { size: 64, maxSectors: 8, hwQueueDepth: 2, irqmode: 2, completionNsec: 2_000_000 });
    const big = randomBytes(4 * 1024 * 1024);
    const order: string[] = [];
    const layer = h.dispatches[0].layer;
    const write = layer
      .submit({ disk: 'fair0', op: WRITE, sector: 0, length: big.length, data: big, flags: 0 }, 0, 1)
      .then((r) => (order.push('write'), r));
    await new Promise((r) => setTimeout(r, 20));
    const read = layer
      .submit({ disk: 'fair0', op: READ, sector: 2048 * 8, length: 4096, flags: 0 }, 0, 2)
      .then((r) => (order.push('read'), r));
    const [w, r] = await Promise.all([write, read]);
    expect(w.status).toBe(BlkStatus.OK);
    expect(r.status).toBe(BlkStatus.OK);
    expect(order).toEqual(['read', 'write']);
    const back = await h.submit({ disk: 'fair0', op: READ, sector: 0, length: big.length });
    expect(Buffer.compare(back.data!, big)).toBe(0);
  });

  it('gives the tags of a dispatch instance that died back after its owner lease, to a new instance', async () => {
    h = await HotPathHarness.start({ ownerLeaseMs: 600, placement });
    await h.createDisk('own0', { size: 4, hwQueueDepth: 4, irqmode: 2, completionNsec: 400_000_000 });
    // Four IOs (apart, so none merges) hold every tag of the disk when the first instance dies.
    const lost = Array.from({ length: 4 }, (_, i) =>
      h.submit({ disk: 'own0', op: WRITE, sector: i * 16, length: 4096, data: Buffer.alloc(4096, i) }),
    );
    void Promise.allSettled(lost);
    expect(await eventually(async () => (await budgetUsed('own0')) === 4, 5000)).toBe(true);
    await h.killDispatch(0);
    const second = await h.addDispatch();
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        second.layer.submit({ disk: 'own0', op: WRITE, sector: 64 + i * 16, length: 4096, data: Buffer.alloc(4096, 9), flags: 0 }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([0, 0, 0, 0]);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await eventually(async () => (await budgetUsed('own0')) === 0)).toBe(true);
  });
});

// Remote placement: end records arrive from another process.
it('refuses an end record for a generation it does not hold, and counts it', async () => {
  h = await HotPathHarness.start();
  await h.createDisk('stale0', { size: 4, hwQueueDepth: 1 });
  const w = await h.submit({ disk: 'stale0', op: WRITE, sector: 0, length: 4096, data: Buffer.alloc(4096, 7) });
  expect(w.status).toBe(BlkStatus.OK);
  const q = h.dispatches[0].layer.diskQueue('stale0')!;
  // The same end again (a duplicate delivery): tag 0 of generation 1 already ended.
  const duplicate = encodeEnds(MessageKind.End, { hctx: 0, epoch: q.lease.epoch, seq: 0, atMs: Date.now() }, [
    { tag: 0, gen: 1, status: BlkStatus.OK, hasData: false, dataBytes: 0, sector: 0 },
  ]);
  const before = q.engine.counters.staleEnds;
  await h.redis.rpush(h.keys.completionList('stale0', q.lease.epoch), duplicate);
  expect(await eventually(async () => q.engine.counters.staleEnds === before + 1)).toBe(true);
  // The disk still works, and the tag is free.
  const r = await h.submit({ disk: 'stale0', op: READ, sector: 0, length: 4096 });
  expect(r.data).toEqual(Buffer.alloc(4096, 7));
});

it('ends a request the driver never finishes with TIMEOUT, refuses its late end, and reuses the tag', async () => {
  h = await HotPathHarness.start();
  await h.createDisk('late0', { size: 4, irqmode: 2, completionNsec: 1_500_000_000, timeoutMs: 200, hwQueueDepth: 1 });
  const t0 = Date.now();
  const r = await h.submit({ disk: 'late0', op: READ, sector: 0, length: 4096 });
  expect(r.status).toBe(BlkStatus.TIMEOUT);
  expect(Date.now() - t0).toBeLessThan(1200);
  const q = h.dispatches[0].layer.diskQueue('late0')!;
  const before = q.engine.counters.staleEnds;
  // The tag is usable again at once (its next request also times out, long before the timer).
  const again = await h.submit({ disk: 'late0', op: READ, sector: 8, length: 4096 });
  expect(again.status).toBe(BlkStatus.TIMEOUT);
  expect(await eventually(async () => q.engine.counters.staleEnds >= before + 1, 5000)).toBe(true);
});

// Local placement: the driver runs in each dispatch instance, and the instances share the
// disk's Redis tag budget (TagBudget, I1).
it("two dispatch instances with local drivers share one disk's budget: what it does not cover is requeued (RESOURCE), every IO ends once and reads back", async () => {
  h = await HotPathHarness.start({ placement: 'local' });
  await h.createDisk('share0', { size: 16, hwQueueDepth: 4, irqmode: 2, completionNsec: 20_000_000 });
  const second = await h.addDispatch();
  const data = (i: number) => Buffer.alloc(4096, i);
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? second.layer : h.dispatches[0].layer).submit({
        disk: 'share0',
        op: WRITE,
        sector: i * 16,
        length: 4096,
        data: data(i),
        flags: 0,
      }),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(results.map(() => BlkStatus.OK));
  const requeued = [h.dispatches[0], second].map((d) => d.layer.diskQueue('share0')!.engine.counters.requeued);
  expect(requeued[0] + requeued[1]).toBeGreaterThan(0);
  for (let i = 0; i < 16; i++) {
    expect((await h.submit({ disk: 'share0', op: READ, sector: i * 16, length: 4096 })).data).toEqual(data(i));
  }
  expect(await eventually(async () => (await budgetUsed('share0')) === 0)).toBe(true);
});

describe.each(PLACEMENTS)('reshape while powered off, driver placement %s', (placement) => {
  it('opens the queue on the tag space laid out at power on, not the one it read while the disk was off', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('po0', { size: 16, submitQueues: 1, hwQueueDepth: 4 });
    const layer = h.dispatches[0].layer;
    expect(layer.diskQueue('po0')?.nrHwQueues).toBe(1);
    await h.registry.power('po0', false);
    await h.registry.configure('po0', { submitQueues: 4 });
    await h.registry.power('po0', true);
    expect(await eventually(async () => layer.diskQueue('po0')?.nrHwQueues === 4, 5000)).toBe(true);
    const data = randomBytes(8192);
    const writes = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => h.submit({ disk: 'po0', op: WRITE, sector: i * 16, length: data.length, data })),
    );
    expect(writes.map((w) => w.status)).toEqual(Array(8).fill(BlkStatus.OK));
    const back = await h.submit({ disk: 'po0', op: READ, sector: 112, length: data.length });
    expect(Buffer.compare(back.data!, data)).toBe(0);
  });
});
