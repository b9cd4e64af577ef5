// The RSS trend rule of the memory section, on made-up samples.
import { type MemoryPoint, rssTrends } from './memory-growth';

function points(rss: (i: number) => number): MemoryPoint[] {
  return Array.from({ length: 11 }, (_, i) => ({
    ios: i * 100_000,
    bytesWritten: i * 409_600_000,
    distinctBytesWritten: 0,
    pageStoreBytes: 0,
    pageStoreRedisBytes: 0,
    redisUsedMemory: 0,
    rss: { rnull: rss(i) },
  }));
}

const MiB = 1048576;

describe('rssTrends', () => {
  it('finds no trend in flat RSS with noise, even after a warm-up jump', () => {
    const noise = [0, 3, -2, 1, -3, 2, 0, -1, 2, -2, 1];
    const [t] = rssTrends(points((i) => (i === 0 ? 80 * MiB : 120 * MiB + noise[i] * MiB)));
    expect(t.service).toBe('rnull');
    expect(t.before).toBe(80 * MiB);
    expect(t.grows).toBe(false);
  });

  it('finds a steady leak', () => {
    const [t] = rssTrends(points((i) => 100 * MiB + i * 2 * MiB));
    expect(t.grows).toBe(true);
    expect(t.slopePer100k).toBeCloseTo(2 * MiB, 3);
    expect(t.after).toBe(120 * MiB);
  });

  it('ignores a significant but tiny slope (under 5 % of RSS over the run)', () => {
    const [t] = rssTrends(points((i) => 100 * MiB + i * 1024));
    expect(t.grows).toBe(false);
  });

  it('finds no trend in a one-off heap step in the first half that then stays flat (seen: dispatch 140 -> 200 MiB at 400k IOs)', () => {
    const rss = [120, 140, 140, 139, 201, 200, 194, 194, 194, 194, 194];
    const [t] = rssTrends(points((i) => rss[i] * MiB));
    expect(t.grows).toBe(false);
  });

  it('finds a leak that starts late (growth only in the second half)', () => {
    const [t] = rssTrends(points((i) => (i < 5 ? 100 * MiB : 100 * MiB + (i - 4) * 4 * MiB)));
    expect(t.grows).toBe(true);
  });
});
