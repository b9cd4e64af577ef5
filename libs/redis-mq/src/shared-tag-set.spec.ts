// SharedTagSet (layOutSharedTags-1, takeSharedTags-1, leaveSharedTags-1) against a real
// Redis: the shape rule, depth, hctx_may_queue's fair share, release, reclaim of an
// expired holder and its fence, and queueBatch / takeBudget of a disk on the set (I15).
import { encodeBatch } from './batch-codec';
import { BatchSubmitter } from './batch-submitter';
import { OwnerRegistry } from './owner-registry';
import { OwnerGoneError, TableBusyError, TagSetShapeError } from './script-errors';
import { SharedTagSet } from './shared-tag-set';
import { layOutTagSpace } from './tag-space';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('shared-tag-set');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const SHAPE = { nrHwQueues: 1, queueDepth: 16, sharedTagBitmap: false, recycle: 'on-drop' as const };
const LONG = () => Date.now() + 60_000;

function setup() {
  const keys = env.keys();
  return { keys, set: new SharedTagSet(env.redis, keys) };
}

describe('SharedTagSet: shape', () => {
  it('the first disk lays the shape out; another disk must ask for the same, an error names the field', async () => {
    const { set } = setup();
    expect(await set.join('a', SHAPE)).toBe('laid out');
    expect(await set.join('b', SHAPE)).toBe('joined');
    await expect(set.join('c', { ...SHAPE, queueDepth: 8 })).rejects.toThrow(TagSetShapeError);
    await expect(set.join('c', { ...SHAPE, queueDepth: 8 })).rejects.toThrow(/has queue_depth 16, the disk asks for 8/);
    await expect(set.join('c', { ...SHAPE, nrHwQueues: 2 })).rejects.toThrow(/nr_hw_queues/);
    expect((await set.state()).members).toEqual(['a', 'b']);
  });

  it('a lone member may change the shape while no tag is held; never under a held tag', async () => {
    const { set } = setup();
    await set.join('a', SHAPE);
    expect(await set.join('a', { ...SHAPE, nrHwQueues: 2 })).toBe('laid out');
    expect(await set.take('a', 1, 1, 3, [], LONG())).toBe(3);
    await expect(set.join('a', { ...SHAPE, queueDepth: 4 })).rejects.toThrow(TableBusyError);
    await set.take('a', 1, 0, 0, [[1, 3]], LONG());
    expect(await set.join('a', { ...SHAPE, queueDepth: 4 })).toBe('laid out');
  });

  it('after every member parted, the next disk lays out its own shape', async () => {
    const { set } = setup();
    await set.join('a', SHAPE);
    await set.join('b', SHAPE);
    expect(await set.part('a')).toBe(1);
    expect(await set.part('b')).toBe(0);
    expect(await set.join('c', { ...SHAPE, queueDepth: 32 })).toBe('laid out');
    expect((await set.state()).depth).toBe(32);
  });
});

describe('SharedTagSet: take', () => {
  it('never past the depth; releases give tags back; a non-member cannot take', async () => {
    const { set } = setup();
    await set.join('a', { ...SHAPE, queueDepth: 4 });
    expect(await set.take('a', 1, 0, 10, [], LONG())).toBe(4);
    expect(await set.take('a', 2, 0, 1, [], LONG())).toBe(0);
    expect(await set.take('a', 1, 0, 2, [[0, 3]], LONG())).toBe(2);
    expect((await set.state()).used).toEqual([3]);
    await expect(set.take('z', 1, 0, 1, [], LONG())).rejects.toThrow(/does not use the shared tag set/);
    await expect(set.take('a', 1, 1, 1, [], LONG())).rejects.toThrow(/outside the shared tag set/);
  });

  it("hctx_may_queue: with N active disks each holds at most max(ceil(depth / N), 4); an idle disk's share goes back", async () => {
    const { set } = setup();
    await Promise.all(['a', 'b', 'c'].map((d) => set.join(d, { ...SHAPE, queueDepth: 32 })));
    expect(await set.take('a', 1, 0, 32, [], LONG())).toBe(32); // alone: the whole depth
    expect(await set.take('b', 1, 0, 32, [], LONG())).toBe(0); // the set is full
    // b asked: two active disks, share 16. a gives back 20; a may not take past 16 now.
    expect(await set.take('a', 1, 0, 10, [[0, 20]], LONG())).toBe(4);
    expect(await set.take('b', 1, 0, 32, [], LONG())).toBe(16);
    expect(await set.take('c', 1, 0, 32, [], LONG())).toBe(0); // full again; c is active now
    await set.take('a', 1, 0, 0, [[0, 16]], LONG());
    const aAsked = Date.now(); // at or after the `now` of a's last ask
    expect(await set.take('c', 1, 0, 32, [], LONG())).toBe(11); // ceil(32 / 3) = 11
    // a holds nothing and asked for nothing within idleMs = 0: two active, share 16. That
    // needs a later millisecond than a's ask (`seen >= now - idleMs` counts it otherwise).
    while (Date.now() <= aAsked) await new Promise((r) => setTimeout(r, 1));
    expect(await set.take('c', 1, 0, 32, [], LONG(), 0)).toBe(5);
    const s = await set.state();
    expect(s.used).toEqual([32]);
    expect(s.heldByDisk).toMatchObject({ a: 0, b: 16, c: 16 });
  });

  it('the share never drops below 4 (BLK_MQ minimum)', async () => {
    const { set } = setup();
    const disks = Array.from({ length: 10 }, (_, i) => `d${i}`);
    for (const d of disks) await set.join(d, { ...SHAPE, queueDepth: 16 });
    for (const d of disks) await set.take(d, 1, 0, 0, [], LONG());
    for (const d of disks) expect(await set.take(d, 1, 0, 1, [], LONG())).toBe(1); // all ten active, ceil(16 / 10) = 2
    expect(await set.take('d0', 1, 0, 16, [], LONG())).toBe(3);
    expect(await set.take('d1', 1, 0, 16, [], LONG())).toBe(3);
    expect((await set.state()).heldByDisk).toMatchObject({ d0: 4, d1: 4, d2: 1 });
  });
});

