// A duplicated completion delivery and a completion after a timeout are refused as stale
// and counted, and neither touches the request that reuses the tag (DESIGN invariant 2).
import { Redis } from 'ioredis';
import { BlkStatus, RqState } from '#blk-mq';
import { BatchQueue, KeySchema, RedisRequestTable } from '#redis-mq';
import { QueueNames, type EndBatch } from '#cluster';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, type Fixture, REDIS_URL, startCluster, submit } from './support/cluster-fixture';

let f: Fixture;
let keys: KeySchema;
let conn: Redis;
beforeAll(async () => {
  f = await startCluster();
  keys = new KeySchema(f.prefix);
  conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await conn?.quit();
  await f?.stop();
});

async function refusals(t: RedisRequestTable): Promise<number> {
  const c = await t.counters();
  return c.staleRejected + c.doubleEnds;
}

it('refuses a duplicated softirq delivery without touching the request that reuses the tag', async () => {
  await createDisk(f, 'dup0', { size: 4n, irqmode: 1, hwQueueDepth: 1 });
  const table = await RedisRequestTable.open(f.redis, 'dup0', { keys });
  const w = await submit(f, { disk: 'dup0', op: Op.OP_WRITE, sector: 0n, length: 4096, data: Buffer.alloc(4096, 7) });
  expect(w.status).toBe(Status.STATUS_OK);
  // The submitter's reference drops just after the client is answered (off its path), so
  // the tag turns IDLE shortly after the answer, not before it.
  expect(await eventually(async () => (await table.slot(0, 0)).state === RqState.Idle, 5000, 10)).toBe(true);
  const ended = await table.slot(0, 0);

  // Another submitter takes the tag again (gen + 1) and holds it.
  const [reuser] = await table.alloc(0, 1);
  expect(reuser).toEqual({ hctx: 0, tag: 0, gen: ended.gen + 1 });
  const before = await refusals(table);

  // The completion of the first request is delivered a second time.
  const softirq = new BatchQueue(conn, QueueNames.softirq, keys.sharedQueue(QueueNames.softirq));
  const duplicate: EndBatch = { disk: 'dup0', replyTo: 'nobody', ends: [[0, 0, ended.gen, BlkStatus.OK]] };
  await softirq.push(JSON.stringify(duplicate));

  expect(await eventually(async () => (await refusals(table)) === before + 1)).toBe(true);
  const now = await table.slot(0, 0);
  expect(now).toMatchObject({ gen: reuser.gen, state: RqState.Allocated, refs: 1 });
  expect(await table.apply([{ op: 'drop', token: reuser }])).toEqual([2]); // Recycled
});

it('refuses a completion that arrives after the timeout, and the reuser stays untouched', async () => {
  // The timer fires after 3 s, the request times out after 0.4 s.
  await createDisk(f, 'late0', { size: 4n, irqmode: 2, completionNsec: 3_000_000_000n, timeoutMs: 400, hwQueueDepth: 1 });
  const table = await RedisRequestTable.open(f.redis, 'late0', { keys });
  const before = await refusals(table);
  const t0 = Date.now();
  const r = await submit(f, { disk: 'late0', op: Op.OP_READ, sector: 0n, length: 4096 });
  expect(r.status).toBe(Status.STATUS_TIMEOUT);
  expect(r.message).toMatch(/timed out/);
  expect(Date.now() - t0).toBeLessThan(2500);

  expect(await eventually(async () => (await table.slot(0, 0)).state === RqState.Idle, 5000, 10)).toBe(true);
  const timedOut = await table.slot(0, 0);
  const [reuser] = await table.alloc(0, 1);
  expect(reuser.gen).toBe(timedOut.gen + 1);

  // The timer of the timed-out request fires now and is refused.
  expect(await eventually(async () => (await refusals(table)) === before + 1, 10_000)).toBe(true);
  expect(await table.slot(0, 0)).toMatchObject({ gen: reuser.gen, state: RqState.Allocated, refs: 1 });
  await table.apply([{ op: 'drop', token: reuser }]);
  expect((await table.busy()).length).toBe(0);
});
