// The written outputs of a run: CSV rows, JSON (NaN as null), the SVG chart, the text
// report and the aims, from a fixed set of results.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { judgeAims } from './bench-aims';
import { renderChart } from './bench-chart';
import { type BenchConfig, FULL_DEFAULTS } from './bench-matrix';
import { type BenchReport, CSV_HEADER, renderText, toCsv, toJson, writeOutputs } from './bench-report';
import { attachRatios, okResult, type PathResult, skipped } from './bench-result';
import { peerKey } from './bench-matrix';
import { summarizeRecycle } from './recycle-compare';
import type { SizeRow, SizeScaling } from './size-scaling';

const aimConfig: BenchConfig = { rw: 'randread', bs: 4096, qd: 32, irqmode: 1, memoryBacked: true };
const qd1: BenchConfig = { ...aimConfig, qd: 1 };
const measured = (iops: number, p50Ns: number) => ({
  ios: iops * 2,
  seconds: 2,
  iops,
  mibPerSec: (iops * 4096) / 1048576,
  p50Ns,
  p99Ns: p50Ns * 4,
  errors: 0,
});

function fixtureRows(): PathResult[] {
  const rows: PathResult[] = [
    okResult('a', aimConfig, { ...measured(20_000, 1_500_000), redisCommandsPerIo: 4.5, redisBytesPerIo: 9000 }),
    skipped('b', aimConfig, 'skipped: gateway not available'),
    okResult('c', aimConfig, measured(100_000, 300_000)),
    okResult('d', aimConfig, measured(150_000, 200_000)),
    okResult('a', qd1, measured(1_500, 650_000)),
    okResult('c', qd1, measured(20_000, 50_000)),
  ];
  attachRatios(rows, peerKey);
  return rows;
}

function fixtureReport(): BenchReport {
  const rows = fixtureRows();
  const recycle = summarizeRecycle(
    [
      { config: aimConfig, onDropIops: 101, inlineIops: 100 },
      { config: aimConfig, onDropIops: 99, inlineIops: 100 },
      { config: aimConfig, onDropIops: 103, inlineIops: 100 },
    ],
    { samplesPerConfig: 3, sampleSeconds: 1, slices: 1, warmupSeconds: 0 },
  );
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    durationSeconds: 10,
    command: 'npm run bench -- --quick',
    machine: { cpus: 2, cpuModel: 'test cpu', node: 'v20', platform: 'linux', loadBefore: 1, loadAfter: 1 },
    options: { ...FULL_DEFAULTS, quick: true },
    notes: ['a note'],
    rows,
    recycle,
    timer: [
      {
        completionNsec: 1_000_000,
        firings: 10,
        p50Ns: 50_000,
        p90Ns: 90_000,
        p99Ns: 250_000,
        buckets: [],
        clientP50Ns: NaN,
        clientOverheadP50Ns: NaN,
      },
    ],
    aims: judgeAims({ rows, recycle }),
  };
}

describe('attachRatios', () => {
  it('divides by the nbdkit row of the same rw, bs, qd and memory_backed', () => {
    const rows = fixtureRows();
    expect(rows[0].ratioToNbdkit).toBeCloseTo(0.2, 12);
    expect(rows[1].ratioToNbdkit).toBeUndefined();
    expect(rows[3].ratioToNbdkit).toBeCloseTo(1.5, 12);
    expect(rows[4].ratioToNbdkit).toBeCloseTo(0.075, 12);
  });
});

describe('toCsv', () => {
  it('writes one row per result with figures only where measured', () => {
    const lines = toCsv(fixtureRows()).trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    expect(lines).toHaveLength(7);
    expect(lines[1]).toBe('a,randread,4096,32,1,1,ok,20000,78.13,1500.0,6000.0,0.200,4.50,9000,40000,2.000,0,' + ','.repeat(11));
    expect(lines[2]).toBe('b,randread,4096,32,1,1,skipped,,,,,,,,,,,' + ','.repeat(11) + 'skipped: gateway not available');
  });

  it('quotes cells with commas', () => {
    const row = skipped('b', aimConfig, 'no, really');
    expect(toCsv([row]).split('\n')[1].endsWith(',"no, really"')).toBe(true);
  });
});

