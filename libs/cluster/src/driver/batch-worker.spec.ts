// BatchWorker against a real Redis: runs batches concurrently up to its limit, acks only
// what its handler finished, and a batch taken by a worker that stopped without acking
// (a crash) is delivered to another worker after the lease.
import { BatchQueue } from '#redis-mq';
import { RedisTestEnv } from '../../../redis-mq/src/testing/redis-test-env';
import { BatchWorker } from './batch-worker';

const env = new RedisTestEnv('batch-worker');
afterEach(() => env.cleanup());
afterAll(() => env.close());

function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = () => (cond() ? resolve(true) : Date.now() > end ? resolve(false) : setTimeout(tick, 5));
    tick();
  });
}

describe('BatchWorker', () => {
  it('runs up to `concurrency` batches at once and acks each after its handler', async () => {
    const keys = env.keys();
    const q = new BatchQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const w = new BatchWorker<{ n: number }>(
      q,
      async ({ n }) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 20));
        seen.push(n);
        running--;
      },
      { concurrency: 3, leaseMs: 5000 },
    );
    for (let n = 0; n < 10; n++) await q.push(JSON.stringify({ n }));
    expect(await until(() => seen.length === 10)).toBe(true);
    await w.close();
    expect(most).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
  });

  it('a batch whose handler failed, or whose worker died, is delivered again after the lease', async () => {
    const keys = env.keys();
    const q = new BatchQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    const errors: unknown[] = [];
    const failing = new BatchWorker<{ n: number }>(q, async () => Promise.reject(new Error('worker died')), {
      concurrency: 1,
      leaseMs: 300,
      onError: (e) => errors.push(e),
    });
    await q.push(JSON.stringify({ n: 7 }));
    expect(await until(() => errors.length === 1)).toBe(true);
    await failing.close();
    expect(await q.getJobCounts()).toMatchObject({ active: 1 });
    const got: number[] = [];
    const healthy = new BatchWorker<{ n: number }>(q, async ({ n }) => void got.push(n), { concurrency: 1, leaseMs: 300 });
    expect(await until(() => got.length === 1, 5000)).toBe(true);
    await healthy.close();
    expect(got).toEqual([7]);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
  });

  it('acks a message that is not JSON instead of delivering it forever', async () => {
    const keys = env.keys();
    const q = new BatchQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    const errors: unknown[] = [];
    const w = new BatchWorker(q, async () => undefined, { concurrency: 1, leaseMs: 300, onError: (e) => errors.push(e) });
    await q.push('not json');
    expect(await until(() => errors.length === 1)).toBe(true);
    await w.close();
    expect(errors[0]).toBeInstanceOf(SyntaxError);
    expect(await q.getJobCounts()).toMatchObject({ waiting: 0, active: 0 });
  });
});
