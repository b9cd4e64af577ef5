import { cpuPerIo, cpuSecondsBetween, parseProcStatTicks, parseRedisCpuSeconds, parseSchedstatNs, roleOf } from './cpu-per-io';
import { parseFioJson } from './fio-job';

describe('parseProcStatTicks', () => {
  it('adds utime (field 14) and stime (field 15)', () => {
    const line = '8903 (cat) R 8901 8901 5589 0 -1 4194304 119 0 0 0 37 5 0 0 20 0 1 0 61329 3133440 379 18446744073709551615';
    expect(parseProcStatTicks(line)).toBe(42);
  });

  it('survives a command name with spaces and parentheses', () => {
    const line = '77 (node (x) y) S 1 77 77 0 -1 4194560 5 0 0 0 1200 300 0 0 20 0 11 0 100 1 1';
    expect(parseProcStatTicks(line)).toBe(1500);
  });

  it('throws on a line it cannot read', () => {
    expect(() => parseProcStatTicks('garbage')).toThrow(/bad \/proc stat/);
  });
});

describe('parseRedisCpuSeconds', () => {
  it('adds used_cpu_sys and used_cpu_user, not the children or main-thread lines', () => {
    const info =
      '# CPU\r\nused_cpu_sys:0.584983\r\nused_cpu_user:0.737435\r\nused_cpu_sys_children:9.000000\r\nused_cpu_sys_main_thread:0.58\r\n';
    expect(parseRedisCpuSeconds(info)).toBeCloseTo(1.322418, 6);
  });

  it('throws without the fields', () => {
    expect(() => parseRedisCpuSeconds('# CPU\r\n')).toThrow(/used_cpu_sys/);
  });
});

describe('cpuPerIo', () => {
  it('turns tick deltas into µs per IO, summed by role, the client left out of the total', () => {
    // 100 ticks/s: 250 ticks = 2.5 s of CPU.
    const before = new Map([
      ['dispatch', 10],
      ['rnull', 1],
      ['rnull.1', 2],
      ['redis', 5],
      ['client', 3],
    ]);
    const after = new Map([
      ['dispatch', 12.5],
      ['rnull', 1.5],
      ['rnull.1', 2.5],
      ['redis', 5.5],
      ['client', 4],
    ]);
    const r = cpuPerIo(before, after, 50_000);
    expect(r.byProcess.dispatch).toBeCloseTo(50, 9); // 2.5 s / 50,000 IOs = 50 µs
    expect(r.byProcess.rnull).toBeCloseTo(20, 9); // (0.5 + 0.5) s / 50,000
    expect(r.byProcess.redis).toBeCloseTo(10, 9);
    expect(r.byProcess.client).toBeCloseTo(20, 9);
    expect(r.totalUs).toBeCloseTo(80, 9);
    expect(r.seconds.rnull).toBeCloseTo(1, 9);
  });

  it('has no figure for a process missing from either snapshot and no total without IOs', () => {
    const r = cpuPerIo(
      new Map([
        ['gendisk', 1],
        ['completion', 1],
      ]),
      new Map([['gendisk', 2]]),
      1000,
    );
    expect(r.byProcess).toEqual({ gendisk: 1000 });
    expect(r.byProcess.completion).toBeUndefined();
    const none = cpuPerIo(new Map([['gendisk', 1]]), new Map([['gendisk', 2]]), 0);
    expect(none.totalUs).toBeUndefined();
    expect(none.byProcess).toEqual({});
  });

  it('never reports negative CPU (a restarted process)', () => {
    expect(cpuPerIo(new Map([['rnull', 5]]), new Map([['rnull', 1]]), 10).byProcess.rnull).toBe(0);
  });

  it('groups instance labels by service', () => {
    expect(roleOf('rnull.2')).toBe('rnull');
    expect(roleOf('nbd-gateway')).toBe('nbd-gateway');
  });
});

describe("fio's own CPU (the client of paths b and c)", () => {
  it('is (usr_cpu + sys_cpu) % of job_runtime', () => {
    const json = JSON.stringify({
      jobs: [
        {
          jobname: 'bench',
          error: 0,
          job_runtime: 2000,
          usr_cpu: 12.5,
          sys_cpu: 37.5,
          mixed: { total_ios: 100, io_bytes: 409600, iops: 50, bw_bytes: 204800, runtime: 2000 },
        },
      ],
    });
    expect(parseFioJson(json).clientCpuSeconds).toBeCloseTo(1, 9);
  });
});

describe('parseSchedstatNs', () => {
  it('reads the run time (the first field, ns)', () => {
    expect(parseSchedstatNs('2583436 1200 17\n')).toBe(2583436);
  });

  it('throws on a line it cannot read', () => {
    expect(() => parseSchedstatNs('')).toThrow(/bad schedstat/);
    expect(() => parseSchedstatNs('x 1 2')).toThrow(/bad schedstat/);
  });
});

describe('cpuSecondsBetween', () => {
  const slack = 0.04; // 4 ticks of 10 ms
  const reading = (tickSeconds: number, threads?: [number, number][]) => ({
    tickSeconds,
    threadNs: threads && new Map(threads),
  });

  it("takes the threads' run time when every thread lives on and the ticks agree", () => {
    // 3 ms of CPU: the ticks moved by 0 (both readings inside one 10 ms tick).
    const before = reading(1.0, [
      [10, 500_000_000],
      [11, 200_000_000],
    ]);
    const after = reading(1.0, [
      [10, 502_000_000],
      [11, 200_500_000],
      [12, 500_000], // a thread started in the window counts from 0
    ]);
    expect(cpuSecondsBetween(before, after, slack)).toBeCloseTo(0.003, 12);
  });

  it('falls back to the ticks when a thread of the first reading ended', () => {
    const before = reading(1.0, [
      [10, 1e9],
      [11, 1e8],
    ]);
    const after = reading(1.3, [[10, 1.1e9]]);
    expect(cpuSecondsBetween(before, after, slack)).toBeCloseTo(0.3, 12);
  });

  it('falls back to the ticks when they disagree beyond rounding (a thread born and ended in the window)', () => {
    // nbdkit: its connection threads ran 2 s and ended; the leader alone moved 1 ms.
    const before = reading(5.0, [[20, 1e9]]);
    const after = reading(7.0, [[20, 1.001e9]]);
    expect(cpuSecondsBetween(before, after, slack)).toBeCloseTo(2.0, 12);
  });

  it('uses the ticks when a reading has no threads, and never goes negative', () => {
    expect(cpuSecondsBetween(reading(1.0), reading(1.5, [[1, 5]]), slack)).toBeCloseTo(0.5, 12);
    expect(cpuSecondsBetween(reading(2.0), reading(1.0), slack)).toBe(0);
  });
});
