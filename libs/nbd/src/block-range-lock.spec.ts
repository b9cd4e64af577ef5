import { BlockRangeLock } from './block-range-lock';

describe('BlockRangeLock', () => {
  it('overlapping ranges hold one after another in arrival order; disjoint ones at once', async () => {
    const lock = new BlockRangeLock();
    const order: string[] = [];
    const first = await lock.acquire(0n, 4096n);
    const second = lock.acquire(0n, 8192n).then((release) => (order.push('second'), release));
    const third = lock.acquire(4096n, 8192n).then((release) => (order.push('third'), release));
    const disjoint = await lock.acquire(8192n, 12288n);
    order.push('disjoint');
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['disjoint']);
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['disjoint', 'second', 'third']);
    disjoint();
    disjoint(); // idempotent
    expect(lock.size).toBe(0);
  });
});
