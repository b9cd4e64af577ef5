// Prometheus text exposition as prom-client writes it: samples, sums and bucket deltas.
import { bucketDelta, bucketsOf, parseExposition, sumOf } from './metrics-scrape';

const TEXT = `# HELP rnull_timer_lateness_seconds PreciseTimer firing lateness, fired minus due
# TYPE rnull_timer_lateness_seconds histogram
rnull_timer_lateness_seconds_bucket{le="0.0001"} 7
rnull_timer_lateness_seconds_bucket{le="0.001"} 9
rnull_timer_lateness_seconds_bucket{le="+Inf"} 10
rnull_timer_lateness_seconds_sum 0.0123
rnull_timer_lateness_seconds_count 10
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 123456789
rnull_ios_completed_total{disk="a",hctx="0",op="read",status="ok"} 5
rnull_ios_completed_total{disk="b",hctx="0",op="read",status="ok"} 6
`;

describe('metrics-scrape', () => {
  const samples = parseExposition(TEXT);

  it('parses names, labels and values, skipping comments', () => {
    expect(samples).toHaveLength(8);
    expect(samples[2]).toEqual({ name: 'rnull_timer_lateness_seconds_bucket', labels: { le: '+Inf' }, value: 10 });
    expect(sumOf(samples, 'process_resident_memory_bytes')).toBe(123456789);
    expect(sumOf(samples, 'rnull_ios_completed_total')).toBe(11);
    expect(sumOf(samples, 'absent')).toBeUndefined();
  });

  it('reads histogram buckets and the difference of two scrapes', () => {
    const after = bucketsOf(samples, 'rnull_timer_lateness_seconds');
    expect(after).toEqual([
      { le: 0.0001, count: 7 },
      { le: 0.001, count: 9 },
      { le: Infinity, count: 10 },
    ]);
    const before = [
      { le: 0.0001, count: 2 },
      { le: 0.001, count: 3 },
      { le: Infinity, count: 3 },
    ];
    expect(bucketDelta(before, after).map((b) => b.count)).toEqual([5, 6, 7]);
  });
});
