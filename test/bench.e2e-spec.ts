// `npm run bench` end to end: the real harness (dist/tools/bench) with a one-configuration
// matrix and short runs, its own cluster, nbdkit and fio. Asserts that every path that
// can run here reports positive IOPS in the JSON and CSV, and that a path it cannot run
// is reported as skipped without figures. Speed is never asserted.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const MAIN = path.join(ROOT, 'dist/tools/bench/src/main.js');

interface Row {
  path: string;
  status: string;
  reason?: string;
  m?: {
    iops: number;
    ios: number;
    redisBytesPerIo?: number;
    cpu?: { totalUs?: number; byProcess: Record<string, number> };
  };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench (tiny matrix)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-e2e-'));
  let result: { code: number | null; stdout: string; stderr: string };
  let rows: Row[];

  beforeAll(async () => {
    result = await run([
      '--rw',
      'randread',
      '--bs',
      '4k',
      '--qd',
      '8',
      '--irqmode',
      '1',
      '--memory-backed',
      '1',
      '--paths',
      'a,b,c,d',
      '--seconds',
      '1',
      '--size',
      '64',
      '--samples',
      '2',
      '--sample-seconds',
      '0.3',
      '--timer-nsec',
      '1000000',
      '--memory-ios',
      '2000',
      '--out',
      out,
    ]);
    if (result.code !== 0) throw new Error(`bench exited ${result.code}:\n${result.stderr.slice(-3000)}`);
    rows = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).rows;
  }, 110_000);

  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it.each(['a', 'c', 'd'])('path %s reports positive IOPS', (p) => {
    const row = rows.find((r) => r.path === p);
    expect(row?.status).toBe('ok');
    expect(row!.m!.iops).toBeGreaterThan(0);
    expect(row!.m!.ios).toBeGreaterThan(0);
  });

  it('reports CPU per IO of the services, Redis and the client on path a, and of nbdkit on path c', () => {
    const a = rows.find((r) => r.path === 'a')!.m!.cpu!;
    expect(Object.keys(a.byProcess)).toEqual(expect.arrayContaining(['redis', 'dispatch', 'rnull', 'completion', 'gendisk', 'client']));
    expect(a.totalUs).toBeGreaterThan(0);
    expect(rows.find((r) => r.path === 'c')!.m!.cpu!.byProcess).toHaveProperty('nbdkit');
  });

  it('path b is measured when the build has the NBD gateway, else skipped without figures', () => {
    const row = rows.find((r) => r.path === 'b')!;
    const hasGateway = fs.existsSync(path.join(ROOT, 'dist/services/nbd-gateway/src/main.js'));
    if (hasGateway) {
      expect(row.status).toBe('ok');
      expect(row.m!.iops).toBeGreaterThan(0);
    } else {
      expect(row.status).toBe('skipped');
      expect(row.reason).toBe('skipped: gateway not available');
      expect(row.m).toBeUndefined();
    }
  });

  it('writes the CSV, the chart and the text report, and prints the table and the aims', () => {
    const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0].startsWith('path,rw,bs,qd,irqmode,memory_backed,status,iops')).toBe(true);
    expect(csv[0]).toContain('redis_cmds_per_io,redis_bytes_per_io,');
    expect(csv[0]).toContain('cpu_us_per_io,cpu_redis_us_per_io,cpu_redis_replica_us_per_io,cpu_dispatch_us_per_io');
    for (const p of ['a', 'c', 'd']) {
      const line = csv.find((l) => l.startsWith(`${p},`))!.split(',');
      expect(Number(line[7])).toBeGreaterThan(0);
    }
    const svg = fs.readFileSync(path.join(out, 'iops.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg.match(/<title>/g)!.length).toBeGreaterThanOrEqual(3);
    expect(result.stdout).toContain('randread 4k qd8 irq1 mb1');
    expect(result.stdout).toContain('aims (issue 11, with the aims of issue 7 it keeps)');
    expect(result.stdout).toMatch(/cpu µs\/IO\s+redis\s+repl\s+dispatch\s+rnull\s+compl\s+gendisk/);
    expect(result.stdout).toContain('timer accuracy');
    expect(result.stdout).toContain('memory over');
    expect(result.stderr).toMatch(/\[\d+\/\d+ \d\d:\d\d\] a randread 4k qd8 irq1 mb1/);
  });

  it('reports the recycle comparison, timer lateness and memory sections from measurements', () => {
    const report = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(report.recycle.pairs).toHaveLength(2);
    for (const p of report.recycle.pairs) expect(p.onDropIops).toBeGreaterThan(0);
    // Each pair ran each mode in 4 slices (the default), after a warm-up run per disk.
    expect(report.recycle.slices).toBe(4);
    expect(report.recycle.warmupSeconds).toBe(0.3);
    expect(result.stdout).toContain('each mode in 4 runs alternating ABBA, after a warm-up run of 0.3 s per disk');
    expect(result.stderr).toMatch(/recycle randread 4k qd8 irq1 mb1 warm-up/);
    expect(report.timer[0].firings).toBeGreaterThan(0);
    expect(report.memory.ios).toBeGreaterThanOrEqual(2000);
    const last = report.memory.points[report.memory.points.length - 1];
    expect(last.pageStoreBytes).toBeGreaterThan(0);
    expect(last.pageStoreBytes).toBeLessThanOrEqual(last.bytesWritten);
    expect(Object.keys(last.rss).sort()).toEqual(expect.arrayContaining(['completion', 'dispatch', 'gendisk', 'rnull']));
  });
});

