// A log-linear latency histogram (HdrHistogram's bucket layout): constant memory, O(1)
// record, percentiles with a bounded relative error. Values are nanoseconds.
//
// Invariants:
//   - Values below SUB_BUCKETS (128 ns) are kept exactly.
//   - A larger value v lands in a bucket [lo, lo + 2^g) with 2^g <= v / 128, so a reported
//     percentile is within 1/128 (< 0.8 %) of a recorded value, and never above `max`
//     or below `min`.
//   - `count` equals the number of `record` calls (plus merged counts); `min`/`max`/`sum`
//     are exact.

const SUB_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BITS;
/** Groups 0..46 cover every value up to 2^53 (Number.MAX_SAFE_INTEGER). */
const GROUPS = 54 - SUB_BITS;
const BUCKETS = SUB_BUCKETS * (GROUPS + 1);

export interface LatencySummary {
  readonly count: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly p999Ns: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private lowest = Infinity;
  private highest = 0;

  get count(): number {
    return this.total;
  }

  get min(): number {
    return this.total ? this.lowest : 0;
  }

  get max(): number {
    return this.highest;
  }

  get mean(): number {
    return this.total ? this.sum / this.total : 0;
  }

  /** Records one value in ns; negatives count as 0, fractions are floored. */
  record(ns: number | bigint): void {
    let v = typeof ns === 'bigint' ? Number(ns) : Math.floor(ns);
    if (!(v > 0)) v = 0;
    if (v > Number.MAX_SAFE_INTEGER) v = Number.MAX_SAFE_INTEGER;
    this.counts[bucketOf(v)]++;
    this.total++;
    this.sum += v;
    if (v < this.lowest) this.lowest = v;
    if (v > this.highest) this.highest = v;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.total) {
      this.lowest = Math.min(this.lowest, other.lowest);
      this.highest = Math.max(this.highest, other.highest);
    }
  }

  /**
   * The value at percentile `p` (0..100): the smallest bucket holding the ceil(p% · count)-th
   * value, reported as that bucket's upper bound clamped to [min, max]. 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Math.max(bucketHigh(i), this.lowest), this.highest);
    }
    return this.highest;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      minNs: this.min,
      maxNs: this.max,
      meanNs: this.mean,
      p50Ns: this.percentile(50),
      p90Ns: this.percentile(90),
      p99Ns: this.percentile(99),
      p999Ns: this.percentile(99.9),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.lowest = Infinity;
    this.highest = 0;
  }
}

/** Bucket index of a non-negative integer value. */
function bucketOf(v: number): number {
  if (v < SUB_BUCKETS) return v;
  const exponent = Math.floor(Math.log2(v));
  // log2 may round up just below a power of two; correct by one either way.
  const e = 2 ** exponent > v ? exponent - 1 : 2 ** (exponent + 1) <= v ? exponent + 1 : exponent;
  const shift = e - SUB_BITS;
  const sub = Math.floor(v / 2 ** shift) - SUB_BUCKETS;
  return SUB_BUCKETS + shift * SUB_BUCKETS + sub;
}

/** Largest value that maps to bucket `i`. */
function bucketHigh(i: number): number {
  if (i < SUB_BUCKETS) return i;
  const shift = Math.floor((i - SUB_BUCKETS) / SUB_BUCKETS);
  const sub = (i - SUB_BUCKETS) % SUB_BUCKETS;
  return (SUB_BUCKETS + sub) * 2 ** shift + 2 ** shift - 1;
}
