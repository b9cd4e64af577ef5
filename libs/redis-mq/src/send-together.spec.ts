// sendTogether against a real Redis: commands issued inside go out in one socket write,
// in order, and their replies come back as usual.
import { sendTogether } from './send-together';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('send-together');
afterEach(() => env.cleanup());
afterAll(() => env.close());

describe('sendTogether', () => {
  it('writes the commands issued inside in one socket write, in order', async () => {
    const keys = env.keys();
    const key = keys.requestData('d0');
    await env.redis.ping();
    // A net.Socket hands buffered chunks to `_writev` (several) or `_write` (one): one call, one syscall.
    const sock = (env.redis as unknown as { stream: Record<'_write' | '_writev', (...a: unknown[]) => unknown> }).stream;
    const writes: number[] = [];
    const [w1, wv] = [sock._write, sock._writev];
    sock._write = function (this: unknown, ...a: unknown[]) {
      writes.push(1);
      return w1.apply(this, a);
    };
    sock._writev = function (this: unknown, ...a: unknown[]) {
      writes.push((a[0] as unknown[]).length);
      return wv.apply(this, a);
    };
    try {
      const [a, b, c] = await sendTogether(env.redis, () =>
        Promise.all([env.redis.rpush(key, 'x'), env.redis.rpush(key, 'y'), env.redis.lrange(key, 0, -1)]),
      );
      expect([a, b, c]).toEqual([1, 2, ['x', 'y']]);
      expect(writes).toEqual([3]);
    } finally {
      sock._write = w1;
      sock._writev = wv;
    }
  });
});
