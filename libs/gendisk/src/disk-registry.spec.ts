// DiskRegistry with RedisDiskLifecycle against a real Redis: the configfs directory's
// create, power and delete (rmdir), with the events the other services follow.
import { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import { DEFAULT_ATTRIBUTES } from '#rnull';
import { DiskNotFoundError, LimitExceededError } from '#service-kit';
import { readDiskLimits } from './disk-limits';
import { HctxInitFaults } from './hctx-init-faults';
import { RedisTestEnv, redisUrl } from '../../redis-mq/src/testing/redis-test-env';
import { type DiskEvent, DiskRegistry, parseRecord } from './disk-registry';
import type { DiskRecord } from './disk-record';
import { FREEZE_MARGIN_MS, isFrozen } from './queue-freeze';
import { RedisDiskLifecycle } from './redis-disk-lifecycle';

const env = new RedisTestEnv('disk-registry');
const subscribers: Redis[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.quit()));
  await env.cleanup();
});
afterAll(() => env.close());

/** An event as heard, its record parsed. */
interface HeardEvent {
  readonly type: DiskEvent['type'];
  readonly disk: string;
  readonly record?: DiskRecord;
}

/** A registry on a fresh namespace, and the events it publishes from now on. */
async function setup() {
  const keys = env.keys();
  const events: HeardEvent[] = [];
  const sub = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  subscribers.push(sub);
  sub.on('message', (_channel: string, message: string) => {
    const e = JSON.parse(message) as DiskEvent;
    events.push({ type: e.type, disk: e.disk, ...(e.record ? { record: parseRecord(e.record) } : {}) });
  });
  await sub.subscribe(keys.diskEvents());
  return { keys, events, registry: new DiskRegistry(env.redis, keys, new RedisDiskLifecycle(env.redis, keys)) };
}