describe('toJson', () => {
  it('is valid JSON with NaN as null and keeps every section', () => {
    const parsed = JSON.parse(toJson(fixtureReport()));
    expect(parsed.rows).toHaveLength(6);
    expect(parsed.rows[0].m.iops).toBe(20000);
    expect(parsed.timer[0].clientP50Ns).toBeNull();
    expect(parsed.recycle.overall.n).toBe(3);
    expect(parsed.options.quick).toBe(true);
  });
});

describe('renderChart', () => {
  it('draws one bar per measured row, a legend per measured path, and escapes text', () => {
    const svg = renderChart(fixtureRows(), 'IOPS <test> & more');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('IOPS &lt;test&gt; &amp; more');
    expect(svg.match(/<title>/g)).toHaveLength(5);
    expect(svg).toContain('randread 4k qd32 irq1 mb1 path a: 20000 IOPS');
    expect(svg).toContain('a: cluster, gRPC stream');
    expect(svg).not.toContain('b: cluster, NBD gateway');
  });
});

describe('judgeAims and renderText', () => {
  /** A row of `path` and the nbdkit row of the same configuration, ratios attached. */
  const againstNbdkit = (...pairs: [PathResult['path'], BenchConfig, number, number][]): PathResult[] => {
    const rows = pairs.flatMap(([p, c, iops, peer]) => [
      okResult(p, c, measured(iops, 500_000)),
      okResult('c', c, measured(peer, 300_000)),
    ]);
    attachRatios(rows, peerKey);
    return rows;
  };
  const verdictIn = (aims: readonly { aim: string; verdict: string }[], prefix: string) =>
    aims.find((a) => a.aim.startsWith(prefix))?.verdict;

  it('judges each aim from the figures, and says when one was not measured', () => {
    const aims = fixtureReport().aims;
    const verdict = (prefix: string) => verdictIn(aims, prefix);
    expect(verdict('path b (NBD): 4k randread qd32')).toBe('not measured');
    expect(verdict('path d (in-process engine)')).toBe('met');
    expect(verdict('qd1 p50 over NBD')).toBe('not measured');
    // +1 %, -1 %, +3 %: the mean is inside +-3 % but its 95 % interval over 3 pairs is not.
    expect(verdict('recycle on-drop vs inline')).toBe('not met');
    expect(verdict('timer lateness')).toBe('not measured');
    expect(verdict('no RSS growth')).toBe('not measured');
    expect(verdict('cost per byte flat')).toBe('not measured');
    expect(verdict('tag waits fair')).toBe('not measured');
  });

  it('judges the NBD ratio of reads and writes against 0.25 x nbdkit, and names the 0.5 x stretch', () => {
    const write: BenchConfig = { ...aimConfig, rw: 'randwrite' };
    const aims = judgeAims({
      rows: againstNbdkit(['b', aimConfig, 60_000, 100_000], ['b', write, 24_000, 100_000]),
    });
    const read = aims.find((a) => a.aim.startsWith('path b (NBD): 4k randread'))!;
    const wr = aims.find((a) => a.aim.startsWith('path b (NBD): 4k randwrite'))!;
    expect(read).toMatchObject({ verdict: 'met', figure: '0.600 x (60000 IOPS; stretch met)' });
    expect(wr).toMatchObject({ verdict: 'not met', figure: '0.240 x (24000 IOPS; stretch 0.5 x not met)' });
  });

  it('judges qd 1 p50 over NBD against the bound of the row irqmode', () => {
    const irq0: BenchConfig = { ...qd1, irqmode: 0 };
    // 600 µs passes at irqmode 1 (700) but not at irqmode 0 (500).
    const at = (c: BenchConfig, p50: number) => judgeAims({ rows: [okResult('b', c, measured(2_000, p50))] });
    expect(verdictIn(at(qd1, 600_000), 'qd1 p50 over NBD')).toBe('met');
    expect(verdictIn(at(irq0, 600_000), 'qd1 p50 over NBD')).toBe('not met');
    expect(verdictIn(at(irq0, 450_000), 'qd1 p50 over NBD')).toBe('met');
    const both = judgeAims({ rows: [okResult('b', qd1, measured(2_000, 650_000)), okResult('b', irq0, measured(2_000, 520_000))] });
    expect(both.find((a) => a.aim.startsWith('qd1 p50 over NBD'))).toMatchObject({
      verdict: 'not met',
      figure: 'worst p50 520 µs (randread irq0) over 2 row(s)',
    });
  });

  it('judges path d on its worst ratio to nbdkit', () => {
    const rows = againstNbdkit(['d', aimConfig, 150_000, 100_000], ['d', qd1, 15_000, 20_000]);
    expect(judgeAims({ rows }).find((a) => a.aim.startsWith('path d'))).toMatchObject({
      verdict: 'not met',
      figure: 'worst 0.750 x (randread 4k qd1) over 2 row(s)',
    });
  });

  it('judges the size rows: flat cost per byte by op and max_sectors, and the read beside the big write', () => {
    const MiB = 1024 * 1024;
    const row = (bytes: number, cpuNsPerByte: number, extra: Partial<SizeRow> = {}): SizeRow => ({
      op: 'write',
      bytes,
      submissions: 1,
      status: 'ok',
      cpuNsPerByte,
      ...extra,
    });
    const probe = (firstEndedBeforeWrite: boolean) => ({
      reads: 3,
      firstNs: 9_000_000,
      p50Ns: 8_000_000,
      maxNs: 20_000_000,
      firstEndedBeforeWrite,
    });
    const sizes = (rows: SizeRow[]): SizeScaling => ({ irqmode: 0, timeoutSeconds: 60, rows });
    const flat = judgeAims({ rows: [], sizes: sizes([row(MiB, 40), row(16 * MiB, 45, { probe: probe(true) }), row(256 * MiB, 70)]) });
    expect(flat.find((a) => a.aim.startsWith('cost per byte flat'))).toMatchObject({ verdict: 'met' });
    expect(flat.find((a) => a.aim.startsWith('tag waits fair'))).toMatchObject({
      verdict: 'met',
      figure: 'first read after 9000 µs at worst over 1 row(s)',
    });
    // The max_sectors=8 group is judged on its own: 1 -> 256 MiB at 2.5 x the CPU per byte.
    const grows = judgeAims({
      rows: [],
      sizes: sizes([
        row(MiB, 40),
        row(256 * MiB, 70),
        row(MiB, 40, { maxSectors: 8 }),
        row(256 * MiB, 100, { maxSectors: 8, probe: probe(false) }),
      ]),
    });
    expect(grows.find((a) => a.aim.startsWith('cost per byte flat'))).toMatchObject({
      verdict: 'not met',
      figure: 'worst 2.50 x (write max_sectors=8: 256 MiB write x1 max_sectors=8 / 1 MiB write x1 max_sectors=8)',
    });
    expect(verdictIn(grows, 'tag waits fair')).toBe('not met');
    const timedOut = judgeAims({
      rows: [],
      sizes: sizes([row(MiB, 40), row(256 * MiB, undefined as unknown as number, { status: 'timeout' })]),
    });
    expect(timedOut.find((a) => a.aim.startsWith('cost per byte flat'))).toMatchObject({
      verdict: 'not met',
      figure: '256 MiB write x1 max_sectors=default: timeout',
    });
  });

  it('judges recycle by its 95 % interval, not by the mean alone', () => {
    const pairs = (diffs: number[]) => diffs.map((d) => ({ config: aimConfig, onDropIops: 100 * (1 + d), inlineIops: 100 }));
    const tight = summarizeRecycle(pairs([0.01, 0.012, 0.008, 0.011, 0.009, 0.01]), {
      samplesPerConfig: 6,
      sampleSeconds: 1,
      slices: 1,
      warmupSeconds: 0,
    });
    const wide = summarizeRecycle(pairs([0.01, -0.04, 0.05, -0.03, 0.04, -0.02]), {
      samplesPerConfig: 6,
      sampleSeconds: 1,
      slices: 1,
      warmupSeconds: 0,
    });
    expect(verdictIn(judgeAims({ rows: [], recycle: tight }), 'recycle')).toBe('met');
    expect(Math.abs(wide.overall.mean)).toBeLessThan(0.03);
    expect(verdictIn(judgeAims({ rows: [], recycle: wide }), 'recycle')).toBe('not met');
  });

  it('renders the table, the recycle comparison and the aims', () => {
    const text = renderText(fixtureReport());
    expect(text).toContain('note: a note');
    expect(text).toMatch(/randread 4k qd32 irq1 mb1\s+a\s+20000\s+78\.1\s+1500\.0\s+6000\.0\s+0\.200\s+4\.5/);
    expect(text).toContain('skipped: gateway not available');
    expect(text).toContain('mean relative IOPS difference (on-drop - inline) / inline: +1.00%');
    expect(text).toContain('aims (issue 11, with the aims of issue 7 it keeps)');
    expect(text).toMatch(/not met\s+recycle on-drop vs inline/);
    // The fixture ran one run per mode and no warm-up: the title says neither.
    expect(text).toContain('recycle=on-drop vs recycle=inline (path a, 3 pairs x 1 s per configuration)\n');
  });

  it('names the slices and the warm-up of a recycle comparison that had them', () => {
    const pairs = fixtureReport().recycle!.pairs;
    const text = renderText({
      ...fixtureReport(),
      recycle: summarizeRecycle(pairs, { samplesPerConfig: 3, sampleSeconds: 2, slices: 4, warmupSeconds: 1 }),
    });
    expect(text).toContain(
      'recycle=on-drop vs recycle=inline (path a, 3 pairs x 2 s per configuration, each mode in 4 runs alternating ABBA, after a warm-up run of 1 s per disk)',
    );
  });
});

