// The request-table semantics of request-table.ts / request-state.ts, checked on the Redis
// table case by case (the shared contract suite runs in redis-request-table.spec.ts).
import { BlkStatus, OpResult, RqState, type RequestToken, type TagSpaceConfig } from '#blk-mq';
import { RedisRequestTable } from './redis-request-table';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('table-semantics');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DEADLINE = 1_700_000_000_000;

function table(cfg: Partial<TagSpaceConfig> = {}): Promise<RedisRequestTable> {
  const config: TagSpaceConfig = { nrHwQueues: 2, queueDepth: 4, sharedTags: false, recycle: 'on-drop', ...cfg };
  return RedisRequestTable.create(env.redis, 'rnullb0', config, { keys: env.keys() });
}

const start = (token: RequestToken, deadlineMs = DEADLINE) => ({ op: 'start' as const, token, deadlineMs });
const end = (token: RequestToken, status: number = BlkStatus.OK, drop = false) => ({ op: 'end' as const, token, status, drop });
const drop = (token: RequestToken) => ({ op: 'drop' as const, token });
const ref = (token: RequestToken) => ({ op: 'ref' as const, token });
const requeue = (token: RequestToken) => ({ op: 'requeue' as const, token });

describe.each(['on-drop', 'inline'] as const)('RedisRequestTable semantics, recycle %s', (recycle) => {
  it('allocates ALLOCATED slots with gen + 1 and refs 1, fewer when tags run out', async () => {
    const t = await table({ recycle });
    const got = await t.alloc(1, 6);
    expect(got.map((x) => x.tag)).toEqual([0, 1, 2, 3]);
    expect(got.every((x) => x.hctx === 1 && x.gen === 1)).toBe(true);
    expect(await t.alloc(1, 1)).toEqual([]);
    expect((await t.alloc(0, 1)).length).toBe(1); // hctx 0 has its own pool
    expect(await t.slot(1, 2)).toMatchObject({ state: RqState.Allocated, refs: 1, gen: 1 });
    expect(await t.alloc(0, 0)).toEqual([]);
    expect((await t.counters()).allocShort).toBe(2);
  });

  it('start, redelivered start, end and the last drop walk the slot through its life', async () => {
    const t = await table({ recycle });
    const [rq] = await t.alloc(0, 1);
    expect(await t.apply([start(rq, DEADLINE)])).toEqual([OpResult.Ok]);
    expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.InFlight, refs: 2, deadlineMs: DEADLINE });
    expect(await t.apply([start(rq, DEADLINE + 5)])).toEqual([OpResult.AlreadyStarted]);
    expect(await t.slot(0, rq.tag)).toMatchObject({ refs: 2, deadlineMs: DEADLINE + 5 });
    const ended = await t.apply([end(rq, BlkStatus.TIMEOUT, true)]);
    if (recycle === 'inline') {
      expect(ended).toEqual([OpResult.Recycled]);
      expect(await t.apply([drop(rq)])).toEqual([OpResult.Stale]);
    } else {
      expect(ended).toEqual([OpResult.Ok]);
      expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.Complete, refs: 1, status: BlkStatus.TIMEOUT });
      expect(await t.apply([drop(rq)])).toEqual([OpResult.Recycled]);
    }
    expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.Idle, refs: 0, gen: 1, deadlineMs: 0 });
    expect(await t.busy()).toEqual([]);
    const [again] = await t.alloc(0, 1);
    expect(again).toEqual({ hctx: 0, tag: rq.tag, gen: 2 });
  });

  it('a notice carries the read data of its request, taken out; dropAndFreeData frees both fields, stale or not', async () => {
    const t = await table({ recycle });
    const dataKey = t.keySchema.requestData('rnullb0');
    const notices = t.keySchema.completionNotices('rnullb0', 'dispatch-1');
    const [a, b] = await t.alloc(0, 2);
    const field = (x: RequestToken) => `${x.hctx}:${x.tag}:${x.gen}`;
    await env.redis.hset(dataKey, `${field(a)}:r`, Buffer.from([0, 1, 124, 255]), field(b), 'payload');
    await t.apply([start(a), start(b)]);
    await t.applyAndNotify([end(a, BlkStatus.OK, true), end(b, BlkStatus.OK, true)], notices);
    const pushed = await env.redis.lrangeBuffer(notices, 0, -1);
    expect(pushed).toEqual([Buffer.concat([Buffer.from(`${field(a)}:0|`), Buffer.from([0, 1, 124, 255])]), Buffer.from(`${field(b)}:0`)]);
    expect(await env.redis.hkeys(dataKey)).toEqual([field(b)]);

    const stale = { ...b, gen: b.gen + 7 };
    await env.redis.hset(dataKey, `${field(b)}:r`, 'late', field(stale), 'old');
    const dropped = await t.dropAndFreeData([a, b, stale]);
    const recycled = recycle === 'inline' ? OpResult.Stale : OpResult.Recycled;
    expect(dropped).toEqual([recycled, recycled, OpResult.Stale]);
    expect(await env.redis.hlen(dataKey)).toBe(0);
    expect(await t.busy()).toEqual([]);
  });

  it('refuses a double end and a stale end, changing nothing and counting both', async () => {
    const t = await table({ recycle });
    const [rq] = await t.alloc(0, 1);
    await t.apply([start(rq), ref(rq)]);
    const first = await t.apply([end(rq, BlkStatus.OK)]);
    const before = await t.slot(0, rq.tag);
    const second = await t.apply([end(rq, BlkStatus.IOERR), end({ ...rq, gen: rq.gen + 1 }, BlkStatus.IOERR)]);
    if (recycle === 'inline') {
      expect(first).toEqual([OpResult.Recycled]);
      expect(second).toEqual([OpResult.Stale, OpResult.Stale]);
      expect(await t.counters()).toMatchObject({ staleRejected: 2, doubleEnds: 0 });
    } else {
      expect(first).toEqual([OpResult.Ok]);
      expect(second).toEqual([OpResult.AlreadyComplete, OpResult.Stale]);
      expect(await t.counters()).toMatchObject({ staleRejected: 1, doubleEnds: 1 });
    }
    expect(await t.slot(0, rq.tag)).toEqual(before);
  });

  it('ends an unended request with IOERR when its last reference drops', async () => {
    const t = await table({ recycle });
    const [rq] = await t.alloc(0, 1);
    expect(await t.apply([drop(rq)])).toEqual([OpResult.Recycled]);
    expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.Idle, status: BlkStatus.IOERR });
    expect((await t.counters()).dropEnded).toBe(1);
  });

  it('requeue gives the driver reference back; refuses without one', async () => {
    const t = await table({ recycle });
    const [rq] = await t.alloc(0, 1);
    expect(await t.apply([requeue(rq)])).toEqual([OpResult.BadState]);
    await t.apply([start(rq)]);
    expect(await t.apply([requeue(rq)])).toEqual([OpResult.Ok]);
    expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.Allocated, refs: 1, deadlineMs: 0 });
    expect(await t.expired(DEADLINE + 1, 10)).toEqual([]);
    // The submitter drops while the driver holds the request: requeue would orphan it.
    await t.apply([start(rq), drop(rq)]);
    expect(await t.apply([requeue(rq)])).toEqual([OpResult.NoReference]);
    expect(await t.apply([start(rq), end(rq, BlkStatus.OK), end(rq, BlkStatus.OK)])).toEqual(
      recycle === 'inline'
        ? [OpResult.AlreadyStarted, OpResult.Recycled, OpResult.Stale]
        : [OpResult.AlreadyStarted, OpResult.Ok, OpResult.AlreadyComplete],
    );
    expect(await t.counters()).toMatchObject({ badState: 1, noReference: 1 });
  });

  it('runs a batch in order as one step', async () => {
    const t = await table({ recycle });
    const rqs = await t.alloc(0, 3);
    const ops = rqs.flatMap((rq) => [start(rq), end(rq, BlkStatus.OK, true), drop(rq)]);
    const want = recycle === 'inline' ? [OpResult.Ok, OpResult.Recycled, OpResult.Stale] : [OpResult.Ok, OpResult.Ok, OpResult.Recycled];
    expect(await t.apply(ops)).toEqual([...want, ...want, ...want]);
    expect(await t.busy()).toEqual([]);
    expect((await t.alloc(0, 4)).length).toBe(4);
  });
});

