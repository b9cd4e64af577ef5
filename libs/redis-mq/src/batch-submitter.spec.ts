// BatchSubmitter (queueBatch-6.lua) against a real Redis: budget bounds, truncation to
// k records with only their payloads, releases, the shared-tag pool, an owner that is
// gone changes nothing, payload length mismatches refused.
import { MessageKind, decodeBatch, encodeBatch, requestId, type RequestRecord } from './batch-codec';
import { BatchSubmitter } from './batch-submitter';
import type { KeySchema } from './key-schema';
import { LeasedQueue } from './leased-queue';
import { OwnerRegistry } from './owner-registry';
import { OwnerGoneError } from './script-errors';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('batch-submitter');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'd0';

async function setup(opts: { depth?: number; shared?: boolean } = {}) {
  const keys = env.keys();
  await env.redis.hset(
    keys.tableMeta(DISK),
    'queue_depth',
    opts.depth ?? 4,
    'shared_tag_bitmap',
    opts.shared ? '1' : '0',
    'nr_hw_queues',
    2,
  );
  const owners = new OwnerRegistry(env.redis, keys);
  const epoch = await owners.register(DISK, 60_000);
  return { keys, owners, epoch, submitter: new BatchSubmitter(env.redis, keys) };
}

function rq(tag: number, op: number, bytes = 512): RequestRecord {
  return { tag, gen: tag + 100, op, flags: 0, bytes, sector: tag * 8 };
}

function batch(epoch: number, hctx: number, rqs: RequestRecord[]): Buffer {
  return encodeBatch({ hctx, epoch, seq: 1, atMs: Date.now() }, rqs);
}

async function budgetFields(keys: KeySchema): Promise<Record<string, string>> {
  return env.redis.hgetall(keys.tagBudget(DISK));
}

