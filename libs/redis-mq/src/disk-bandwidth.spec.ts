// DiskBandwidth on the real Redis: null_blk's charge rule on one budget per disk, shared by
// every client, refilled each tick of Redis's clock.
import { DiskBandwidth } from './disk-bandwidth';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('disk-bandwidth');
afterEach(() => env.cleanup());
afterAll(() => env.close());

/** 10000 bytes a tick whatever the mbps; an hour-long tick keeps a test inside one. */
const longTick = { perTick: () => 10_000, ms: 3_600_000 };

it('charges requests in order and refuses from the first that drives the budget below 0', async () => {
  const keys = env.keys();
  const bw = new DiskBandwidth(env.redis, keys, 'd0', longTick);
  expect((await bw.take(1, [4096, 4096])).admitted).toBe(2);
  const v = await bw.take(1, [1000, 4096, 1]);
  expect(v.admitted).toBe(1); // 10000 - 8192 - 1000 = 808 left; 4096 drives it below 0
  expect(v.msToNextTick).toBeGreaterThan(0);
  expect(v.msToNextTick).toBeLessThanOrEqual(3_600_000);
  // The refused request's bytes stay taken until the next tick: even 0 bytes is refused now.
  expect((await bw.take(1, [0])).admitted).toBe(0);
  expect(await env.redis.pttl(keys.bandwidthBudget('d0'))).toBeGreaterThan(0);
});

it('is one budget for every client of the disk, and one per disk', async () => {
  const keys = env.keys();
  const a = new DiskBandwidth(env.redis, keys, 'd0', longTick);
  const second = env.redis.duplicate();
  const b = new DiskBandwidth(second, keys, 'd0', longTick);
  const other = new DiskBandwidth(env.redis, keys, 'd1', longTick);
  const got = await Promise.all([a.take(1, [4000]), b.take(1, [4000]), a.take(1, [4000]), b.take(1, [4000])]);
  expect(got.map((v) => v.admitted).reduce((x, y) => x + y)).toBe(2);
  expect((await other.take(1, [10_000])).admitted).toBe(1);
  second.disconnect();
});

it('refills a full tick at the next tick, and says when that is', async () => {
  const keys = env.keys();
  const bw = new DiskBandwidth(env.redis, keys, 'd0', { perTick: (mbps) => mbps * 1000, ms: 20 });
  let v = await bw.take(4, [4000, 1]);
  while (v.admitted !== 1) v = await bw.take(4, [4000, 1]); // a tick began between the two charges
  expect(v.msToNextTick).toBeLessThanOrEqual(20);
  await new Promise((r) => setTimeout(r, v.msToNextTick + 1));
  expect((await bw.take(4, [4000])).admitted).toBe(1);
});

it('refuses malformed arguments with an error that names them, changing nothing', async () => {
  const keys = env.keys();
  const bw = new DiskBandwidth(env.redis, keys, 'd0', longTick);
  await expect(bw.take(1, [-1])).rejects.toThrow(/takeBandwidth: bad request size -1/);
  const zero = new DiskBandwidth(env.redis, keys, 'd0', { perTick: () => 0, ms: 20 });
  await expect(zero.take(1, [1])).rejects.toThrow(/takeBandwidth: bad perTick/);
});