/** Waits until `events` holds `n` events (publish is delivered after the command returns). */
async function eventsUpTo(events: HeardEvent[], n: number): Promise<HeardEvent[]> {
  for (const until = Date.now() + 2000; events.length < n && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
  return events;
}

/** Keys of `disk` under the namespace (tag space, budget, pages, …). */
async function diskKeys(keys: KeySchema, disk: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await env.redis.scan(cursor, 'MATCH', keys.diskPattern(disk), 'COUNT', 500);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

describe('DiskRegistry.delete', () => {
  it('powers a powered disk off, then removes it and every key of it (null_blk rmdir)', async () => {
    const { keys, events, registry } = await setup();
    const disk = await registry.create('d0', { size: 16 }, true);
    expect(disk.power).toBe(true);
    await env.redis.set(keys.page('d0', 0), Buffer.alloc(4096, 7));
    expect(await diskKeys(keys, 'd0')).toContain(keys.tableMeta('d0'));

    await registry.delete('d0');

    expect(await registry.find('d0')).toBeUndefined();
    expect(await registry.list()).toEqual([]);
    expect(await diskKeys(keys, 'd0')).toEqual([]);
    const heard = await eventsUpTo(events, 4);
    // Every event but 'deleted' carries the record as stored, under a higher revision (I16).
    expect(heard.map((e) => [e.type, e.disk, e.record?.power])).toEqual([
      ['created', 'd0', false],
      ['powered', 'd0', true],
      ['powered', 'd0', false],
      ['deleted', 'd0', undefined],
    ]);
    const revs = heard.slice(0, 3).map((e) => e.record!.rev!);
    expect(revs[0]).toBeGreaterThan(0);
    expect(revs[1]).toBeGreaterThan(revs[0]);
    expect(revs[2]).toBeGreaterThan(revs[1]);
    expect(heard[3]).toEqual({ type: 'deleted', disk: 'd0' });
  });

  it('deletes a powered-off disk with no power event', async () => {
    const { events, registry } = await setup();
    await registry.create('d1', {}, false);
    await registry.delete('d1');
    expect(await registry.find('d1')).toBeUndefined();
    expect((await eventsUpTo(events, 2)).map((e) => [e.type, e.record?.power])).toEqual([
      ['created', false],
      ['deleted', undefined],
    ]);
  });

  it('leaves the name free: a disk made again under it starts powered off, with the defaults', async () => {
    const { registry } = await setup();
    await registry.create('d2', { size: 16, maxSectors: 8 }, true);
    await registry.delete('d2');
    const again = await registry.create('d2', {}, false);
    expect(again).toMatchObject({ name: 'd2', power: false, attributes: DEFAULT_ATTRIBUTES });
  });

  it('refuses an unknown disk with DiskNotFoundError and changes nothing', async () => {
    const { registry } = await setup();
    await registry.create('d3', {}, true);
    await expect(registry.delete('nope')).rejects.toThrow(DiskNotFoundError);
    expect(await registry.get('d3')).toMatchObject({ power: true });
  });

  it('serialises with other calls on the disk: a power-on queued before the delete still ends deleted', async () => {
    const { registry } = await setup();
    await registry.create('d4', {}, false);
    const [powered] = await Promise.all([registry.power('d4', true), registry.delete('d4')]);
    expect(powered.power).toBe(true);
    expect(await registry.find('d4')).toBeUndefined();
  });
});

describe('DiskRegistry.create', () => {
  it("gives a disk the attributes' defaults: max_sectors 255 (BLK_SAFE_MAX_SECTORS), timeout_ms 30000 (blk-mq)", async () => {
    const { registry } = await setup();
    const disk = await registry.create('d5', {}, false);
    expect(disk.attributes).toEqual(DEFAULT_ATTRIBUTES);
    expect(disk.attributes).toMatchObject({ maxSectors: 255, timeoutMs: 30_000 });
    expect((await registry.get('d5')).attributes).toEqual(DEFAULT_ATTRIBUTES);
  });

  it('reads a record stored before the rename: its shared_tags is shared_tag_bitmap', async () => {
    const { keys, registry } = await setup();
    const { sharedTagBitmap: _, ...old } = DEFAULT_ATTRIBUTES;
    const stored = { name: 'd6', attributes: { ...old, sharedTags: true }, power: false, index: 0 };
    await env.redis.hset(keys.diskRegistry(), 'd6', JSON.stringify(stored));
    expect((await registry.get('d6')).attributes).toEqual({ ...DEFAULT_ATTRIBUTES, sharedTagBitmap: true });
  });
});

describe('DiskRegistry.configure badblocks', () => {
  it('takes badblocks writes while powered, stores the list and publishes them; once and partial_io stay EBUSY', async () => {
    const { events, registry } = await setup();
    await registry.create('bb0', {}, true);
    const set = await registry.configure('bb0', { badblocks: '+100-107' });
    expect(set.attributes.badblocks).toBe('100 8\n');
    const cleared = await registry.configure('bb0', { badblocks: '-100-101' });
    expect(cleared.attributes.badblocks).toBe('102 6\n');
    expect((await registry.get('bb0')).attributes.badblocks).toBe('102 6\n');
    expect((await eventsUpTo(events, 4)).slice(-2).map((e) => [e.type, e.disk, e.record?.attributes.badblocks])).toEqual([
      ['configured', 'bb0', '100 8\n'],
      ['configured', 'bb0', '102 6\n'],
    ]);
    await expect(registry.configure('bb0', { badblocksOnce: true })).rejects.toMatchObject({ field: 'badblocks_once', kind: 'busy' });
    await expect(registry.configure('bb0', { badblocks: '+7-3' })).rejects.toThrow('badblocks: start 7 is after end 3');
    expect((await registry.get('bb0')).attributes.badblocks).toBe('102 6\n');
    await registry.delete('bb0');
  });
});

describe('DiskRegistry init_hctx (fault injection)', () => {
  it('refuses a power on with an error naming init_hctx and leaves the disk powered off with no tag space', async () => {
    const { keys, registry } = await setup();
    await expect(registry.create('ih0', { initHctx: '1,100,0,1' }, true)).rejects.toThrow(
      /^init_hctx: injected fault: hctx 0 of disk "ih0" failed to initialise \(EFAULT\); power on refused$/,
    );
    expect((await registry.get('ih0')).power).toBe(false); // made (mkdir), not powered
    expect(await diskKeys(keys, 'ih0')).toEqual([]);
    expect((await registry.power('ih0', true)).power).toBe(true); // times spent: the next power on passes
  });

  it('refuses a submit_queues increase whose new hctx fails; the old count stays', async () => {
    const { registry } = await setup();
    await registry.create('ih1', { initHctx: '2,100,0,-1' }, true); // hctx 0: call 1 passes
    await expect(registry.configure('ih1', { submitQueues: 2 })).rejects.toThrow(
      /^init_hctx: .*hctx 1 .*submit_queues change 1 -> 2 refused$/,
    );
    const d = await registry.get('ih1');
    expect([d.power, d.attributes.submitQueues]).toEqual([true, 1]);
    expect((await registry.configure('ih1', { submitQueues: 2 })).attributes.submitQueues).toBe(2); // call 3 passes
    await expect(registry.configure('ih1', { initHctx: '' })).rejects.toThrow(
      /^init_hctx: cannot change while the disk is powered on \(EBUSY\)$/,
    );
  });
});

describe('DiskRegistry submit_queues change under IO (I14: freeze, drain, remap)', () => {
  /** Stands for an owner that holds `n` tags of pool 0 (what queueBatch counts in `used:0`). */
  const holdTags = (keys: KeySchema, disk: string, n: number) => env.redis.hset(keys.tagBudget(disk), 'used:0', String(n));

  it('stores the disk frozen while an owner holds a tag, re-lays the tag space once it is given back, and stores it thawed', async () => {
    const { keys, events, registry } = await setup();
    await registry.create('fz0', { size: 16 }, true);
    await holdTags(keys, 'fz0', 1);
    await env.redis.zadd(keys.owners('fz0'), Date.now() + 60_000, '1');
    // The creation's events ('created', 'powered') first: they arrive asynchronously.
    const before = (await eventsUpTo(events, 2)).length;

    const change = registry.configure('fz0', { submitQueues: 4 });
    for (const until = Date.now() + 2000; (await registry.get('fz0')).frozenUntilMs === undefined && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const frozen = await registry.get('fz0');
    expect(frozen.frozenUntilMs).toBeGreaterThan(Date.now());
    expect(isFrozen(frozen)).toBe(true);
    expect(frozen.attributes.submitQueues).toBe(1); // the old shape until the new one is laid out
    expect(await env.redis.hget(keys.tableMeta('fz0'), 'nr_hw_queues')).toBe('1');

    await holdTags(keys, 'fz0', 0); // the budget is back, but an owner is still live: it may
    await new Promise((r) => setTimeout(r, 100)); // hold a request that waits for a tag
    expect(isFrozen(await registry.get('fz0'))).toBe(true);
    await env.redis.zrem(keys.owners('fz0'), '1'); // the owner drained and closed its queue
    const after = await change;

    expect(after.attributes.submitQueues).toBe(4);
    expect(after.frozenUntilMs).toBeUndefined();
    expect(await registry.get('fz0')).toEqual(after);
    expect(await env.redis.hget(keys.tableMeta('fz0'), 'nr_hw_queues')).toBe('4');
    const [frozenEvent, thawedEvent] = (await eventsUpTo(events, before + 2)).slice(before);
    expect([frozenEvent.type, frozenEvent.record?.attributes.submitQueues, isFrozen(frozenEvent.record!)]).toEqual(['configured', 1, true]);
    expect([thawedEvent.type, thawedEvent.record]).toEqual(['configured', after]);
  });

  it('gives up after timeout_ms + the margin when the owners do not drain: thawed, unchanged, FAILED_PRECONDITION', async () => {
    const { keys, events, registry } = await setup();
    await registry.create('fz1', { size: 16, timeoutMs: 100 }, true);
    await holdTags(keys, 'fz1', 2);
    const before = (await eventsUpTo(events, 2)).length;
    const t0 = Date.now();

    await expect(registry.configure('fz1', { submitQueues: 2 })).rejects.toThrow(
      new RegExp(
        `^disk "fz1": submit_queues change 1 -> 2: requests in flight did not drain within ${100 + FREEZE_MARGIN_MS} ms .*nothing changed$`,
      ),
    );

    expect(Date.now() - t0).toBeGreaterThanOrEqual(100 + FREEZE_MARGIN_MS);
    const d = await registry.get('fz1');
    expect([d.attributes.submitQueues, d.frozenUntilMs]).toEqual([1, undefined]);
    expect(await env.redis.hget(keys.tableMeta('fz1'), 'nr_hw_queues')).toBe('1');
    expect((await eventsUpTo(events, before + 2)).slice(before).map((e) => e.type)).toEqual(['configured', 'configured']);
  });

  it('treats a record a dead gendisk left frozen as thawed once its deadline passed, and stores it thawed on the next change', async () => {
    const { keys, registry } = await setup();
    const d = await registry.create('fz2', { size: 16 }, true);
    await env.redis.hset(keys.diskRegistry(), 'fz2', JSON.stringify({ ...d, frozenUntilMs: Date.now() - 1 }));
    const stale = await registry.get('fz2');
    expect(isFrozen(stale)).toBe(false);
    expect(isFrozen({ ...stale, frozenUntilMs: Date.now() + 60_000 })).toBe(true);

    const after = await registry.configure('fz2', { submitQueues: 2 });
    expect([after.attributes.submitQueues, after.frozenUntilMs]).toEqual([2, undefined]);
  });
});

describe('DiskRegistry limits (MAX_DISKS, MAX_TOTAL_SIZE_MIB)', () => {
  const limited = (maxDisks: number, maxTotalSizeMiB: number) => {
    const keys = env.keys();
    return new DiskRegistry(env.redis, keys, new RedisDiskLifecycle(env.redis, keys), new HctxInitFaults(), { maxDisks, maxTotalSizeMiB });
  };

  it('refuses the disk past MAX_DISKS with RESOURCE_EXHAUSTED naming the variable, also when creates race', async () => {
    const registry = limited(3, 1 << 20);
    const tries = await Promise.allSettled(['l0', 'l1', 'l2', 'l3', 'l4'].map((n) => registry.create(n, { size: 4 }, false)));
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(3);
    const refused = tries.filter((t): t is PromiseRejectedResult => t.status === 'rejected').map((t) => t.reason as LimitExceededError);
    expect(refused).toHaveLength(2);
    for (const e of refused) {
      expect(e).toBeInstanceOf(LimitExceededError);
      expect(e.code).toBe(8); // RESOURCE_EXHAUSTED
      expect(e.message).toMatch(/holds 3 disks, its limit \(MAX_DISKS=3\)/);
    }
    expect(await registry.list()).toHaveLength(3);
    await registry.delete('l0');
    await expect(registry.create('l5', { size: 4 }, false)).resolves.toMatchObject({ name: 'l5' });
    await expect(registry.create('l1', { size: 4 }, false)).rejects.toThrow(/exists already/); // not the limit
  });

  it('refuses a create or a size change that brings the declared sizes past MAX_TOTAL_SIZE_MIB', async () => {
    const registry = limited(100, 100);
    await registry.create('s0', { size: 60 }, false);
    await expect(registry.create('s1', { size: 41 }, false)).rejects.toThrow(
      /size 41 MiB would bring the cluster's disks to 101 MiB, over its limit \(MAX_TOTAL_SIZE_MIB=100\)/,
    );
    await registry.create('s1', { size: 40 }, false);
    await expect(registry.configure('s0', { size: 61 })).rejects.toThrow(/MAX_TOTAL_SIZE_MIB=100/);
    expect((await registry.get('s0')).attributes.size).toBe(60);
    await expect(registry.configure('s0', { size: 20 })).resolves.toMatchObject({ attributes: { size: 20 } });
  });

  it('reads the limits from the environment, refusing a bad value by name', () => {
    expect(readDiskLimits({})).toEqual({ maxDisks: 1024, maxTotalSizeMiB: 64 * 1024 * 1024 });
    expect(readDiskLimits({ MAX_DISKS: '8', MAX_TOTAL_SIZE_MIB: '4096' })).toEqual({ maxDisks: 8, maxTotalSizeMiB: 4096 });
    expect(() => readDiskLimits({ MAX_DISKS: '0' })).toThrow(/^MAX_DISKS must be a whole number >= 1, got "0"/);
    expect(() => readDiskLimits({ MAX_TOTAL_SIZE_MIB: 'lots' })).toThrow(/^MAX_TOTAL_SIZE_MIB must be/);
  });
});
