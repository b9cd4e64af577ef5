// Creating, attaching to, reshaping and destroying a disk's request table in Redis.
import { BlkStatus, OpResult, RqState, type TagSpaceConfig } from '#blk-mq';
import { destroyDisk } from './destroy-disk';
import { PageStore } from './page-store';
import { RedisRequestTable } from './redis-request-table';
import { TableBusyError, TableConfigMismatchError, TableNotFoundError } from './script-errors';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('table-lifecycle');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const CFG: TagSpaceConfig = { nrHwQueues: 2, queueDepth: 4, sharedTags: false, recycle: 'on-drop' };

describe('RedisRequestTable lifecycle', () => {
  it('create attaches to an identical table and refuses one of another shape', async () => {
    const keys = env.keys();
    const a = await RedisRequestTable.create(env.redis, 'rnullb0', CFG, { keys });
    const [rq] = await a.alloc(0, 1);
    const b = await RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG }, { keys });
    expect(await b.slot(0, rq.tag)).toMatchObject({ state: RqState.Allocated, gen: 1 });
    await expect(RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG, queueDepth: 8 }, { keys })).rejects.toThrow(
      TableConfigMismatchError,
    );
    await expect(RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG, recycle: 'inline' }, { keys })).rejects.toThrow(
      /another configuration/,
    );
  });

  it('open reads the shape from Redis; a missing table is TableNotFoundError', async () => {
    const keys = env.keys();
    await RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG, sharedTags: true }, { keys });
    const t = await RedisRequestTable.open(env.redis, 'rnullb0', { keys });
    expect(t.config).toEqual({ ...CFG, sharedTags: true });
    await expect(RedisRequestTable.open(env.redis, 'rnullb1', { keys })).rejects.toThrow(TableNotFoundError);
  });

  it('rejects a bad shape or disk name with an error naming the field', async () => {
    const keys = env.keys();
    await expect(RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG, queueDepth: 0 }, { keys })).rejects.toThrow(
      /queueDepth/,
    );
    await expect(RedisRequestTable.create(env.redis, 'a{b}', CFG, { keys })).rejects.toThrow(/disk/);
    expect(await env.countKeys(keys)).toBe(0);
  });

  it('destroy deletes every table key; afterwards alloc fails and old tokens are stale', async () => {
    const keys = env.keys();
    const t = await RedisRequestTable.create(env.redis, 'rnullb0', CFG, { keys });
    const [rq] = await t.alloc(1, 1);
    await t.apply([{ op: 'start', token: rq, deadlineMs: 5 }, { op: 'end', token: rq, status: BlkStatus.IOERR }]);
    expect(await env.countKeys(keys)).toBe(4); // meta, free, slots, stats: no request in flight
    await t.destroy();
    expect(await env.countKeys(keys)).toBe(0);
    await expect(t.alloc(0, 1)).rejects.toThrow(TableNotFoundError);
    expect(await t.apply([{ op: 'drop', token: rq }])).toEqual([OpResult.Stale]);
  });

  it('destroyDisk removes the table and pages of one disk and nothing of another', async () => {
    const keys = env.keys();
    const pages = new PageStore(env.redis, keys);
    for (const disk of ['rnullb0', 'rnullb01']) {
      await RedisRequestTable.create(env.redis, disk, CFG, { keys });
      await pages.write(disk, 0, Buffer.alloc(4096, 1));
    }
    expect(await destroyDisk(env.redis, 'rnullb0', keys)).toBe(3); // tags:meta, tags:free, pages
    expect(await pages.bytesUsed('rnullb0')).toBe(0);
    expect(await pages.bytesUsed('rnullb01')).toBe(4096);
    expect((await RedisRequestTable.open(env.redis, 'rnullb01', { keys })).config).toEqual(CFG);
  });

  it('reshape replaces an idle table atomically, keeping old tokens stale', async () => {
    const keys = env.keys();
    const t = await RedisRequestTable.create(env.redis, 'rnullb0', CFG, { keys });
    const rqs = await t.alloc(0, 2);
    await expect(RedisRequestTable.reshape(env.redis, 'rnullb0', { ...CFG, nrHwQueues: 4 }, { keys })).rejects.toThrow(
      TableBusyError,
    );
    await t.apply(rqs.map((token) => ({ op: 'drop' as const, token })));
    const r = await RedisRequestTable.reshape(env.redis, 'rnullb0', { ...CFG, nrHwQueues: 4 }, { keys });
    expect(r.config.nrHwQueues).toBe(4);
    expect(await r.slot(0, rqs[0].tag)).toMatchObject({ state: RqState.Idle, gen: 1 });
    const again = await r.alloc(0, 4);
    expect(again.every((x) => x.gen === 2)).toBe(true);
    expect(await r.apply(rqs.map((token) => ({ op: 'drop' as const, token })))).toEqual([OpResult.Stale, OpResult.Stale]);
    expect((await r.alloc(3, 9)).length).toBe(4);
    expect((await r.counters()).recycled).toBe(2); // stats survive the reshape
  });

  it('lays out the largest tag space and moves thousands of slots per call', async () => {
    const keys = env.keys();
    const t = await RedisRequestTable.create(env.redis, 'rnullb0', { ...CFG, nrHwQueues: 3, queueDepth: 10240 }, { keys });
    const all = await t.alloc(2, 20000);
    expect(all.length).toBe(10240);
    expect(new Set(all.map((x) => x.tag)).size).toBe(10240);
    const rqs = all.slice(0, 2500);
    const res = await t.apply(rqs.flatMap((token) => [
      { op: 'start' as const, token, deadlineMs: 7 },
      { op: 'end' as const, token, status: 0, drop: true },
    ]));
    expect(res.filter((x) => x === OpResult.Ok)).toHaveLength(2 * rqs.length);
    expect(await t.expired(100, 1)).toEqual([]);
    expect(await t.apply(rqs.map((token) => ({ op: 'drop' as const, token })))).toEqual(rqs.map(() => OpResult.Recycled));
    const again = await t.alloc(2, 20000);
    expect(again.map((x) => `${x.tag}#${x.gen}`)).toEqual(rqs.map((x) => `${x.tag}#2`));
  });
});
