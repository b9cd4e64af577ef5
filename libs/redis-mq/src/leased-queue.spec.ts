// LeasedQueue against a real Redis: binary messages, per-claim tokens, reclaim to the
// head without the token, renew, ack, waitAndClaim.
import { Redis } from 'ioredis';
import { CLAIM_TOKEN_BYTES, LeasedQueue } from './leased-queue';
import { scriptsFor } from './lua-scripts';
import { RedisTestEnv, redisUrl } from './testing/redis-test-env';

const env = new RedisTestEnv('leased-queue');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function queue(): LeasedQueue {
  return new LeasedQueue(env.redis, 'rq.d0.0', env.keys().hctxQueue('d0', 0));
}

describe('LeasedQueue', () => {
  it('keeps any bytes, hands out oldest first under distinct members, counts', async () => {
    const q = queue();
    const bodies = [Buffer.from([0, 1, 2, 255, 0]), Buffer.from('same'), Buffer.from('same'), Buffer.alloc(0)];
    for (const b of bodies) await q.push(b);
    expect(await q.counts()).toEqual({ waiting: 4, leased: 0 });
    const first = await q.claim(3, 10_000);
    const second = await q.claim(5, 10_000);
    expect([...first, ...second].map((l) => l.body)).toEqual(bodies);
    const members = [...first, ...second].map((l) => l.member.toString('hex'));
    expect(new Set(members).size).toBe(4);
    for (const l of first) expect(l.member.length).toBe(CLAIM_TOKEN_BYTES + l.body.length);
    expect(await q.claim(5, 10_000)).toEqual([]);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 4 });
    expect(await q.ack([...first, ...second].map((l) => l.member))).toBe(4);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 0 });
  });

  it('reclaims expired leases to the head of wait, without the token, and claims them under a new token', async () => {
    const q = queue();
    await q.push(Buffer.from('a'));
    await q.push(Buffer.from('b'));
    await q.push(Buffer.from('c'));
    const [a] = await q.claim(1, 300);
    const [b] = await q.claim(1, 400);
    expect(await q.reclaim()).toBe(0);
    await sleep(450);
    expect(await q.reclaim()).toBe(2);
    expect(await env.redis.lrangeBuffer(q.keys.wait, 0, -1)).toEqual([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
    const again = await q.claim(1, 10_000);
    expect(again[0].body).toEqual(Buffer.from('a'));
    expect(again[0].member.equals(a.member)).toBe(false);
    expect(await q.ack([a.member, b.member])).toBe(0);
    expect(await q.counts()).toEqual({ waiting: 2, leased: 1 });
  });

  it('a renewed lease is not reclaimed; renew does not re-add a reclaimed member', async () => {
    const q = queue();
    await q.push(Buffer.from('x'));
    await q.push(Buffer.from('y'));
    const [x, y] = await q.claim(2, 40);
    await q.renew([x.member], 10_000);
    await sleep(60);
    expect(await q.reclaim()).toBe(1);
    await q.renew([y.member], 10_000);
    expect(await env.redis.zscore(q.keys.leased, y.member)).toBeNull();
    expect(await q.counts()).toEqual({ waiting: 1, leased: 1 });
  });

  it('waitAndClaim wakes on a push, sets the marker again while messages remain, and times out empty', async () => {
    const q = queue();
    const blocking = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    try {
      expect(await q.waitAndClaim(blocking, 2, 10_000, 0.05)).toEqual([]);
      const waiting = q.waitAndClaim(blocking, 1, 10_000, 5);
      await sleep(20);
      await q.push(Buffer.from('p'));
      await q.push(Buffer.from('q'));
      expect((await waiting).map((l) => l.body.toString())).toEqual(['p']);
      expect(await env.redis.zcard(q.keys.marker)).toBe(1);
      expect((await q.waitAndClaim(blocking, 5, 10_000, 1)).map((l) => l.body.toString())).toEqual(['q']);
    } finally {
      blocking.disconnect();
    }
  });

  it('waitAndClaim on a connection closed under a claim that ran puts its messages back (a closing worker strands none)', async () => {
    const q = queue();
    const blocking = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    blocking.on('error', () => undefined);
    await blocking.ping();
    const waiting = q.waitAndClaim(blocking, 2, 60_000, 5).then(
      () => 'claimed',
      () => 'failed',
    );
    await sleep(20);
    // The claim's reply will sit unread: the worker closes before it sees it.
    (blocking as unknown as { stream: { pause(): void } }).stream.pause();
    await q.push(Buffer.from('a'));
    await q.push(Buffer.from('b'));
    for (const until = Date.now() + 2000; (await env.redis.zcard(q.keys.leased)) === 0 && Date.now() < until;) await sleep(5);
    expect(await q.counts()).toEqual({ waiting: 1, leased: 1 }); // the claim ran in Redis, on the first push

    blocking.disconnect();

    expect(await waiting).toBe('failed');
    expect(await q.counts()).toEqual({ waiting: 2, leased: 0 }); // back now, not after 60 s
    expect((await q.claim(5, 10_000)).map((l) => l.body.toString())).toEqual(['a', 'b']);
  });

  it('unclaimLeases puts back only the members of one claim, in claim order', async () => {
    const q = queue();
    for (const b of ['a', 'b', 'c']) await q.push(Buffer.from(b));
    const first = await q.claim(2, 10_000);
    const other = await q.claim(1, 10_000);
    const nonce = first[0].member.subarray(0, CLAIM_TOKEN_BYTES - 2);
    const keys = [q.keys.wait, q.keys.leased, q.keys.marker];
    expect(await scriptsFor(env.redis).run('unclaimLeases', keys, [nonce])).toBe(2);
    expect(await env.redis.zcard(q.keys.leased)).toBe(1);
    expect(await env.redis.zscore(q.keys.leased, other[0].member)).not.toBeNull();
    expect((await q.claim(5, 10_000)).map((l) => l.body.toString())).toEqual(['a', 'b']);
    expect(await scriptsFor(env.redis).run('unclaimLeases', keys, [nonce])).toBe(0);
  });

  it('refuses a claim of more than the script can take', async () => {
    await expect(queue().claim(1001, 1000)).rejects.toThrow(RangeError);
  });
});
