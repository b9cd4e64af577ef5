// null_blk's bandwidth budget rule: mb_per_tick, the charge of a batch, the refill per tick.
import { chargeBudget, LocalBandwidthBudget, MAX_MBPS, mbPerTick, refilledBudget, TICK_MS, TICKS_PER_SEC } from './bandwidth-budget';

describe('mb_per_tick', () => {
  it('is (1 << 20) / 50 * mbps in integer arithmetic, every 20 ms', () => {
    expect(TICKS_PER_SEC).toBe(50);
    expect(TICK_MS).toBe(20);
    expect(mbPerTick(1)).toBe(20971);
    expect(mbPerTick(20)).toBe(419420);
    expect(mbPerTick(MAX_MBPS)).toBe(20971 * 40960);
  });
});

describe('chargeBudget', () => {
  it('admits requests in order while the budget stays at or above 0', () => {
    expect(chargeBudget(12288, [4096, 4096, 4096])).toEqual({ admitted: 3, budget: 0 });
  });

  it('refuses the request that drives it below 0 and every one after it', () => {
    expect(chargeBudget(10000, [4096, 4096, 4096, 512])).toEqual({ admitted: 2, budget: 10000 - 3 * 4096 });
  });

  it('refuses everything, even a FLUSH of 0 bytes, once the budget is negative', () => {
    expect(chargeBudget(-1, [0])).toEqual({ admitted: 0, budget: -1 });
    expect(chargeBudget(0, [0])).toEqual({ admitted: 1, budget: 0 });
  });
});

describe('refilledBudget', () => {
  it('is a full tick of budget at the next tick', () => {
    expect(refilledBudget(-5000, 7, 8, 20971)).toBe(20971);
    expect(refilledBudget(300, 7, 8, 20971)).toBe(20971);
  });
});

describe('LocalBandwidthBudget', () => {
  it('charges within a tick, refills at the next, and says how long until then', () => {
    let now = 1000 * TICK_MS + 5;
    const b = new LocalBandwidthBudget(() => now);
    const perTick = mbPerTick(1);
    expect(b.take(1, [perTick - 100])).toEqual({ admitted: 1, msToNextTick: 15 });
    expect(b.take(1, [100, 1])).toEqual({ admitted: 1, msToNextTick: 15 });
    now += 10;
    expect(b.take(1, [4096])).toEqual({ admitted: 0, msToNextTick: 5 });
    now += 5; // the next tick
    expect(b.take(1, [4096, 4096])).toEqual({ admitted: 2, msToNextTick: 20 });
  });

  it('over a second admits mb_per_tick * 50 bytes of 4 KiB requests, give or take one request per tick', () => {
    let now = 0;
    const b = new LocalBandwidthBudget(() => now);
    let bytes = 0;
    for (let i = 0; i < 20_000; i++, now = i / 20) bytes += b.take(20, [4096]).admitted * 4096;
    expect(bytes).toBeLessThanOrEqual(mbPerTick(20) * TICKS_PER_SEC);
    expect(bytes).toBeGreaterThan((mbPerTick(20) - 4096) * TICKS_PER_SEC);
  });
});
