// The statistics of the benchmark report: means with Student-t 95 % confidence intervals,
// least-squares slopes with their interval, and percentiles of a cumulative histogram.
//
// Contract: pure functions of their inputs; NaN where a statistic is undefined (fewer than
// two samples for an interval, fewer than three points for a slope interval).

/** Two-sided 95 % quantiles of Student's t (t_{0.975, df}) for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Beyond the table: (df, t) anchors, interpolated linearly in 1/df; df = Infinity gives 1.96. */
const T975_TAIL: readonly [number, number][] = [
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [Infinity, 1.96],
];

/** t_{0.975, df}: the multiplier of the standard error for a two-sided 95 % interval. */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return NaN;
  if (df <= 30) return T975[Math.floor(df) - 1];
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d1, t1] = T975_TAIL[i];
    if (df <= d1) {
      const [d0, t0] = T975_TAIL[i - 1];
      const x = (1 / df - 1 / d0) / ((d1 === Infinity ? 0 : 1 / d1) - 1 / d0);
      return t0 + x * (t1 - t0);
    }
  }
  return 1.96;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n - 1 in the denominator). */
export function stdDev(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface MeanInterval {
  readonly n: number;
  readonly mean: number;
  readonly stdDev: number;
  /** Half-width of the 95 % interval: t_{0.975, n-1} * s / sqrt(n). */
  readonly halfWidth: number;
  readonly low: number;
  readonly high: number;
}

/** The mean of `xs` with its Student-t 95 % confidence interval. */
export function meanInterval95(xs: readonly number[]): MeanInterval {
  const n = xs.length;
  const m = mean(xs);
  const s = stdDev(xs);
  const h = n >= 2 ? (tQuantile975(n - 1) * s) / Math.sqrt(n) : NaN;
  return { n, mean: m, stdDev: s, halfWidth: h, low: m - h, high: m + h };
}

/** (a - b) / b: the relative difference of `a` against the baseline `b`. */
export function relativeDifference(a: number, b: number): number {
  return b === 0 ? NaN : (a - b) / b;
}

export interface LinearFit {
  readonly n: number;
  readonly slope: number;
  readonly intercept: number;
  /** Half-width of the slope's 95 % interval (t_{0.975, n-2} * standard error). */
  readonly slopeHalfWidth: number;
}

/** Ordinary least squares y = intercept + slope * x. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return { n, slope: NaN, intercept: NaN, slopeHalfWidth: NaN };
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - intercept - slope * xs[i]) ** 2;
  const se = n > 2 && sxx > 0 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  return { n, slope, intercept, slopeHalfWidth: n > 2 ? tQuantile975(n - 2) * se : NaN };
}

/** One bucket of a cumulative histogram (Prometheus `le` buckets): count of values <= le. */
export interface CumulativeBucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The p-th percentile (0..100) of a cumulative histogram, interpolated linearly inside the
 * bucket that holds it (Prometheus' histogram_quantile); the first bucket starts at 0.
 * Infinity when it falls in the +Inf bucket; NaN when the histogram is empty.
 */
export function histogramPercentile(buckets: readonly CumulativeBucket[], p: number): number {
  const sorted = [...buckets].sort((x, y) => x.le - y.le);
  const total = sorted.length ? sorted[sorted.length - 1].count : 0;
  if (!(total > 0)) return NaN;
  const rank = (p / 100) * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank && b.count > prevCount) {
      if (b.le === Infinity) return Infinity;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return sorted[sorted.length - 1].le;
}
