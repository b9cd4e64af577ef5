// BatchQueue against a real Redis: order, leases, reclaim after a lease ran out, acks,
// the marker that wakes idle workers, and staged payloads in the same step as the push.
import { BatchQueue } from './batch-queue';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('batch-queue');
afterEach(() => env.cleanup());
afterAll(() => env.close());

function queue(): BatchQueue {
  const keys = env.keys();
  return new BatchQueue(env.redis, 'rq.d0.0', keys.hctxQueue('d0', 0));
}

describe('BatchQueue', () => {
  it('hands out messages oldest first, each once, and counts waiting and leased', async () => {
    const q = queue();
    for (const b of ['a', 'b', 'c']) await q.push(b);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 3, active: 0 });
    const first = await q.claim(2, 10_000);
    expect(first.map((m) => m.body)).toEqual(['a', 'b']);
    const second = await q.claim(5, 10_000);
    expect(second.map((m) => m.body)).toEqual(['c']);
    expect(await q.claim(5, 10_000)).toEqual([]);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 3 });
    await q.ack([...first, ...second].map((m) => m.raw));
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
  });

  it('keeps equal bodies apart', async () => {
    const q = queue();
    await q.push('same');
    await q.push('same');
    const taken = await q.claim(2, 10_000);
    expect(taken.map((m) => m.body)).toEqual(['same', 'same']);
    expect(new Set(taken.map((m) => m.raw)).size).toBe(2);
  });

  it('delivers a message again once its lease ran out, and not before', async () => {
    const q = queue();
    await q.push('x');
    const [m] = await q.claim(1, 50);
    expect(await q.reclaim()).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(await q.reclaim()).toBe(1);
    const [again] = await q.claim(1, 10_000);
    expect(again.raw).toBe(m.raw);
  });

  it('a renewed lease is not reclaimed; an acked message never comes back', async () => {
    const q = queue();
    await q.push('held');
    await q.push('done');
    const [held, done] = await q.claim(2, 50);
    await q.ack([done.raw]);
    await q.renew([held.raw, done.raw], 10_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(await q.reclaim()).toBe(0);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 1 });
  });

  it('sets the marker on push, and keeps it while messages wait after a claim', async () => {
    const q = queue();
    const blocking = env.redis.duplicate();
    try {
      await q.push('a');
      await q.push('b');
      await q.waitForWork(blocking, 1); // pops the marker
      await q.claim(1, 10_000);
      const t0 = Date.now();
      await q.waitForWork(blocking, 1); // 'b' still waits: the claim set the marker again
      expect(Date.now() - t0).toBeLessThan(500);
      const woke = q.waitForWork(blocking, 5).then(() => Date.now());
      const pushedAt = Date.now();
      await new Promise((r) => setTimeout(r, 50));
      await q.push('c');
      expect((await woke) - pushedAt).toBeLessThan(2000);
    } finally {
      blocking.disconnect();
    }
  });

  it('waitAndClaim takes what a later push brings, leased, and nothing on a timeout', async () => {
    const q = queue();
    const blocking = env.redis.duplicate();
    try {
      expect(await q.waitAndClaim(blocking, 4, 10_000, 0.05)).toEqual([]);
      const taking = q.waitAndClaim(blocking, 4, 10_000, 5);
      await new Promise((r) => setTimeout(r, 50));
      await q.push('a');
      await q.push('b');
      const taken = await taking;
      // The claim ran right after the wake-up: 'a' at least, and whatever else waited then.
      expect(taken.map((m) => m.body)).toEqual(['a', 'b'].slice(0, taken.length));
      expect(taken.length).toBeGreaterThan(0);
      const rest = await q.claim(4, 10_000);
      expect([...taken, ...rest].map((m) => m.body)).toEqual(['a', 'b']);
      expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 2 });
    } finally {
      blocking.disconnect();
    }
  });

  it('stages payloads in the same step as the push', async () => {
    const keys = env.keys();
    const q = new BatchQueue(env.redis, 'rq.d1.0', keys.hctxQueue('d1', 0));
    await q.push('{"rqs":[]}', { key: keys.requestData('d1'), pairs: ['0:1:1', Buffer.from([1, 2, 3])] });
    expect(await env.redis.hgetBuffer(keys.requestData('d1'), '0:1:1')).toEqual(Buffer.from([1, 2, 3]));
    expect((await q.claim(1, 1000))[0].body).toBe('{"rqs":[]}');
  });
});
