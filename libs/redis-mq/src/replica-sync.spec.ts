// ReplicaSync on the real Redis (which has no replicas): nothing to wait for with 0
// replicas; with 1, WAIT answers 0 after the timeout and the flush fails, naming why.
import { BlkStatus } from '#blk-mq';
import { NotPersistedError, ReplicaSync } from './replica-sync';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('replica-sync');
afterAll(() => env.close());

it('with 0 replicas resolves at once and writes nothing', async () => {
  const keys = env.keys();
  const sync = new ReplicaSync(env.redis, keys, { replicas: 0, timeoutMs: 50 });
  await sync.persist('d0');
  expect(await env.countKeys(keys)).toBe(0);
  sync.close();
});

it('with more replicas than Redis has, waits the timeout and fails naming the count', async () => {
  const keys = env.keys();
  const sync = new ReplicaSync(env.redis, keys, { replicas: 1, timeoutMs: 150 });
  const t0 = Date.now();
  const err = await sync.persist('d0').catch((e: unknown) => e);
  sync.close();
  await expect(sync.persist('d0')).rejects.toThrow(/closed/);
  const open = new ReplicaSync(env.redis, keys, { replicas: 1, timeoutMs: 150 });
  expect(err).toBeInstanceOf(NotPersistedError);
  expect((err as Error).message).toBe('d0: flush: writes reached 0 of 1 replicas within 150 ms');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  // The WAIT counted from writes of its own connection, in the disk's slot (a lone INCR,
  // then the INCR of the INCR + WAIT pipeline).
  expect(await env.redis.get(keys.flushCounter('d0'))).toBe('2');
  const errors: unknown[] = [];
  try {
    expect(await open.persistStatus('d0', (e) => errors.push(e))).toBe(BlkStatus.IOERR);
  } finally {
    open.close();
  }
  expect(errors).toHaveLength(1);
});

it('refuses a negative replica count or a zero timeout', () => {
  const keys = env.keys();
  expect(() => new ReplicaSync(env.redis, keys, { replicas: -1, timeoutMs: 10 })).toThrow(RangeError);
  expect(() => new ReplicaSync(env.redis, keys, { replicas: 1, timeoutMs: 0 })).toThrow(RangeError);
});
