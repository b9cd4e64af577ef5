import { LatencyHistogram } from './latency-histogram';

/** The exact percentile of a sorted sample, with the histogram's rank rule. */
function exactPercentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

describe('LatencyHistogram', () => {
  it('is all zeros when empty', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, minNs: 0, maxNs: 0, meanNs: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0 });
  });

  it('keeps values below 128 ns exactly', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.min).toBe(1);
    expect(h.max).toBe(100);
    expect(h.mean).toBe(50.5);
  });

  it('reports percentiles within 1/128 of the exact value over a wide range', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = Math.floor(500 + (x / 2 ** 31) ** 4 * 5e9); // 500 ns .. 5 s, heavy tail
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [1, 50, 90, 99, 99.9, 100]) {
      const exact = exactPercentile(values, p);
      const got = h.percentile(p);
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(1 / 128);
    }
    expect(h.count).toBe(20_000);
    expect(h.max).toBe(values[values.length - 1]);
    expect(h.min).toBe(values[0]);
  });

  it('never reports a percentile above max or below min', () => {
    const h = new LatencyHistogram();
    h.record(1_000_001);
    expect(h.percentile(0)).toBe(1_000_001);
    expect(h.percentile(50)).toBe(1_000_001);
    expect(h.percentile(100)).toBe(1_000_001);
  });

  it('accepts bigint nanoseconds, clamps negatives to 0 and survives values near 2^53', () => {
    const h = new LatencyHistogram();
    h.record(2_500n);
    h.record(-5);
    h.record(2 ** 53 + 10);
    expect(h.count).toBe(3);
    expect(h.min).toBe(0);
    expect(h.max).toBe(Number.MAX_SAFE_INTEGER);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(2_500);
    expect(h.percentile(50)).toBeLessThanOrEqual(2_500 * (1 + 1 / 128));
  });

  it('merges counts, extremes and sums', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    [10, 20, 30].forEach((v) => a.record(v));
    [40, 50].forEach((v) => b.record(v));
    a.merge(b);
    expect(a.count).toBe(5);
    expect(a.min).toBe(10);
    expect(a.max).toBe(50);
    expect(a.mean).toBe(30);
    expect(a.percentile(50)).toBe(30);
  });

  it('forgets everything on reset', () => {
    const h = new LatencyHistogram();
    h.record(1_000);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(99)).toBe(0);
  });
});
