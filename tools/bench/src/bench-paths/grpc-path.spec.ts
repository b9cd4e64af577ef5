// How path a spreads its queue depth over dispatch instances and merges what they measured.
import { LatencyHistogram } from '../../../rnullctl/src/latency-histogram';
import type { LoadResult } from '../../../rnullctl/src/load-generator';
import { mergeLoads, splitDepth } from './grpc-path';

function load(ios: number, iops: number, latencyNs: number, elapsedNs: bigint, errors: Record<string, number> = {}): LoadResult {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < ios; i++) histogram.record(latencyNs);
  return {
    ios,
    reads: ios,
    writes: 0,
    bytes: ios * 4096,
    errors,
    errorMessages: Object.fromEntries(Object.keys(errors).map((k) => [k, `${k} happened`])),
    unknownTags: 0,
    messagesSent: ios,
    messagesReceived: ios,
    elapsedNs,
    iops,
    mibPerSec: (iops * 4096) / 1048576,
    latency: histogram.summary(),
    histogram,
  };
}

describe('splitDepth', () => {
  it('spreads the depth as evenly as it goes and never makes an empty stream', () => {
    expect(splitDepth(32, 1)).toEqual([32]);
    expect(splitDepth(32, 2)).toEqual([16, 16]);
    expect(splitDepth(32, 3)).toEqual([11, 11, 10]);
    expect(splitDepth(1, 2)).toEqual([1]);
    expect(splitDepth(3, 8)).toEqual([1, 1, 1]);
    for (const [qd, n] of [
      [7, 2],
      [128, 5],
    ])
      expect(splitDepth(qd, n).reduce((a, b) => a + b, 0)).toBe(qd);
  });
});

describe('mergeLoads', () => {
  it('adds counts and rates, keeps the longest elapsed time, and takes percentiles from the merged histogram', () => {
    const m = mergeLoads([load(300, 3000, 100_000, 1_000_000_000n), load(100, 1000, 900_000, 1_100_000_000n, { STATUS_IOERR: 2 })]);
    expect(m.ios).toBe(400);
    expect(m.iops).toBe(4000);
    expect(m.bytes).toBe(400 * 4096);
    expect(m.elapsedNs).toBe(1_100_000_000n);
    expect(m.errors).toEqual({ STATUS_IOERR: 2 });
    expect(m.errorMessages.STATUS_IOERR).toBe('STATUS_IOERR happened');
    expect(m.histogram.count).toBe(400);
    // 300 of 400 IOs took 100 µs: the median is theirs, p99 is the slow stream's.
    expect(m.latency.p50Ns).toBeLessThan(110_000);
    expect(m.latency.p99Ns).toBeGreaterThan(800_000);
  });

  it('returns a single load as it is', () => {
    const one = load(10, 10, 1000, 1n);
    expect(mergeLoads([one])).toBe(one);
  });
});
