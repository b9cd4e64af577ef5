// RedisRequestTable.allocAndQueue: tags for the first requests, their batch message and
// payloads queued in the same step, nothing queued for requests that got no tag.
import { RqState, type TagSpaceConfig } from '#blk-mq';
import { BatchQueue } from './batch-queue';
import { RedisRequestTable } from './redis-request-table';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('alloc-and-queue');
afterEach(() => env.cleanup());
afterAll(() => env.close());

async function setup(cfg: Partial<TagSpaceConfig> = {}) {
  const keys = env.keys();
  const config: TagSpaceConfig = { nrHwQueues: 2, queueDepth: 3, sharedTags: false, recycle: 'on-drop', ...cfg };
  const table = await RedisRequestTable.create(env.redis, 'd0', config, { keys });
  const queue = new BatchQueue(env.redis, 'rq.d0.1', keys.hctxQueue('d0', 1));
  return { keys, table, queue };
}

const rq = (sector: number, payload?: Buffer) => ({ op: payload ? 1 : 0, sector, bytes: 4096, flags: 0, payload });

describe('RedisRequestTable.allocAndQueue', () => {
  it('queues one message naming the tags taken, with payloads staged under hctx:tag:gen', async () => {
    const { keys, table, queue } = await setup();
    const data = Buffer.alloc(4096, 9);
    const tokens = await table.allocAndQueue(1, [rq(8), rq(2 ** 40, data)], queue.keys, keys.requestData('d0'), 'id1 {"x":1,"rqs":[', ']}');
    expect(tokens).toEqual([
      { hctx: 1, tag: 0, gen: 1 },
      { hctx: 1, tag: 1, gen: 1 },
    ]);
    const [m] = await queue.claim(5, 10_000);
    expect(m.raw).toBe(`id1 {"x":1,"rqs":[[0,1,0,8,4096,0],[1,1,1,${2 ** 40},4096,0]]}`);
    expect(JSON.parse(m.body).rqs[1][3]).toBe(2 ** 40);
    expect(await env.redis.hgetBuffer(keys.requestData('d0'), '1:1:1')).toEqual(data);
    expect(await env.redis.hexists(keys.requestData('d0'), '1:0:1')).toBe(0);
    expect(await table.slot(1, 0)).toMatchObject({ state: RqState.Allocated, refs: 1, gen: 1 });
  });

  it('takes what is free and queues only those requests; none free queues nothing', async () => {
    const { keys, table, queue } = await setup();
    const five = [1, 2, 3, 4, 5].map((s) => rq(s, Buffer.alloc(4096, s)));
    const tokens = await table.allocAndQueue(1, five, queue.keys, keys.requestData('d0'), 'a {"rqs":[', ']}');
    expect(tokens.map((t) => t.tag)).toEqual([0, 1, 2]);
    expect(await env.redis.hlen(keys.requestData('d0'))).toBe(3);
    expect(await table.allocAndQueue(1, five, queue.keys, keys.requestData('d0'), 'b {"rqs":[', ']}')).toEqual([]);
    const taken = await queue.claim(5, 10_000);
    expect(taken).toHaveLength(1);
    expect(JSON.parse(taken[0].body).rqs.map((r: number[]) => r[3])).toEqual([1, 2, 3]);
    expect((await table.counters()).allocShort).toBe(2);
  });

  it('refuses a disk without a table and malformed requests', async () => {
    const { keys, table, queue } = await setup();
    await table.destroy();
    await expect(table.allocAndQueue(0, [rq(0)], queue.keys, keys.requestData('d0'), '', '')).rejects.toThrow(/table/i);
    await expect(table.allocAndQueue(0, [{ ...rq(0), sector: 1.5 }], queue.keys, keys.requestData('d0'), '', '')).rejects.toThrow(RangeError);
    expect(await queue.getJobCounts()).toMatchObject({ waiting: 0 });
  });
});
