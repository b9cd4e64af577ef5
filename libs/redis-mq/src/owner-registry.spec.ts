// OwnerRegistry (registerOwner-2.lua, renewOwner-3.lua) against a real Redis: epochs,
// renew, reclaim of expired owners' budget and completion lists, clean unregister.
import { encodeBatch } from './batch-codec';
import { BatchSubmitter } from './batch-submitter';
import { OwnerRegistry } from './owner-registry';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('owner-registry');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'd0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup() {
  const keys = env.keys();
  await env.redis.hset(keys.tableMeta(DISK), 'queue_depth', 8, 'shared_tag_bitmap', '0', 'nr_hw_queues', 2);
  return { keys, registry: new OwnerRegistry(env.redis, keys), submitter: new BatchSubmitter(env.redis, keys) };
}

async function take(submitter: BatchSubmitter, epoch: number, hctx: number, n: number): Promise<number> {
  const rqs = Array.from({ length: n }, (_, tag) => ({ tag, gen: 1, op: 0, flags: 0, bytes: 512, sector: 0 }));
  return submitter.queueBatch({
    disk: DISK,
    epoch,
    pool: hctx,
    releases: [],
    message: encodeBatch({ hctx, epoch, seq: 0, atMs: 0 }, rqs),
    payloads: [],
  });
}

describe('OwnerRegistry', () => {
  it('hands out fresh epochs, alive at once', async () => {
    const { registry } = await setup();
    const a = await registry.register(DISK, 10_000);
    const b = await registry.register(DISK, 10_000);
    expect([a, b]).toEqual([1, 2]);
    expect((await registry.owners(DISK)).map((o) => o.epoch)).toEqual([1, 2]);
    await expect(registry.register(DISK, 0)).rejects.toThrow(RangeError);
  });

  it("an expired owner's held budget and completion list come back after another owner renews; a renewed owner keeps its budget", async () => {
    const { keys, registry, submitter } = await setup();
    const live = await registry.register(DISK, 60_000);
    const dying = await registry.register(DISK, 60_000);
    expect(await take(submitter, live, 0, 2)).toBe(2);
    expect(await take(submitter, dying, 0, 3)).toBe(3);
    expect(await take(submitter, dying, 1, 4)).toBe(4);
    await env.redis.rpush(keys.completionList(DISK, dying), 'end');
    expect(await registry.budget(DISK)).toEqual([
      { pool: 0, used: 5 },
      { pool: 1, used: 4 },
    ]);
    expect(await registry.renew(DISK, live, 60_000)).toEqual({ alive: true, reclaimed: [] });
    await env.redis.zadd(keys.owners(DISK), Date.now() - 120_000, dying); // its lease ran out long before live's last renewal
    expect(await registry.renew(DISK, live, 60_000)).toEqual({ alive: true, reclaimed: [dying] });
    expect(await registry.budget(DISK)).toEqual([
      { pool: 0, used: 2 },
      { pool: 1, used: 0 },
    ]);
    const fields = await env.redis.hkeys(keys.tagBudget(DISK));
    expect(fields.some((f) => f.startsWith(`held:${dying}:`))).toBe(false);
    expect(await env.redis.exists(keys.completionList(DISK, dying))).toBe(0);
    expect((await registry.owners(DISK)).map((o) => o.epoch)).toEqual([live]);
    // The reclaimed owner learns it lost its lease, and is not re-added.
    expect(await registry.renew(DISK, dying, 60_000)).toEqual({ alive: false, reclaimed: [] });
    expect((await registry.owners(DISK)).map((o) => o.epoch)).toEqual([live]);
  });

  it('a renew keeps an owner from being reclaimed', async () => {
    const { registry, submitter } = await setup();
    const a = await registry.register(DISK, 400);
    const b = await registry.register(DISK, 60_000);
    await take(submitter, a, 0, 1);
    await sleep(200);
    expect((await registry.renew(DISK, a, 60_000)).alive).toBe(true);
    await sleep(300);
    expect(await registry.renew(DISK, b, 60_000)).toEqual({ alive: true, reclaimed: [] });
    expect(await registry.budget(DISK)).toEqual([{ pool: 0, used: 1 }]);
  });

  it('owners that lapsed together (an outage longer than the lease) do not reclaim each other; a dead one is reclaimed once the renewer held its lease for two whole leases again', async () => {
    const { keys, registry, submitter } = await setup();
    const LEASE = 1500;
    const a = await registry.register(DISK, LEASE);
    const b = await registry.register(DISK, LEASE);
    await take(submitter, a, 0, 2);
    await take(submitter, b, 0, 3);
    // Both leases ran out together (no timing race under load).
    await env.redis.zadd(keys.owners(DISK), Date.now() - 1, a, Date.now() - 1, b);
    expect(await registry.renew(DISK, a, LEASE)).toEqual({ alive: true, reclaimed: [] });
    expect(await registry.budget(DISK)).toEqual([{ pool: 0, used: 5 }]);
    // b was not reclaimed: it renews and keeps its budget; then it dies (renews no more).
    expect(await registry.renew(DISK, b, LEASE)).toEqual({ alive: true, reclaimed: [] });
    const streak = Date.now();
    // a caller that is no longer an owner reclaims nobody.
    await env.redis.zadd(keys.owners(DISK), Date.now() - 10 * LEASE, b);
    expect(await registry.renew(DISK, 99, LEASE)).toEqual({ alive: false, reclaimed: [] });
    expect((await registry.owners(DISK)).map((o) => o.epoch).sort()).toEqual([a, b]);
    // a renews as dispatch does (every lease / 3): b is reclaimed once a's streak is two leases old.
    let reclaimed: number[] = [];
    while (reclaimed.length === 0 && Date.now() - streak < 5 * LEASE) {
      await sleep(LEASE / 5);
      const r = await registry.renew(DISK, a, LEASE);
      expect(r.alive).toBe(true);
      if (r.reclaimed.length === 0) expect(Date.now() - streak).toBeLessThan(2 * LEASE + 200);
      reclaimed = r.reclaimed;
    }
    expect(reclaimed).toEqual([b]);
    expect(Date.now() - streak).toBeGreaterThanOrEqual(2 * LEASE - 50);
    expect(await registry.budget(DISK)).toEqual([{ pool: 0, used: 2 }]);
    expect((await env.redis.hkeys(keys.tagBudget(DISK))).filter((f) => f.includes(`:${b}`))).toEqual([]);
  });

  it('unregister gives the budget back and removes the owner and its completion list', async () => {
    const { keys, registry, submitter } = await setup();
    const a = await registry.register(DISK, 60_000);
    const b = await registry.register(DISK, 60_000);
    await take(submitter, a, 1, 3);
    await take(submitter, b, 1, 2);
    await env.redis.rpush(keys.completionList(DISK, a), 'end');
    expect(await registry.unregister(DISK, a)).toEqual({ alive: false, reclaimed: [a] });
    expect(await registry.budget(DISK)).toEqual([{ pool: 1, used: 2 }]);
    expect(await env.redis.exists(keys.completionList(DISK, a))).toBe(0);
    expect((await registry.renew(DISK, a, 1000)).alive).toBe(false);
    expect((await registry.renew(DISK, b, 1000)).alive).toBe(true);
  });
});