describe('SharedTagSet: owner death (I3 in the shared slot)', () => {
  it('a holder whose until passed is reclaimed by any call and fenced: its next call is OwnerGone', async () => {
    const { set } = setup();
    await set.join('a', { ...SHAPE, queueDepth: 8 });
    await set.join('b', { ...SHAPE, queueDepth: 8 });
    expect(await set.take('a', 7, 0, 8, [], Date.now() + 50)).toBe(8);
    expect(await set.take('b', 1, 0, 8, [], LONG())).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    // a asked within idleMs, so with the default it still counts as active: share 4.
    expect(await set.take('b', 1, 0, 8, [], LONG())).toBe(4);
    expect(await set.take('b', 1, 0, 8, [], LONG(), 0)).toBe(4);
    await expect(set.take('a', 7, 0, 0, [], LONG())).rejects.toThrow(OwnerGoneError);
    expect((await set.state()).heldByDisk.a ?? 0).toBe(0);
  });

  it('a renewal (want 0) keeps a holder; leave gives everything back at once', async () => {
    const { set } = setup();
    await set.join('a', { ...SHAPE, nrHwQueues: 2, queueDepth: 4 });
    await set.take('a', 1, 0, 4, [], Date.now() + 50);
    await set.take('a', 1, 1, 2, [], Date.now() + 50);
    await set.take('a', 1, 0, 0, [], LONG());
    await new Promise((r) => setTimeout(r, 80));
    await set.join('a', { ...SHAPE, nrHwQueues: 2, queueDepth: 4 }); // reclaims expired holders only
    expect((await set.state()).used).toEqual([4, 2]);
    expect(await set.leave('a', 1)).toBe(6);
    expect((await set.state()).used).toEqual([0, 0]);
  });
});

describe('a disk on the shared tag set in its own slot', () => {
  it('queueBatch takes no budget and pushes all; releases and takeBudget are refused', async () => {
    const keys = env.keys();
    const disk = 'a';
    await layOutTagSpace(env.redis, keys, disk, { ...SHAPE, queueDepth: 2 }, 'shared');
    const epoch = await new OwnerRegistry(env.redis, keys).register(disk, 60_000);
    const submitter = new BatchSubmitter(env.redis, keys);
    const rqs = Array.from({ length: 5 }, (_, tag) => ({ tag, gen: 1, op: 0, flags: 0, bytes: 512, sector: 0 }));
    const message = encodeBatch({ hctx: 0, epoch, seq: 0, atMs: 0 }, rqs);
    expect(await submitter.queueBatch({ disk, epoch, pool: 0, releases: [], message, payloads: [] })).toBe(5);
    expect(await env.redis.hgetall(keys.tagBudget(disk))).toEqual({});
    await expect(submitter.queueBatch({ disk, epoch, pool: 0, releases: [[0, 1]], message, payloads: [] })).rejects.toThrow(
      /shared tag set/,
    );
    await expect(submitter.takeBudget(disk, epoch, 0, 1, [])).rejects.toThrow(/shared tag set/);
    // The same shape on its own budget is another layout.
    expect(await layOutTagSpace(env.redis, keys, disk, { ...SHAPE, queueDepth: 2 }, 'own')).toBe('reshaped');
    expect(await submitter.queueBatch({ disk, epoch, pool: 0, releases: [], message, payloads: [] })).toBe(2);
  });
});
