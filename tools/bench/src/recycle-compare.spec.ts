// The recycle comparison's statistics: paired relative differences, per configuration
// and pooled, with Student-t intervals.
import type { BenchConfig } from './bench-matrix';
import { summarizeRecycle } from './recycle-compare';

const c1: BenchConfig = { rw: 'randread', bs: 4096, qd: 1, irqmode: 1, memoryBacked: true };
const c2: BenchConfig = { ...c1, qd: 32 };

describe('summarizeRecycle', () => {
  it('pools every pair and keeps a mean per configuration', () => {
    const r = summarizeRecycle(
      [
        { config: c1, onDropIops: 102, inlineIops: 100 },
        { config: c1, onDropIops: 98, inlineIops: 100 },
        { config: c2, onDropIops: 1010, inlineIops: 1000 },
        { config: c2, onDropIops: 1030, inlineIops: 1000 },
      ],
      { samplesPerConfig: 2, sampleSeconds: 1.5, slices: 1, warmupSeconds: 0 },
    );
    // diffs 0.02, -0.02, 0.01, 0.03: mean 0.01, s = sqrt(0.0014 / 3), t(3) = 3.182
    expect(r.overall.n).toBe(4);
    expect(r.overall.mean).toBeCloseTo(0.01, 12);
    expect(r.overall.halfWidth).toBeCloseTo((3.182 * Math.sqrt(0.0014 / 3)) / 2, 6);
    expect(r.perConfig.map((p) => p.label)).toEqual(['randread 4k qd1 irq1 mb1', 'randread 4k qd32 irq1 mb1']);
    expect(r.perConfig[0].diff.mean).toBeCloseTo(0, 12);
    expect(r.perConfig[1].diff.mean).toBeCloseTo(0.02, 12);
    expect(r.perConfig[1].onDropIops).toBe(1020);
    expect(r.samplesPerConfig).toBe(2);
  });

  it('leaves out pairs whose inline run made no IO', () => {
    const r = summarizeRecycle(
      [
        { config: c1, onDropIops: 5, inlineIops: 0 },
        { config: c1, onDropIops: 1, inlineIops: 1 },
      ],
      { samplesPerConfig: 2, sampleSeconds: 1, slices: 1, warmupSeconds: 0 },
    );
    expect(r.overall.n).toBe(1);
  });
});