describe('BatchSubmitter.queueBatch', () => {
  it('forgetPayload deletes one staged payload (a timed-out write), leaving the others', async () => {
    const { keys, epoch, submitter } = await setup({ depth: 3 });
    const payloads = [Buffer.alloc(512, 1), Buffer.alloc(512, 2)];
    await submitter.queueBatch({ disk: DISK, epoch, pool: 1, releases: [], message: batch(epoch, 1, [rq(0, 1), rq(2, 1)]), payloads });
    await submitter.forgetPayload(DISK, epoch, 1, 0, 100);
    expect(await env.redis.hexists(keys.requestData(DISK), requestId(epoch, 1, 0, 100))).toBe(0);
    expect(await env.redis.hgetBuffer(keys.requestData(DISK), requestId(epoch, 1, 2, 102))).toEqual(payloads[1]);
  });

  it('takes budget up to queue_depth, truncates the batch to k records and stages only their payloads', async () => {
    const { keys, epoch, submitter } = await setup({ depth: 3 });
    const rqs = [rq(0, 1), rq(1, 0), rq(2, 1), rq(3, 1), rq(4, 1)];
    const payloads = [Buffer.alloc(512, 1), Buffer.alloc(512, 2), Buffer.alloc(512, 3), Buffer.alloc(512, 4)];
    const k = await submitter.queueBatch({ disk: DISK, epoch, pool: 1, releases: [], message: batch(epoch, 1, rqs), payloads });
    expect(k).toBe(3);
    expect(await budgetFields(keys)).toEqual({ 'used:1': '3', [`held:${epoch}:1`]: '3' });
    const q = new LeasedQueue(env.redis, 'q', keys.hctxQueue(DISK, 1));
    const [lease] = await q.claim(5, 10_000);
    const { header, rqs: pushed } = decodeBatch(lease.body);
    expect(header).toMatchObject({ kind: MessageKind.Batch, count: 3, hctx: 1, epoch });
    expect(pushed).toEqual(rqs.slice(0, 3));
    const data = await env.redis.hgetallBuffer(keys.requestData(DISK));
    expect(Object.keys(data).length).toBe(2);
    expect(await env.redis.hgetBuffer(keys.requestData(DISK), requestId(epoch, 1, 0, 100))).toEqual(payloads[0]);
    expect(await env.redis.hgetBuffer(keys.requestData(DISK), requestId(epoch, 1, 2, 102))).toEqual(payloads[1]);

    // Budget exhausted: k = 0, nothing pushed, nothing staged.
    expect(
      await submitter.queueBatch({ disk: DISK, epoch, pool: 1, releases: [], message: batch(epoch, 1, [rq(5, 0)]), payloads: [] }),
    ).toBe(0);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 1 });
    // Another pool has its own budget.
    expect(
      await submitter.queueBatch({ disk: DISK, epoch, pool: 0, releases: [], message: batch(epoch, 0, [rq(0, 0)]), payloads: [] }),
    ).toBe(1);
  });

  it('releases before taking, clamps a release of more than held and counts the mismatch; a release-only run', async () => {
    const { keys, epoch, submitter } = await setup({ depth: 2 });
    expect(
      await submitter.queueBatch({
        disk: DISK,
        epoch,
        pool: 0,
        releases: [],
        message: batch(epoch, 0, [rq(0, 0), rq(1, 0)]),
        payloads: [],
      }),
    ).toBe(2);
    expect(
      await submitter.queueBatch({
        disk: DISK,
        epoch,
        pool: 0,
        releases: [[0, 1]],
        message: batch(epoch, 0, [rq(2, 0), rq(3, 0)]),
        payloads: [],
      }),
    ).toBe(1);
    expect(await budgetFields(keys)).toMatchObject({ 'used:0': '2', [`held:${epoch}:0`]: '2' });
    await submitter.release(DISK, epoch, [
      [0, 1],
      [0, 3],
    ]);
    expect(await budgetFields(keys)).toEqual({ 'used:0': '0', [`held:${epoch}:0`]: '0', 'mismatch:release': '2' });
  });

  it("never releases another owner's budget", async () => {
    const { keys, owners, epoch, submitter } = await setup({ depth: 4 });
    const other = await owners.register(DISK, 60_000);
    await submitter.queueBatch({
      disk: DISK,
      epoch: other,
      pool: 0,
      releases: [],
      message: batch(other, 0, [rq(0, 0), rq(1, 0)]),
      payloads: [],
    });
    await submitter.release(DISK, epoch, [[0, 2]]);
    expect(await budgetFields(keys)).toMatchObject({ 'used:0': '2', [`held:${other}:0`]: '2', 'mismatch:release': '2' });
  });

  it('counts every hctx against pool 0 with shared tags, and refuses another pool', async () => {
    const { keys, epoch, submitter } = await setup({ depth: 3, shared: true });
    expect(
      await submitter.queueBatch({
        disk: DISK,
        epoch,
        pool: 0,
        releases: [],
        message: batch(epoch, 0, [rq(0, 0), rq(1, 0)]),
        payloads: [],
      }),
    ).toBe(2);
    expect(
      await submitter.queueBatch({
        disk: DISK,
        epoch,
        pool: 0,
        releases: [],
        message: batch(epoch, 1, [rq(2, 0), rq(3, 0)]),
        payloads: [],
      }),
    ).toBe(1);
    expect(await budgetFields(keys)).toEqual({ 'used:0': '3', [`held:${epoch}:0`]: '3' });
    await expect(
      submitter.queueBatch({ disk: DISK, epoch, pool: 1, releases: [], message: batch(epoch, 1, [rq(4, 0)]), payloads: [] }),
    ).rejects.toThrow(/shared tags use pool 0/);
  });

  it('an owner whose lease expired but that nobody reclaimed still queues (the reclaim is the fence)', async () => {
    const { keys, epoch, submitter } = await setup();
    await env.redis.zadd(keys.owners(DISK), Date.now() - 60_000, epoch);
    const input = { disk: DISK, epoch, pool: 0, releases: [], message: batch(epoch, 0, [rq(0, 1)]), payloads: [Buffer.alloc(512)] };
    expect(await submitter.queueBatch(input)).toBe(1);
  });

  it('an owner that is gone (reclaimed) changes nothing and gets OwnerGoneError', async () => {
    const { keys, epoch, submitter } = await setup();
    await env.redis.hset(keys.tagBudget(DISK), `held:${epoch}:0`, 1, 'used:0', 1);
    const before = await budgetFields(keys);
    const input = {
      disk: DISK,
      epoch,
      pool: 0,
      releases: [[0, 1]] as [number, number][],
      message: batch(epoch, 0, [rq(0, 1)]),
      payloads: [Buffer.alloc(512)],
    };
    await env.redis.zrem(keys.owners(DISK), epoch);
    await expect(submitter.queueBatch(input)).rejects.toThrow(OwnerGoneError);
    expect(await budgetFields(keys)).toEqual(before);
    expect(await env.redis.exists(keys.requestData(DISK), keys.hctxQueue(DISK, 0).wait)).toBe(0);
  });

  it('refuses a payload of the wrong length, a missing or extra payload, and a foreign epoch, changing nothing', async () => {
    const { keys, epoch, submitter } = await setup();
    const msg = batch(epoch, 0, [rq(0, 0), rq(1, 1, 1024)]);
    const base = { disk: DISK, epoch, pool: 0, releases: [] as [number, number][], message: msg };
    await expect(submitter.queueBatch({ ...base, payloads: [Buffer.alloc(512)] })).rejects.toThrow(
      /record 1 is 512 bytes, record says 1024/,
    );
    await expect(submitter.queueBatch({ ...base, payloads: [] })).rejects.toThrow(/no payload for write record 1/);
    await expect(submitter.queueBatch({ ...base, payloads: [Buffer.alloc(1024), Buffer.alloc(1)] })).rejects.toThrow(
      /payloads more than write records/,
    );
    await expect(submitter.queueBatch({ ...base, message: batch(epoch + 1, 0, [rq(0, 0)]), payloads: [] })).rejects.toThrow(
      /message epoch/,
    );
    expect(await env.countKeys(keys)).toBe(3); // meta, epoch counter, owners
  });
});

