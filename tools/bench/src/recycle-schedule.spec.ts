// The recycle comparison's schedule: warm-up length, which slice counts are allowed, the
// ABBA order of a pair's runs and how a mode's runs make its IOPS.
import { pairSchedule, pooledIops, RECYCLE_SLICE_MIN_SECONDS, recycleSlicesProblem, recycleWarmupSeconds } from './recycle-schedule';

describe('recycleWarmupSeconds', () => {
  it('is 1 s, or one sample when samples are shorter', () => {
    expect(recycleWarmupSeconds(2)).toBe(1);
    expect(recycleWarmupSeconds(0.3)).toBe(0.3);
  });
});

describe('recycleSlicesProblem', () => {
  it('takes 1 or an even number of slices of at least the shortest slice', () => {
    expect(recycleSlicesProblem(1, 2)).toBeUndefined();
    expect(recycleSlicesProblem(4, 2)).toBeUndefined();
    expect(recycleSlicesProblem(4, 4 * RECYCLE_SLICE_MIN_SECONDS)).toBeUndefined();
  });

  it('refuses an odd count above 1, whose order ends on an unpaired A B', () => {
    expect(recycleSlicesProblem(3, 2)).toMatch(/3 runs per mode cannot alternate ABBA; give 1 or an even number/);
  });

  it('refuses slices shorter than the shortest slice, naming their length', () => {
    expect(recycleSlicesProblem(64, 0.1)).toMatch(/--recycle-slices 64 with --sample-seconds 0.1: slices of 0.002 s, shorter than 0.05 s/);
  });
});

describe('pairSchedule', () => {
  it('runs each mode once per pair with one slice, the first mode alternating between pairs', () => {
    expect(pairSchedule(0, 1)).toEqual(['on-drop', 'inline']);
    expect(pairSchedule(1, 1)).toEqual(['inline', 'on-drop']);
  });

  it('alternates ABBA over slices, so each mode runs once per slice and a linear drift weighs on both alike', () => {
    expect(pairSchedule(0, 2)).toEqual(['on-drop', 'inline', 'inline', 'on-drop']);
    const order = pairSchedule(1, 4);
    expect(order).toEqual(['inline', 'on-drop', 'on-drop', 'inline', 'inline', 'on-drop', 'on-drop', 'inline']);
    // The mean position in time of each mode's runs is the same.
    const meanAt = (mode: string) => order.reduce((a, m, i) => a + (m === mode ? i : 0), 0) / 4;
    expect(meanAt('on-drop')).toBe(meanAt('inline'));
  });
});

describe('pooledIops', () => {
  it('is the IOs over the seconds of all runs, not the mean of their rates', () => {
    expect(
      pooledIops([
        { ios: 1000, seconds: 0.5 },
        { ios: 3000, seconds: 1.5 },
      ]),
    ).toBe(2000);
    expect(
      pooledIops([
        { ios: 100, seconds: 1 },
        { ios: 300, seconds: 0.5 },
      ]),
    ).toBeCloseTo(400 / 1.5, 12);
  });

  it('is 0 without runs, which the summary leaves out as a pair without an inline run', () => {
    expect(pooledIops([])).toBe(0);
  });
});
