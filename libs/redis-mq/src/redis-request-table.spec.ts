// The shared RequestTable contract of libs/blk-mq, run against the Redis table: every test
// gets a fresh key namespace and a fresh disk, removed after the test.
import { requestTableContract } from '../../blk-mq/src/testing/request-table-contract';
import { RedisRequestTable } from './redis-request-table';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('contract');
afterAll(() => env.close());

requestTableContract(
  'RedisRequestTable',
  (cfg, disk) => RedisRequestTable.create(env.redis, disk, cfg, { keys: env.keys() }),
  async () => {
    await env.cleanup();
  },
);

it('keeps the tables of this suite under its own key prefix', async () => {
  const keys = env.keys();
  const t = await RedisRequestTable.create(env.redis, 'prefixcheck', { nrHwQueues: 1, queueDepth: 2, sharedTags: false, recycle: 'on-drop' }, { keys });
  expect(await t.alloc(0, 1)).toHaveLength(1);
  const found = await env.redis.keys(`${keys.prefix}*`);
  expect(found.length).toBeGreaterThan(0);
  expect(found.every((k) => k.startsWith(keys.prefix))).toBe(true);
  await env.cleanup();
});