describe('BatchSubmitter.takeBudget', () => {
  it('takes up to queue_depth across owners, pushes nothing, and releases before taking', async () => {
    const { keys, owners, epoch, submitter } = await setup({ depth: 4 });
    const other = await owners.register(DISK, 60_000);
    expect(await submitter.takeBudget(DISK, epoch, 1, 3, [])).toBe(3);
    expect(await submitter.takeBudget(DISK, other, 1, 3, [])).toBe(1);
    expect(await budgetFields(keys)).toMatchObject({ 'used:1': '4', [`held:${epoch}:1`]: '3', [`held:${other}:1`]: '1' });
    // Give 2 back and take 2 in the same run: the pool stays full, nothing is pushed.
    expect(await submitter.takeBudget(DISK, epoch, 1, 2, [[1, 2]])).toBe(2);
    expect(await budgetFields(keys)).toMatchObject({ 'used:1': '4', [`held:${epoch}:1`]: '3' });
    expect(await env.redis.llen(keys.hctxQueue(DISK, 1).wait)).toBe(0);
    // A release-only run (want 0) frees the other pool's budget for the other owner.
    expect(await submitter.takeBudget(DISK, epoch, 0, 0, [[1, 3]])).toBe(0);
    expect(await submitter.takeBudget(DISK, other, 1, 5, [])).toBe(3);
  });

  it('an owner that is gone changes nothing and gets OwnerGoneError; bad arguments are refused', async () => {
    const { keys, owners, epoch, submitter } = await setup({ depth: 4 });
    await owners.unregister(DISK, epoch);
    await expect(submitter.takeBudget(DISK, epoch, 0, 2, [])).rejects.toBeInstanceOf(OwnerGoneError);
    expect(await budgetFields(keys)).toEqual({});
    const live = await owners.register(DISK, 60_000);
    await expect(submitter.takeBudget(DISK, live, 0, -1, [])).rejects.toThrow(/want/);
    await expect(submitter.takeBudget(DISK, live, 1, 1, [[0, -2]])).rejects.toThrow(/release count/);
  });
});
