// RedisBacking against a real Redis: page ops move data only for requests the table holds
// in flight (gated in the same script), and ops sent ahead of the driver right behind a
// batch's start run after that start and hand their results to `transfer`.
import { BlkStatus, OpResult, ReqOp, type RequestToken } from '#blk-mq';
import { PageStore, RedisRequestTable } from '#redis-mq';
import { RedisTestEnv } from '../../../redis-mq/src/testing/redis-test-env';
import { dataField, type RqWire } from '../rq-batch';
import { RedisBacking } from './redis-backing';

const env = new RedisTestEnv('redis-backing');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'rnullb0';
const DEADLINE = Date.now() + 60_000;

async function setup() {
  const keys = env.keys();
  const table = await RedisRequestTable.create(env.redis, DISK, { nrHwQueues: 1, queueDepth: 8, sharedTags: false, recycle: 'on-drop' }, { keys });
  const pages = new PageStore(env.redis, keys);
  const backing = new RedisBacking(pages, DISK, (t) => table.slotIndexOf(t), () => true);
  const stage = (t: RequestToken, fill: number) => env.redis.hset(keys.requestData(DISK), dataField(t), Buffer.alloc(4096, fill));
  const write = (t: RequestToken, sector: number) => ({ token: t, op: ReqOp.WRITE, sector, bytes: 4096 });
  return { keys, table, pages, backing, stage, write };
}

describe('RedisBacking', () => {
  it('moves the data of a started request, and nothing for one not started or already ended', async () => {
    const { table, pages, backing, stage, write } = await setup();
    const [a, b, c] = await table.alloc(0, 3);
    for (const [t, fill] of [[a, 1], [b, 2], [c, 3]] as const) await stage(t, fill);
    await table.apply([{ op: 'start', token: a, deadlineMs: DEADLINE }, { op: 'start', token: c, deadlineMs: DEADLINE }]);
    await table.apply([{ op: 'end', token: c, status: BlkStatus.OK, drop: true }]);
    const statuses = await backing.transfer([write(a, 0), write(b, 8), write(c, 16)]);
    expect(statuses).toEqual([BlkStatus.OK, BlkStatus.IOERR, BlkStatus.IOERR]);
    expect(await pages.read(DISK, 0, 4096)).toEqual(Buffer.alloc(4096, 1));
    expect(await pages.read(DISK, 8, 8192)).toEqual(Buffer.alloc(8192));
  });

  it('runs ops sent ahead behind the start, gated on its result, and hands them to transfer', async () => {
    const { table, pages, backing, stage, write } = await setup();
    const [a, b] = await table.alloc(0, 2);
    await stage(a, 7);
    await stage(b, 9);
    // b ended before its (redelivered) batch arrives: its start is refused, its data must not land.
    await table.apply([{ op: 'start', token: b, deadlineMs: DEADLINE }, { op: 'end', token: b, status: BlkStatus.TIMEOUT, drop: true }]);
    const wire: RqWire[] = [a, b].map((t, i) => [t.tag, t.gen, ReqOp.WRITE, i * 8, 4096, 0]);
    const starting = table.apply([a, b].map((token) => ({ op: 'start' as const, token, deadlineMs: DEADLINE })));
    const release = backing.prepare(0, wire);
    expect(await starting).toEqual([OpResult.Ok, OpResult.BadState]);
    // The pages were written before transfer was called: the ops ran right after the starts.
    expect(await pages.read(DISK, 0, 4096)).toEqual(Buffer.alloc(4096, 7));
    expect(await pages.read(DISK, 8, 4096)).toEqual(Buffer.alloc(4096));
    // Removing the source now would fail a second copy-in: transfer must use the early result.
    await env.redis.del(table.keySchema.requestData(DISK));
    expect(await backing.transfer([write(a, 0)])).toEqual([BlkStatus.OK]);
    release();
    expect(await backing.transfer([write(a, 0)])).toEqual([BlkStatus.IOERR]);
  });
});
