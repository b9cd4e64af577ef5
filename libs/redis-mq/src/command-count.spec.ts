// Redis commands per call, seen through MONITOR: one network command per batch, and a
// number of commands inside the script that does not grow with the batch (DESIGN 6).
import type { Redis } from 'ioredis';
import { BlkStatus, type TableOp } from '#blk-mq';
import type { KeySchema } from './key-schema';
import { PAGE_SIZE, PageStore, type PageOp } from './page-store';
import { RedisRequestTable } from './redis-request-table';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('command-count');
let monitor: Redis;
const seen: { source: string; args: string[] }[] = [];

beforeAll(async () => {
  monitor = await env.redis.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
});
afterEach(() => env.cleanup());
afterAll(async () => {
  monitor.disconnect();
  await env.close();
});

interface Count {
  /** Commands the client sent (EVALSHA / EVAL). */
  client: number;
  /** Commands the script ran inside Redis. */
  lua: number;
}

/** Sends a command naming `marker` and waits until MONITOR has shown it; returns its index. */
async function mark(marker: string): Promise<number> {
  await env.redis.exists(marker);
  for (let i = 0; i < 400; i++) {
    const at = seen.findIndex((c) => c.args.includes(marker));
    if (at >= 0) return at;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`MONITOR never showed ${marker}`);
}

/** Runs `fn` and counts the commands that touched `keys`' namespace while it ran. */
async function count(keys: KeySchema, fn: () => Promise<unknown>): Promise<Count> {
  const tag = `${keys.prefix}marker:${Math.random()}`;
  const from = await mark(`${tag}:from`);
  await fn();
  const to = await mark(`${tag}:to`);
  const ours = seen.slice(from + 1, to).filter((c) => c.args.some((a) => a.startsWith(keys.prefix)));
  const lua = ours.filter((c) => c.source === 'lua').length;
  return { client: ours.length - lua, lua };
}

describe('Redis commands per call', () => {
  it('alloc: one EVALSHA and the same script work for 1 or 64 tags', async () => {
    const keys = env.keys();
    const t = await RedisRequestTable.create(env.redis, 'rnullb0', { nrHwQueues: 1, queueDepth: 128, sharedTags: false, recycle: 'on-drop' }, { keys });
    await t.alloc(0, 1); // the first call on a connection sends EVAL; later ones EVALSHA
    const one = await count(keys, () => t.alloc(0, 1));
    const many = await count(keys, () => t.alloc(0, 64));
    expect(one).toEqual({ client: 1, lua: 6 });
    expect(many).toEqual(one);
  });

  it('apply: one EVALSHA and a constant script work for 1 or 64 ops', async () => {
    const keys = env.keys();
    const t = await RedisRequestTable.create(env.redis, 'rnullb0', { nrHwQueues: 1, queueDepth: 128, sharedTags: false, recycle: 'on-drop' }, { keys });
    const rqs = await t.alloc(0, 65);
    const batch = (from: number, to: number, op: (token: (typeof rqs)[0]) => TableOp) => rqs.slice(from, to).map(op);
    const started = (token: (typeof rqs)[0]): TableOp => ({ op: 'start', token, deadlineMs: 1 });
    await t.apply(batch(0, 1, started));
    const oneStart = await count(keys, () => t.apply(batch(1, 2, started)));
    const manyStart = await count(keys, () => t.apply(batch(2, 65, started)));
    expect(oneStart).toEqual({ client: 1, lua: 3 }); // HMGET, HSET, ZADD
    expect(manyStart).toEqual(oneStart);
    const ended = (token: (typeof rqs)[0]): TableOp => ({ op: 'end', token, status: BlkStatus.OK, drop: true });
    const oneEnd = await count(keys, () => t.apply(batch(0, 1, ended)));
    const manyEnd = await count(keys, () => t.apply(batch(1, 65, ended)));
    expect(oneEnd).toEqual({ client: 1, lua: 3 }); // HMGET, HSET, ZREM
    expect(manyEnd).toEqual(oneEnd);
  });

  it('page IO: one EVALSHA and a constant script work for 1 or 64 pages', async () => {
    const keys = env.keys();
    const store = new PageStore(env.redis, keys);
    await store.read('rnullb0', 0, PAGE_SIZE);
    const write = (pages: number, sector: number): PageOp => ({ op: 'write', sector, data: Buffer.alloc(pages * PAGE_SIZE, 7) });
    const oneWrite = await count(keys, () => store.apply('rnullb0', [write(1, 0)]));
    const manyWrite = await count(keys, () => store.apply('rnullb0', [write(64, 8)]));
    expect(oneWrite).toEqual({ client: 1, lua: 1 }); // HSET
    expect(manyWrite).toEqual(oneWrite);
    const partial = await count(keys, () => store.apply('rnullb0', [{ op: 'write', sector: 1, data: Buffer.alloc(512, 1) }]));
    expect(partial).toEqual({ client: 1, lua: 2 }); // HMGET, HSET
    const oneRead = await count(keys, () => store.read('rnullb0', 0, PAGE_SIZE));
    const manyRead = await count(keys, () => store.read('rnullb0', 0, 64 * PAGE_SIZE));
    expect(oneRead).toEqual({ client: 1, lua: 1 }); // HMGET
    expect(manyRead).toEqual(oneRead);
  });
});
