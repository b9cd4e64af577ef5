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
