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
  it('admits requests in order while the budget is not negative', () => {
    expect(chargeBudget(12288, [4096, 4096, 4096, 1])).toEqual({ admitted: 4, budget: -1 });
  });

  it('admits one request on credit, beyond the budget, and refuses every one after it', () => {
    expect(chargeBudget(10000, [4096, 4096, 4096, 512])).toEqual({ admitted: 3, budget: 10000 - 3 * 4096 });
    // Larger than a whole tick (mainline would never run it): admitted on a fresh budget.
    expect(chargeBudget(20971, [126976, 4096])).toEqual({ admitted: 1, budget: 20971 - 126976 });
  });

  it('refuses everything, even a FLUSH of 0 bytes, while the budget is negative', () => {
    expect(chargeBudget(-1, [0])).toEqual({ admitted: 0, budget: -1 });
    expect(chargeBudget(0, [0])).toEqual({ admitted: 1, budget: 0 });
  });
});

describe('refilledBudget', () => {
  it('is a full tick at the next tick when nothing is owed', () => {
    expect(refilledBudget(300, 7, 8, 20971)).toBe(20971);
    expect(refilledBudget(-5, 7, 9, 20971)).toBe(20971);
  });

  it('repays an overdraft one tick of budget per tick', () => {
    expect(refilledBudget(-5000, 7, 8, 20971)).toBe(15971);
    expect(refilledBudget(20971 - 126976, 7, 8, 20971)).toBe(2 * 20971 - 126976);
    expect(refilledBudget(20971 - 126976, 7, 12, 20971)).toBe(20971 * 6 - 126976);
  });
});

describe('LocalBandwidthBudget', () => {
  it('charges within a tick, refills at the next, and says how long until then', () => {
    let now = 1000 * TICK_MS + 5;
    const b = new LocalBandwidthBudget(() => now);
    const perTick = mbPerTick(1);
    expect(b.take(perTick, TICK_MS, [perTick - 100])).toEqual({ admitted: 1, msToNextTick: 15 });
    expect(b.take(perTick, TICK_MS, [100, 1, 1])).toEqual({ admitted: 2, msToNextTick: 15 }); // the 1 on credit
    now += 10;
    expect(b.take(perTick, TICK_MS, [4096])).toEqual({ admitted: 0, msToNextTick: 5 });
    now += 5; // the next tick: a full tick less the byte owed
    expect(b.take(perTick, TICK_MS, [perTick - 1, 1, 1])).toEqual({ admitted: 2, msToNextTick: 20 });
  });

  it('over a second admits mb_per_tick * 50 bytes, give or take one request, whatever the request size', () => {
    let now = 0;
    for (const size of [4096, 126976]) {
      const b = new LocalBandwidthBudget(() => now);
      let bytes = 0;
      for (let i = 0; i < 20_000; i++, now = i / 20) bytes += b.take(mbPerTick(20), TICK_MS, [size]).admitted * size;
      expect(bytes).toBeLessThanOrEqual(mbPerTick(20) * TICKS_PER_SEC + size);
      expect(bytes).toBeGreaterThan(mbPerTick(20) * TICKS_PER_SEC - size);
      now = 0;
    }
  });
});
