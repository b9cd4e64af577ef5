// Statistics of the report against values computed by hand / from published t tables.
import { histogramPercentile, linearFit, mean, meanInterval95, relativeDifference, stdDev, tQuantile975 } from './bench-stats';

describe('tQuantile975', () => {
  it.each([
    [1, 12.706],
    [4, 2.776],
    [9, 2.262],
    [29, 2.045],
    [30, 2.042],
    [60, 2.0],
    [120, 1.98],
  ])('df %d -> %d', (df, t) => {
    expect(tQuantile975(df)).toBeCloseTo(t, 3);
  });

  it('lies between its anchors beyond the table and tends to 1.96', () => {
    expect(tQuantile975(45)).toBeLessThan(2.021);
    expect(tQuantile975(45)).toBeGreaterThan(2.0);
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
    expect(tQuantile975(0)).toBeNaN();
  });
});

describe('meanInterval95', () => {
  it('matches a hand computation: 2, 4, 4, 4, 5, 5, 7, 9', () => {
    // mean 5, sum of squares 32, s = sqrt(32 / 7) = 2.13809, t(7) = 2.365, h = 2.365 * s / sqrt(8)
    const r = meanInterval95([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(r.mean).toBe(5);
    expect(r.stdDev).toBeCloseTo(2.13809, 5);
    expect(r.halfWidth).toBeCloseTo((2.365 * 2.13809) / Math.sqrt(8), 4);
    expect(r.low).toBeCloseTo(5 - r.halfWidth, 10);
    expect(r.high).toBeCloseTo(5 + r.halfWidth, 10);
  });

  it('relative differences: +1 %, -1 %, +3 % -> mean +1 %, CI +-4.97 %', () => {
    const r = meanInterval95([0.01, -0.01, 0.03]);
    expect(r.mean).toBeCloseTo(0.01, 12);
    expect(r.stdDev).toBeCloseTo(0.02, 12);
    expect(r.halfWidth).toBeCloseTo((4.303 * 0.02) / Math.sqrt(3), 6);
  });

  it('is undefined (NaN) below two samples, never zero-width', () => {
    expect(meanInterval95([1]).halfWidth).toBeNaN();
    expect(mean([])).toBeNaN();
    expect(stdDev([3])).toBeNaN();
  });

  it('relativeDifference is (a - b) / b', () => {
    expect(relativeDifference(103, 100)).toBeCloseTo(0.03, 12);
    expect(relativeDifference(1, 0)).toBeNaN();
  });
});

describe('linearFit', () => {
  it('recovers an exact line with a zero-width slope interval', () => {
    const f = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(1, 12);
    expect(f.slopeHalfWidth).toBeCloseTo(0, 12);
  });

  it('matches a hand computation with noise', () => {
    // x 1..5, y 2, 4, 5, 4, 5: slope 0.6, intercept 2.2, SSE 2.4, se = sqrt(2.4 / 3 / 10), t(3) = 3.182
    const f = linearFit([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
    expect(f.slope).toBeCloseTo(0.6, 12);
    expect(f.intercept).toBeCloseTo(2.2, 12);
    expect(f.slopeHalfWidth).toBeCloseTo(3.182 * Math.sqrt(0.08), 6);
  });
});

describe('histogramPercentile', () => {
  const buckets = [
    { le: 0.0001, count: 50 },
    { le: 0.001, count: 90 },
    { le: 0.01, count: 100 },
    { le: Infinity, count: 100 },
  ];

  it('interpolates inside the bucket like histogram_quantile', () => {
    expect(histogramPercentile(buckets, 50)).toBeCloseTo(0.0001, 12);
    expect(histogramPercentile(buckets, 25)).toBeCloseTo(0.00005, 12);
    expect(histogramPercentile(buckets, 70)).toBeCloseTo(0.0001 + 0.0009 * 0.5, 12);
    expect(histogramPercentile(buckets, 99)).toBeCloseTo(0.001 + 0.009 * 0.9, 12);
  });

  it('is Infinity in the +Inf bucket and NaN when empty', () => {
    expect(
      histogramPercentile(
        [
          { le: 1, count: 1 },
          { le: Infinity, count: 10 },
        ],
        99,
      ),
    ).toBe(Infinity);
    expect(histogramPercentile([{ le: 1, count: 0 }], 50)).toBeNaN();
  });
});
