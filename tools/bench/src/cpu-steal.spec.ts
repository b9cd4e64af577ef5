// CPU steal from /proc/stat: parsing the aggregate line and the share between two readings.
import { parseCpuTimes, stealShare } from './cpu-steal';

describe('cpu steal', () => {
  it('reads steal and the total from the aggregate cpu line, leaving out guest time', () => {
    const stat = 'cpu  100 5 50 800 10 1 4 30 20 0\ncpu0 50 2 25 400 5 0 2 15 10 0\nintr 1\n';
    expect(parseCpuTimes(stat)).toEqual({ steal: 30, total: 1000 });
    expect(parseCpuTimes('intr 1\n')).toBeUndefined();
    expect(parseCpuTimes('cpu  1 2 x 4 5 6 7 8\n')).toBeUndefined();
  });

  it('gives the share of the CPU time between two readings that was stolen', () => {
    expect(stealShare({ steal: 30, total: 1000 }, { steal: 130, total: 1400 })).toBeCloseTo(0.25, 12);
    expect(stealShare({ steal: 30, total: 1000 }, { steal: 30, total: 1000 })).toBeUndefined();
    expect(stealShare(undefined, { steal: 1, total: 2 })).toBeUndefined();
  });
});