describe('npm run bench on several processes per service and a Redis Cluster', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-e2e-'));
  let result: { code: number | null; stdout: string; stderr: string };
  let report: { notes: string[]; rows: Row[] };

  beforeAll(async () => {
    result = await run([
      ...['--rw', 'randwrite', '--bs', '4k', '--qd', '8', '--irqmode', '1', '--memory-backed', '1'],
      ...['--paths', 'a,b', '--sections', 'matrix', '--seconds', '1', '--size', '64'],
      ...['--redis-cluster', '--dispatch', '2', '--placement', 'remote', '--rnull', '2', '--completion', '2'],
      ...['--out', out],
    ]);
    if (result.code !== 0) throw new Error(`bench exited ${result.code}:\n${result.stderr.slice(-3000)}`);
    report = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  }, 150_000);

  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('measures paths a and b through two dispatch instances and two workers of each kind', () => {
    expect(report.notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^processes: dispatch 2, rnull 2, completion 2 .*one per dispatch instance/)]),
    );
    for (const p of ['a', 'b']) {
      const row = report.rows.find((r) => r.path === p)!;
      expect(row.status).toBe('ok');
      expect(row.m!.iops).toBeGreaterThan(0);
      // Remote placement: the workers carried the IO, so each kind spent CPU on it.
      for (const role of ['dispatch', 'rnull', 'completion']) expect(row.m!.cpu!.byProcess[role]).toBeGreaterThan(0);
    }
  });

  it('counts the Redis Cluster: masters as redis, replicas as repl, and the write bytes at the masters', () => {
    expect(report.notes).toEqual(expect.arrayContaining([expect.stringContaining('redis cluster local: 3 masters, 3 replicas')]));
    const a = report.rows.find((r) => r.path === 'a')!.m!;
    expect(a.cpu!.byProcess.redis).toBeGreaterThan(0);
    expect(a.cpu!.byProcess['redis-replica']).toBeGreaterThan(0);
    // A 4 KiB write crosses to a master once and on to its replica once.
    expect(a.redisBytesPerIo).toBeGreaterThan(2 * 4096);
    expect(result.stdout).toMatch(/randwrite 4k qd8 irq1 mb1\s+a\s+\d+/);
  });
});
