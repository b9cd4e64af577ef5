// fio's JSON report as the nbd engine prints it (captured from fio 3.33 against nbdkit
// memory with the harness' own arguments), and the job the harness asks fio for.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkRuntime, fillArgs, fioArgs, parseFioJson } from './fio-job';

const captured = fs.readFileSync(path.join(__dirname, 'testing/fio-nbd-randrw.txt'), 'utf8');

describe('parseFioJson', () => {
  it('reads IOPS, bandwidth and latency percentiles from the mixed section', () => {
    expect(captured.startsWith('fio: connected to NBD server\n')).toBe(true);
    const m = parseFioJson(captured);
    expect(m.ios).toBe(94833);
    expect(m.iops).toBeCloseTo(94738.261738, 5);
    expect(m.mibPerSec).toBeCloseTo(388047920 / 1048576, 5);
    expect(m.seconds).toBeCloseTo(1.001, 6);
    // lat_ns (submit to completion), not clat_ns
    expect(m.p50Ns).toBe(62208);
    expect(m.p99Ns).toBe(301056);
    expect(m.errors).toBe(0);
  });

  it('adds read and write when fio reports them apart, and falls back to clat', () => {
    const side = (ios: number, iops: number, p50: number) => ({
      total_ios: ios,
      io_bytes: ios * 4096,
      iops,
      bw_bytes: iops * 4096,
      runtime: 2000,
      clat_ns: { percentile: { '50.000000': p50, '99.000000': p50 * 3 } },
    });
    const json = JSON.stringify({ jobs: [{ jobname: 'bench', error: 0, read: side(300, 150, 1000), write: side(100, 50, 2000) }] });
    const m = parseFioJson(json);
    expect(m.ios).toBe(400);
    expect(m.iops).toBe(200);
    expect(m.p50Ns).toBe(1000);
    expect(m.p99Ns).toBe(3000);
  });

  it('throws on a job error and on output without a report', () => {
    expect(() => parseFioJson(JSON.stringify({ jobs: [{ jobname: 'bench', error: 5 }] }))).toThrow(/failed with error 5/);
    expect(() => parseFioJson('fio: connected to NBD server\nfio: pid=1, err=5/file:io_u.c\n')).toThrow(/no JSON report/);
    expect(() => parseFioJson('{"jobs":[]}')).toThrow(/no jobs/);
  });
});

describe('fioArgs', () => {
  it('asks for one time-based nbd job with unified reporting and total-latency percentiles', () => {
    const args = fioArgs({ rw: 'randwrite', bs: 65536, qd: 32, irqmode: 1, memoryBacked: true }, 'nbd://127.0.0.1:10809/bench0', 3, 1024);
    expect(args).toEqual(
      expect.arrayContaining([
        '--ioengine=nbd',
        '--uri=nbd://127.0.0.1:10809/bench0',
        '--rw=randwrite',
        '--bs=65536',
        '--iodepth=32',
        '--size=1024M',
        '--time_based',
        '--runtime=3',
        '--unified_rw_reporting=mixed',
        '--lat_percentiles=1',
        '--output-format=json',
      ]),
    );
    // fio knows --uri only after --ioengine=nbd.
    expect(args.indexOf('--ioengine=nbd')).toBeLessThan(args.indexOf('--uri=nbd://127.0.0.1:10809/bench0'));
  });
});

describe('fioArgs over several NBD servers', () => {
  it('puts the common options first (global), then one job per server at its own depth, reported as one group', () => {
    const c = { rw: 'randread', bs: 4096, qd: 32, irqmode: 1, memoryBacked: true } as const;
    const args = fioArgs(
      c,
      [
        { uri: 'nbd://127.0.0.1:1/d', qd: 16 },
        { uri: 'nbd://127.0.0.1:2/d', qd: 16 },
      ],
      5,
      64,
    );
    const firstJob = args.indexOf('--name=bench0');
    expect(firstJob).toBeGreaterThan(0);
    for (const global of ['--ioengine=nbd', '--rw=randread', '--bs=4096', '--size=64M', '--group_reporting', '--output-format=json'])
      expect(args.indexOf(global)).toBeLessThan(firstJob);
    expect(args.slice(firstJob)).toEqual([
      '--name=bench0',
      '--uri=nbd://127.0.0.1:1/d',
      '--iodepth=16',
      '--name=bench1',
      '--uri=nbd://127.0.0.1:2/d',
      '--iodepth=16',
    ]);
    expect(() => fioArgs(c, [], 5, 64)).toThrow(RangeError);
  });
});

describe('fillArgs', () => {
  it('writes the whole target once, sequentially, in 1 MiB writes', () => {
    const args = fillArgs('nbd://127.0.0.1:10809/d0', 256);
    expect(args).toEqual(expect.arrayContaining(['--uri=nbd://127.0.0.1:10809/d0', '--rw=write', '--bs=1M', '--size=256M']));
    expect(args.some((a) => a.startsWith('--time_based'))).toBe(false);
  });
});

describe('checkRuntime', () => {
  it('passes a runtime a time-based run can have and refuses an impossible one', () => {
    const m = parseFioJson(captured);
    expect(checkRuntime(m, 1)).toBe(m);
    expect(() => checkRuntime({ ...m, seconds: 8800503720.725 }, 5)).toThrow(/runtime of 8800503720\.725 s for a 5 s run/);
    expect(() => checkRuntime({ ...m, seconds: 0 }, 5)).toThrow(/not a usable figure/);
  });
});