describe('CPU per IO columns', () => {
  const cpu = {
    totalUs: 70,
    byProcess: { redis: 12, dispatch: 30, rnull: 15, completion: 8, gendisk: 5, client: 40 },
    seconds: {},
    ios: 40_000,
  };
  const row = okResult('a', aimConfig, { ...measured(20_000, 1_500_000), cpu });

  it('prints the server-side sum, each service and the client in the table', () => {
    const text = renderText({ ...fixtureReport(), rows: [row], aims: judgeAims({ rows: [row] }) });
    expect(text).toMatch(/cpu µs\/IO\s+redis\s+repl\s+dispatch\s+rnull\s+compl\s+gendisk\s+gw\/peer\s+client/);
    expect(text).toMatch(/\s70\.0\s+12\.0\s+30\.0\s+15\.0\s+8\.0\s+5\.0\s+40\.0/);
  });

  it('writes them into the CSV by role', () => {
    const [head, line] = toCsv([row])
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    const cell = (name: string) => line[head.indexOf(name)];
    expect(cell('cpu_us_per_io')).toBe('70.00');
    expect(cell('cpu_redis_us_per_io')).toBe('12.00');
    expect(cell('cpu_nbd_gateway_us_per_io')).toBe('');
    expect(cell('cpu_client_us_per_io')).toBe('40.00');
  });

  it('judges the 60 µs and 15 µs aims on the qd 32 rows', () => {
    const aims = judgeAims({ rows: [row] });
    expect(aims.find((a) => a.aim.startsWith('CPU per IO at qd 32'))?.verdict).toBe('not met');
    expect(aims.find((a) => a.aim.startsWith('Redis CPU per IO'))?.verdict).toBe('met');
    expect(judgeAims({ rows: [] }).find((a) => a.aim.startsWith('CPU per IO'))?.verdict).toBe('not measured');
  });
});

describe('writeOutputs', () => {
  it('writes JSON, CSV, text and SVG into the directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
    try {
      const files = writeOutputs(dir, fixtureReport(), 'text\n');
      expect(files.map((f) => path.basename(f)).sort()).toEqual(['iops.svg', 'report.txt', 'results.csv', 'results.json']);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')).rows).toHaveLength(6);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
