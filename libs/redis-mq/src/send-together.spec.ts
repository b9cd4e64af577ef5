// sendTogether against a real Redis: commands issued inside go out in one socket write,
// in order, and their replies come back as usual.
import { sendTogether } from './send-together';
import { RedisTestEnv } from './testing/redis-test-env';
import { recordSocketWrites } from './testing/socket-writes';

const env = new RedisTestEnv('send-together');
afterEach(() => env.cleanup());
afterAll(() => env.close());

describe('sendTogether', () => {
  it('writes the commands issued inside in one socket write, in order', async () => {
    const keys = env.keys();
    const key = keys.requestData('d0');
    await env.redis.ping();
    const { result, writes } = await recordSocketWrites(env.redis, () =>
      sendTogether(env.redis, () => Promise.all([env.redis.rpush(key, 'x'), env.redis.rpush(key, 'y'), env.redis.lrange(key, 0, -1)])),
    );
    expect(result).toEqual([1, 2, ['x', 'y']]);
    expect(writes).toEqual([3]);
  });
});