describe('RedisRequestTable invariants', () => {
  it('never reallocates a tag while a reference to its previous generation is live (on-drop)', async () => {
    const t = await table({ queueDepth: 2 });
    const rqs = await t.alloc(0, 2);
    await t.apply(rqs.flatMap((rq) => [start(rq), ref(rq), end(rq, BlkStatus.OK, true)]));
    expect(await t.alloc(0, 2)).toEqual([]);
    await t.apply([drop(rqs[0]), drop(rqs[1])]);
    expect(await t.alloc(0, 2)).toEqual([]);
    expect(await t.apply([drop(rqs[0])])).toEqual([OpResult.Recycled]);
    expect(await t.alloc(0, 2)).toEqual([{ hctx: 0, tag: rqs[0].tag, gen: 2 }]);
  });

  it('shares one pool across hctxs with shared tags and refuses another hctx\'s token', async () => {
    const t = await table({ sharedTags: true, nrHwQueues: 3 });
    const a = await t.alloc(0, 3);
    const b = await t.alloc(2, 3);
    expect([...a, ...b].map((x) => x.tag).sort()).toEqual([0, 1, 2, 3]);
    expect(b.every((x) => x.hctx === 2)).toBe(true);
    expect(await t.apply([start({ ...b[0], hctx: 1 })])).toEqual([OpResult.Stale]);
    expect(await t.slot(1, b[0].tag)).toMatchObject({ hctx: 2, state: RqState.Allocated });
  });

  it('lists expired IN_FLIGHT requests earliest first, inclusive, up to the limit', async () => {
    const t = await table({ queueDepth: 8 });
    const rqs = await t.alloc(1, 5);
    await t.apply(rqs.map((rq, i) => start(rq, DEADLINE + 10 * (5 - i))));
    const due = await t.expired(DEADLINE + 30, 10);
    expect(due).toEqual([rqs[4], rqs[3], rqs[2]]);
    expect(await t.expired(DEADLINE + 30, 2)).toEqual([rqs[4], rqs[3]]);
    expect(await t.expired(DEADLINE, 10)).toEqual([]);
    const busy = await t.busy();
    expect(busy.map((s) => s.deadlineMs)).toEqual([50, 40, 30, 20, 10].map((d) => DEADLINE + d));
  });

  it('refuses tokens outside the tag space as STALE, and malformed ops before running anything', async () => {
    const t = await table();
    const [rq] = await t.alloc(0, 1);
    const bad = [{ hctx: 9, tag: 0, gen: 1 }, { hctx: 0, tag: 99, gen: 1 }, { hctx: 0, tag: 0, gen: -1 }];
    expect(await t.apply(bad.map(drop))).toEqual([OpResult.Stale, OpResult.Stale, OpResult.Stale]);
    await expect(t.apply([start(rq), end(rq, 999)])).rejects.toThrow(/bad status/);
    await expect(t.apply([start(rq, Number.NaN)])).rejects.toThrow(/deadlineMs/);
    await expect(t.apply([{ op: 'explode', token: rq } as never])).rejects.toThrow(/unknown table op/);
    expect(await t.slot(0, rq.tag)).toMatchObject({ state: RqState.Allocated, refs: 1 });
    await expect(t.alloc(2, 1)).rejects.toThrow(RangeError);
    await expect(t.slot(0, 4)).rejects.toThrow(RangeError);
  });

  it('applyAndNotify pushes one notice per accepted end, in order, in the same step', async () => {
    const t = await table();
    const rqs = await t.alloc(0, 3);
    const key = t.keySchema.completionNotices('rnullb0', 'dispatch-1');
    const res = await t.applyAndNotify(
      [
        start(rqs[0]),
        end(rqs[0], BlkStatus.OK, true),
        end(rqs[0], BlkStatus.IOERR),
        end({ ...rqs[1], gen: 9 }),
        end(rqs[2], BlkStatus.TIMEOUT),
      ],
      key,
    );
    expect(res).toEqual([OpResult.Ok, OpResult.Ok, OpResult.AlreadyComplete, OpResult.Stale, OpResult.Ok]);
    expect(await env.redis.lrange(key, 0, -1)).toEqual([`0:${rqs[0].tag}:1:0`, `0:${rqs[2].tag}:1:${BlkStatus.TIMEOUT}`]);
    expect(await t.apply([end(rqs[1])])).toEqual([OpResult.Ok]);
    expect(await env.redis.llen(key)).toBe(2);
  });

  it('hands out each tag once to concurrent allocators on separate connections', async () => {
    const t1 = await table({ queueDepth: 64, nrHwQueues: 1 });
    const other = env.redis.duplicate();
    try {
      const t2 = await RedisRequestTable.open(other, 'rnullb0', { keys: t1.keySchema });
      const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? t1 : t2).alloc(0, 3));
      const tags = (await Promise.all(calls)).flat().map((x) => x.tag);
      expect(tags.length).toBe(64);
      expect(new Set(tags).size).toBe(64);
    } finally {
      await other.quit();
    }
  });
});
