import { cpuPerIo, parseProcStatTicks, parseRedisCpuSeconds, roleOf } from './cpu-per-io';
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
