// BatchWorker against a real Redis: runs batches concurrently up to its limit, leaves the
// ack to its handler (or acks what the handler drops), and a batch taken by a worker that
// stopped without acking (a crash) is delivered to another worker after the lease.
import { LeasedQueue } from '#redis-mq';
import { RedisTestEnv } from '../../redis-mq/src/testing/redis-test-env';
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

const msg = (n: number) => Buffer.from([n]);

describe('BatchWorker', () => {
  it('runs up to `concurrency` batches at once; a handler acks its own lease', async () => {
    const keys = env.keys();
    const q = new LeasedQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const w = new BatchWorker(
      q,
      async (lease) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 20));
        seen.push(lease.body[0]);
        await q.ack([lease.member]);
        running--;
        return 'acked';
      },
      { concurrency: 3, leaseMs: 5000 },
    );
    for (let n = 0; n < 10; n++) await q.push(msg(n));
    expect(await until(() => seen.length === 10)).toBe(true);
    await w.close();
    expect(most).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 0 });
  });

  it('a batch whose handler failed, or whose worker died, is delivered again after the lease', async () => {
    const keys = env.keys();
    const q = new LeasedQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    const errors: unknown[] = [];
    const failing = new BatchWorker(q, async () => Promise.reject(new Error('worker died')), {
      concurrency: 1,
      leaseMs: 300,
      onError: (e) => errors.push(e),
    });
    await q.push(msg(7));
    expect(await until(() => errors.length === 1)).toBe(true);
    await failing.close();
    expect(await q.counts()).toMatchObject({ leased: 1 });
    const got: number[] = [];
    const healthy = new BatchWorker(q, async (lease) => (got.push(lease.body[0]), 'drop'), { concurrency: 1, leaseMs: 300 });
    expect(await until(() => got.length === 1, 5000)).toBe(true);
    await healthy.close();
    expect(got).toEqual([7]);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 0 });
  });

  it('acks what a handler drops (a message it can never run) instead of delivering it forever', async () => {
    const keys = env.keys();
    const q = new LeasedQueue(env.redis, 'q', keys.hctxQueue('d', 0));
    let calls = 0;
    const w = new BatchWorker(q, async () => (calls++, 'drop'), { concurrency: 1, leaseMs: 300 });
    await q.push(Buffer.from('not a batch'));
    expect(await until(() => calls === 1)).toBe(true);
    expect(await until(() => false, 700)).toBe(false);
    await w.close();
    expect(calls).toBe(1);
    expect(await q.counts()).toEqual({ waiting: 0, leased: 0 });
  });
});
