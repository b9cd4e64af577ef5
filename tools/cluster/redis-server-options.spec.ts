// A redis-server started with redisServerLaunch('on') backs fresh values with transparent
// huge pages, and one started 'off' does not: read from the server's own smaps, after
// writing 48 MiB of fresh 4 KiB values (what a memory-backed disk's first writes do).
import * as fs from 'node:fs';
import { Redis } from 'ioredis';
import { findOrStartRedis, freePort, type RedisHandle } from './private-redis';
import { redisServerLaunch, REDIS_SERVER_ARGS, type RedisHugePages } from './redis-server-options';

const VALUES = 12_288; // x 4 KiB = 48 MiB
const hostMode = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];

async function anonHugeKiB(hugePages: RedisHugePages): Promise<number> {
  // A free port: nothing answers there, so findOrStartRedis starts a private server.
  const redis: RedisHandle = await findOrStartRedis(`redis://127.0.0.1:${await freePort()}`, hugePages);
  const client = new Redis(redis.url);
  try {
    expect(redis.child?.pid).toBeDefined();
    const page = Buffer.alloc(4096, 0x5a);
    for (let i = 0; i < VALUES; i += 512) {
      const p = client.pipeline();
      for (let j = i; j < i + 512; j++) p.set(`page:${j}`, page);
      await p.exec();
    }
    const smaps = fs.readFileSync(`/proc/${redis.child!.pid}/smaps_rollup`, 'utf8');
    return Number(/AnonHugePages:\s+(\d+) kB/.exec(smaps)?.[1] ?? NaN);
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

describe('redis-server launch options', () => {
  it('adds jemalloc thp:always and the longer dirty decay for both jemalloc builds and keeps Redis from disabling THP', () => {
    const on = redisServerLaunch('on');
    expect(on.env.MALLOC_CONF).toBe('thp:always,dirty_decay_ms:30000');
    expect(on.env.JE_MALLOC_CONF).toBe('thp:always,dirty_decay_ms:30000');
    expect(on.args).toEqual(['--disable-thp', 'no']);
    expect(REDIS_SERVER_ARGS).toEqual(on.args);
    const off = redisServerLaunch('off');
    expect(off.args).toEqual([]);
    expect(off.env.MALLOC_CONF).toBe(process.env.MALLOC_CONF);
  });

  it(`backs fresh values with huge pages only when on (host THP mode: ${hostMode})`, async () => {
    const on = await anonHugeKiB('on');
    const off = await anonHugeKiB('off');
    if (hostMode === 'never') {
      // The host refuses huge pages to everyone: nothing to gain, and nothing breaks.
      expect(on).toBe(0);
    } else {
      // Most of the 48 MiB sits in 2 MiB pages.
      expect(on).toBeGreaterThanOrEqual(32 * 1024);
    }
    if (hostMode !== 'always') expect(off).toBe(0);
  }, 60_000);
});
