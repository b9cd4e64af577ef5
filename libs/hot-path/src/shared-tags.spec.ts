// shared_tags in one process (HotPathHarness, real Redis), both placements: several disks
// draw from the one shared tag set, which never holds more than its depth, each gets a
// fair share, a disk of another shape is refused naming the attribute, and the holding of
// a dead owner comes back to the set (DESIGN I15, I3).
import { randomBytes } from 'node:crypto';
import { BlkStatus } from '#blk-mq';
import { SharedTagSet } from '#redis-mq';
import { WIRE_OP } from '#dispatch';
import { HotPathHarness } from './testing/hot-path-harness';
import { eventually } from './testing/eventually';

const { READ, WRITE } = WIRE_OP;
jest.setTimeout(30_000);
const DEPTH = 8;
let h: HotPathHarness;

afterEach(async () => {
  await h?.stop();
});

describe.each(['remote', 'local'] as const)('driver placement %s', (placement) => {
  it('four disks on one shared tag set: every IO succeeds, used never passes the depth, no disk starves, every tag comes back', async () => {
    h = await HotPathHarness.start({ placement });
    const set = new SharedTagSet(h.redis, h.keys);
    const disks = ['s0', 's1', 's2', 's3'];
    // irqmode 2 holds every tag 2 ms, so the disks contend for the set.
    for (const d of disks)
      await h.createDisk(d, { size: 16, hwQueueDepth: DEPTH, sharedTags: true, irqmode: 2, completionNsec: 2_000_000 });
    expect((await set.state()).members).toEqual(disks);

    let maxUsed = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxUsed = Math.max(maxUsed, ...(await set.state()).used);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const blocks = Array.from({ length: 48 }, (_, i) => ({ sector: i * 64, data: randomBytes(4096) }));
    const results = await Promise.all(
      disks.map((disk) => Promise.all(blocks.map((b) => h.submit({ disk, op: WRITE, sector: b.sector, length: 4096, data: b.data })))),
    );
    sampling = false;
    await sampler;
    for (const r of results) expect(r.map((w) => w.status)).toEqual(blocks.map(() => BlkStatus.OK));
    expect(maxUsed).toBeGreaterThan(0);
    expect(maxUsed).toBeLessThanOrEqual(DEPTH);
    const reads = await Promise.all(disks.map((disk) => h.submit({ disk, op: READ, sector: blocks[5].sector, length: 4096 })));
    for (const r of reads) expect(Buffer.compare(r.data!, blocks[5].data)).toBe(0);
    expect(await eventually(async () => (await set.state()).used.every((u) => u === 0))).toBe(true);
    // The disks' own budgets never held a tag.
    for (const d of disks) expect(await h.redis.hgetall(h.keys.tagBudget(d))).toEqual({});
  });

  it('a disk of another hw_queue_depth is refused, naming the attribute; powered off, the set takes the next shape', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('s0', { size: 16, hwQueueDepth: DEPTH, sharedTags: true });
    await expect(h.createDisk('s1', { size: 16, hwQueueDepth: 4, sharedTags: true })).rejects.toThrow(
      /^hw_queue_depth: 4 differs from the shared tag set's 8/,
    );
    await expect(h.registry.power('s1', true)).rejects.toThrow(/hw_queue_depth/);
    await h.registry.power('s0', false);
    await h.registry.power('s1', true);
    expect((await new SharedTagSet(h.redis, h.keys).state()).depth).toBe(4);
    const w = await h.submit({ disk: 's1', op: WRITE, sector: 0, length: 4096, data: randomBytes(4096) });
    expect(w.status).toBe(BlkStatus.OK);
  });
});

it('a dead owner: its holding in the shared set comes back two leases after its last renewal, to a disk of another owner', async () => {
  const leaseMs = 300;
  h = await HotPathHarness.start({ ownerLeaseMs: leaseMs });
  await h.addDispatch();
  const set = new SharedTagSet(h.redis, h.keys);
  // irqmode 2 with 6 s timers: the first owner's requests hold every tag of the set.
  await h.createDisk('a', { size: 16, hwQueueDepth: DEPTH, sharedTags: true, irqmode: 2, completionNsec: 6_000_000_000 });
  await h.createDisk('b', { size: 16, hwQueueDepth: DEPTH, sharedTags: true });
  const doomed = Array.from({ length: DEPTH }, (_, i) =>
    h.submit({ disk: 'a', op: WRITE, sector: i * 64, length: 4096, data: randomBytes(4096) }, 0),
  );
  void Promise.allSettled(doomed);
  expect(await eventually(async () => (await set.state()).heldByDisk.a === DEPTH)).toBe(true);
  await h.killDispatch(0);
  const killedAt = Date.now();
  // Disk b, on the other dispatch, gets the whole set back once a's holding expired.
  const writes = await Promise.all(
    Array.from({ length: DEPTH }, (_, i) => h.submit({ disk: 'b', op: WRITE, sector: i * 64, length: 4096, data: randomBytes(4096) }, 1)),
  );
  expect(writes.map((w) => w.status)).toEqual(writes.map(() => BlkStatus.OK));
  // Well before a's timers (6 s) would have freed the tags: the reclaim gave them back.
  const waited = Date.now() - killedAt;
  expect(waited).toBeGreaterThanOrEqual(leaseMs);
  expect(waited).toBeLessThan(4000);
  const s = await set.state();
  expect(s.heldByDisk.a ?? 0).toBe(0);
});

it('a live owner keeps its holding past its until: renewals with the owner lease renew it, so no other disk takes its tags', async () => {
  const leaseMs = 300;
  h = await HotPathHarness.start({ ownerLeaseMs: leaseMs });
  const set = new SharedTagSet(h.redis, h.keys);
  // a's requests hold every tag for 2 s, more than six leases.
  await h.createDisk('a', { size: 16, hwQueueDepth: DEPTH, sharedTags: true, irqmode: 2, completionNsec: 2_000_000_000 });
  await h.createDisk('b', { size: 16, hwQueueDepth: DEPTH, sharedTags: true });
  const started = Date.now();
  const held = Array.from({ length: DEPTH }, (_, i) =>
    h.submit({ disk: 'a', op: WRITE, sector: i * 64, length: 4096, data: randomBytes(4096) }),
  );
  expect(await eventually(async () => (await set.state()).heldByDisk.a === DEPTH)).toBe(true);
  let maxUsed = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxUsed = Math.max(maxUsed, ...(await set.state()).used);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const b = await h.submit({ disk: 'b', op: WRITE, sector: 0, length: 4096, data: randomBytes(4096) });
  const bAt = Date.now() - started;
  sampling = false;
  await sampler;
  expect(b.status).toBe(BlkStatus.OK);
  expect((await Promise.all(held)).map((r) => r.status)).toEqual(held.map(() => BlkStatus.OK));
  // b ran only once a's tags came back at the end of its requests, not at a reclaim.
  expect(bAt).toBeGreaterThanOrEqual(1800);
  expect(maxUsed).toBeLessThanOrEqual(DEPTH);
});
