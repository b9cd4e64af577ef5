// lib/fault-inject.c's fault_attr: the "<interval>,<probability>,<space>,<times>" string
// and should_fail()'s order of checks (probability, times, space, interval, the draw).
import { FaultAttr, faultAttrOf, formatFaultConfig, parseFaultConfig } from './fault-inject';

/** `n` calls of `shouldFail(size)`: which of them failed (0-based). */
function failures(attr: FaultAttr, n: number, size = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (attr.shouldFail(size)) out.push(i);
  return out;
}

const always = () => 0; // every draw is 0: any probability > 0 fails
const never = () => 0.999; // every draw is 99: only probability 100 fails

describe('parseFaultConfig (setup_fault_attr)', () => {
  it('reads the four numbers; the canonical text drops spaces', () => {
    expect(parseFaultConfig('1,100,0,-1')).toEqual({ interval: 1, probability: 100, space: 0, times: -1 });
    expect(parseFaultConfig(' 10 , 5 ,4096, 3 ')).toEqual({ interval: 10, probability: 5, space: 4096, times: 3 });
    expect(formatFaultConfig(parseFaultConfig(' 10 , 5 ,4096, 3 '))).toBe('10,5,4096,3');
  });

  it("takes '' (and blanks) as no fault_attr", () => {
    expect(parseFaultConfig('')).toBeUndefined();
    expect(parseFaultConfig('  ')).toBeUndefined();
    expect(formatFaultConfig(undefined)).toBe('');
    expect(faultAttrOf('')).toBeUndefined();
  });

  it.each([
    ['1,101,0,-1', /probability must be a percentage in 0\.\.100, got 101/],
    ['0,100,0,-1', /interval must be in 1\.\./],
    ['1,100,-1,-1', /space must be in 0\.\./],
    ['1,100,0,-2', /times must be -1 \(no limit\) or in 0\.\./],
    ['1,100,0', /four whole numbers/],
    ['1,100,0,-1,7', /four whole numbers/],
    ['1,x,0,-1', /four whole numbers/],
    ['1.5,100,0,-1', /four whole numbers/],
    ['1,100,0,-1junk', /four whole numbers/],
    ['1,100,0,99999999999', /times must be/],
  ])('refuses %j', (text, reason) => {
    expect(() => parseFaultConfig(text)).toThrow(RangeError);
    expect(() => parseFaultConfig(text)).toThrow(reason);
  });
});

describe('FaultAttr.shouldFail (should_fail_ex)', () => {
  it('never fails with probability 0, whatever the draw', () => {
    expect(failures(new FaultAttr({ interval: 1, probability: 0, space: 0, times: -1 }, always), 100)).toEqual([]);
  });

  it('interval N: only every N-th call is eligible', () => {
    expect(failures(new FaultAttr({ interval: 3, probability: 100, space: 0, times: -1 }, never), 10)).toEqual([2, 5, 8]);
    expect(failures(new FaultAttr({ interval: 1, probability: 100, space: 0, times: -1 }, never), 3)).toEqual([0, 1, 2]);
  });

  it('probability P: a call fails when the draw (0..99) is below P', () => {
    let draw = 0;
    const draws = [0.49, 0.5, 0.0, 0.99]; // 49, 50, 0, 99
    const attr = new FaultAttr({ interval: 1, probability: 50, space: 0, times: -1 }, () => draws[draw++]);
    expect(failures(attr, 4)).toEqual([0, 2]);
  });

  it('probability P fails about P percent of many calls (Math.random)', () => {
    const n = failures(new FaultAttr({ interval: 1, probability: 30, space: 0, times: -1 }), 20_000).length;
    expect(n).toBeGreaterThan(5_400);
    expect(n).toBeLessThan(6_600);
  });

  it('times: at most that many failures, then none; -1 is no limit', () => {
    const attr = new FaultAttr({ interval: 1, probability: 100, space: 0, times: 2 });
    expect(failures(attr, 10)).toEqual([0, 1]);
    expect(attr.timesLeft).toBe(0);
    expect(failures(new FaultAttr({ interval: 1, probability: 100, space: 0, times: 0 }), 5)).toEqual([]);
    expect(failures(new FaultAttr({ interval: 1, probability: 100, space: 0, times: -1 }), 50)).toHaveLength(50);
  });

  it('space: calls pass while the budget exceeds their size, each taking its size from it', () => {
    // 10000 bytes: 4096 (5904 left), 4096 (1808 left), then 1808 > 4096 is false: eligible.
    const attr = new FaultAttr({ interval: 1, probability: 100, space: 10_000, times: -1 });
    expect(failures(attr, 4, 4096)).toEqual([2, 3]);
    expect(attr.spaceLeft).toBe(1808);
  });

  it('space is taken before interval counts: passed calls do not advance the interval', () => {
    const attr = new FaultAttr({ interval: 2, probability: 100, space: 3, times: -1 });
    // Calls 0, 1 take 1 byte each (3 > 1, 2 > 1); from call 2 the interval counts: 2 (count 1), 3 (count 2: fails) …
    expect(failures(attr, 8, 1)).toEqual([3, 5, 7]);
  });

  it('a failure spends one of times only when it fails; interval and times combine', () => {
    const attr = new FaultAttr({ interval: 4, probability: 100, space: 0, times: 2 });
    expect(failures(attr, 20)).toEqual([3, 7]);
  });
});
