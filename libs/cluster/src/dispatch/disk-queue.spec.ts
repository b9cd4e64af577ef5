// DiskQueue with a scripted table: one queueing run per hctx at a time, requests plugged
// meanwhile go in the next run at once, and a notice that overtakes the reply of the run
// that queued its request still ends that request (it is not dropped as stale).
import { BlkStatus, type RequestToken, ReqOp } from '#blk-mq';
import { KeySchema, type QueuedRequest, type RedisRequestTable } from '#redis-mq';
import { applyAttributes, DEFAULT_ATTRIBUTES } from '#rnull';
import type { Redis } from 'ioredis';
import type { DiskRecord } from '../disk-record';
import { DiskQueue } from './disk-queue';
import { IoRequest, PendingBio } from './io-request';

const record: DiskRecord = {
  name: 'd0',
  attributes: applyAttributes(DEFAULT_ATTRIBUTES, { size: 64, memoryBacked: false }, false),
  power: true,
  index: 0,
};

/** A table whose queueing runs answer only when the test says so. */
function scriptedTable() {
  const runs: { rqs: readonly QueuedRequest[]; answer: (t: RequestToken[]) => void }[] = [];
  const dropped: RequestToken[] = [];
  let gen = 0;
  const table = {
    config: { nrHwQueues: 1, queueDepth: 64, sharedTags: false, recycle: 'on-drop' },
    allocAndQueue: (_h: number, rqs: readonly QueuedRequest[]) => new Promise<RequestToken[]>((answer) => runs.push({ rqs, answer })),
    dropAndFreeData: async (tokens: RequestToken[]) => {
      dropped.push(...tokens);
      return tokens.map(() => 2);
    },
    tokensFor: (n: number) => Array.from({ length: n }, (_, i) => ({ hctx: 0, tag: i, gen: ++gen })),
  };
  return { table, runs, dropped };
}

function read(sector: number, ended: BlkStatus[]): IoRequest {
  const bio = new PendingBio(ReqOp.READ, 4096, (s) => ended.push(s));
  const rq = new IoRequest(ReqOp.READ, sector, 0);
  rq.add({ bio, bioOffset: 0, bytes: 4096 });
  bio.addPart();
  return rq;
}

const tick = () => new Promise((r) => setImmediate(r));
const redis = { hmgetBuffer: async () => [], hdel: async () => 0, defineCommand: () => undefined } as unknown as Redis;

describe('DiskQueue', () => {
  it('runs one queueing run at a time and sends what was plugged meanwhile right after', async () => {
    const { table, runs } = scriptedTable();
    const q = new DiskQueue(record, table as unknown as RedisRequestTable, redis, new KeySchema('t:'), 'me');
    const ended: BlkStatus[] = [];
    q.submit(0, [read(0, ended)]);
    await tick();
    expect(runs).toHaveLength(1);
    q.submit(0, [read(80, ended), read(160, ended)]);
    await tick();
    expect(runs).toHaveLength(1);
    runs[0].answer(table.tokensFor(1));
    await tick();
    expect(runs).toHaveLength(2);
    expect(runs[1].rqs.map((r) => r.sector)).toEqual([80, 160]);
    await q.close();
  });

  it('ends a request whose notice came before the reply of the run that queued it', async () => {
    const { table, runs, dropped } = scriptedTable();
    const q = new DiskQueue(record, table as unknown as RedisRequestTable, redis, new KeySchema('t:'), 'me');
    const ended: BlkStatus[] = [];
    q.submit(0, [read(0, ended)]);
    await tick();
    const [token] = table.tokensFor(1);
    await q.complete([{ token, status: BlkStatus.OK }]);
    expect(ended).toEqual([]);
    expect(q.unknownNotices).toBe(0);
    runs[0].answer([token]);
    for (let i = 0; i < 5 && ended.length === 0; i++) await tick();
    expect(ended).toEqual([BlkStatus.OK]);
    // The client is answered first; the submitter's reference drops after.
    expect(dropped).toEqual([]);
    for (let i = 0; i < 5 && dropped.length === 0; i++) await tick();
    expect(dropped).toEqual([token]);
    expect(q.inFlight).toBe(0);
    await q.close();
  });

  it('still counts a notice for a request it never held as unknown', async () => {
    const { table } = scriptedTable();
    const q = new DiskQueue(record, table as unknown as RedisRequestTable, redis, new KeySchema('t:'), 'me');
    await q.complete([{ token: { hctx: 0, tag: 5, gen: 9 }, status: BlkStatus.OK }]);
    expect(q.unknownNotices).toBe(1);
    await q.close();
  });

  it('hands notices for requests its predecessor holds (after a reshape) to that predecessor', async () => {
    const before = scriptedTable();
    const old = new DiskQueue(record, before.table as unknown as RedisRequestTable, redis, new KeySchema('t:'), 'me');
    const ended: BlkStatus[] = [];
    old.submit(0, [read(0, ended)]);
    await tick();
    const [token] = before.table.tokensFor(1);
    before.runs[0].answer([token]);
    await tick();
    expect(old.holds(token)).toBe(true);

    const after = scriptedTable();
    const q = new DiskQueue(record, after.table as unknown as RedisRequestTable, redis, new KeySchema('t:'), 'me');
    q.predecessor = old;
    await q.complete([{ token, status: BlkStatus.OK }]);
    for (let i = 0; i < 5 && ended.length === 0; i++) await tick();
    expect(ended).toEqual([BlkStatus.OK]);
    expect(before.dropped).toEqual([token]);
    expect(q.unknownNotices + old.unknownNotices).toBe(0);
    expect(old.inFlight).toBe(0);
    await q.close();
    await old.close();
  });
});
