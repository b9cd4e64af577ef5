// Mirrors a kernel selftest's scratch device: a Redis connection and a fresh key
// namespace per test, removed afterwards, so tests share one real Redis without seeing
// each other's keys.
//
// Contract: every key a test writes is under `keys.prefix`; `cleanup()` UNLINKs exactly
// that prefix (never FLUSHALL / FLUSHDB); `close()` ends the connection so jest exits.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { unlinkMatching } from '../destroy-disk';
import { KeySchema } from '../key-schema';

/** `REDIS_URL`, or the local default of DESIGN section 5. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export class RedisTestEnv {
  readonly redis: Redis;
  private readonly used: KeySchema[] = [];

  constructor(readonly suite: string) {
    this.redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1, lazyConnect: false });
  }

  /** A key namespace no other test uses; removed by `cleanup()`. */
  keys(): KeySchema {
    const keys = new KeySchema(`test:redis-mq:${this.suite}:${process.pid}:${randomBytes(6).toString('hex')}:`);
    this.used.push(keys);
    return keys;
  }

  /** Deletes every key of every namespace handed out so far; returns how many. */
  async cleanup(): Promise<number> {
    let n = 0;
    for (const keys of this.used.splice(0)) n += await unlinkMatching(this.redis, keys.prefixPattern());
    return n;
  }

  /** Number of keys under `keys.prefix`. */
  async countKeys(keys: KeySchema): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', keys.prefixPattern(), 'COUNT', 500);
      cursor = next;
      n += found.length;
    } while (cursor !== '0');
    return n;
  }

  async close(): Promise<void> {
    await this.cleanup();
    await this.redis.quit();
  }
}
