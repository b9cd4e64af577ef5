// The outputs of one benchmark run: the text report (stdout and report.txt), results.csv
// (one row per path and configuration), results.json (everything, with the machine and
// the options) and the chart iops.svg.
//
// Contract: a skipped or failed row has empty figure cells and its reason; no figure is
// ever made up. Latencies are µs in the CSV and text, ns in the JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderKeyValues, renderTable } from '../../rnullctl/src/text-format';
import type { Aim } from './bench-aims';
import { renderChart } from './bench-chart';
import { type BenchOptions, configLabel, formatSize } from './bench-matrix';
import { PATH_NAMES, type PathResult } from './bench-result';
import { CPU_COLUMNS } from './cpu-per-io';
import type { MemoryGrowth } from './memory-growth';
import type { RecycleComparison } from './recycle-compare';
import { sizeLabel, type SizeScaling } from './size-scaling';
import type { TimerAccuracy } from './timer-accuracy';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly fio?: string;
  readonly nbdkit?: string;
  /** 1-minute load average at the start and at the end of the run. */
  readonly loadBefore: number;
  loadAfter?: number;
}

export interface BenchReport {
  readonly generatedAt: string;
  readonly durationSeconds: number;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly notes: readonly string[];
  readonly rows: readonly PathResult[];
  readonly recycle?: RecycleComparison;
  readonly timer?: readonly TimerAccuracy[];
  readonly memory?: MemoryGrowth;
  readonly sizes?: SizeScaling;
  readonly aims: readonly Aim[];
}

const num = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits));
const usOf = (ns: number | undefined) => num(ns === undefined ? undefined : ns / 1000, 1);
const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : '-');
const mib = (b: number) => (b / 1048576).toFixed(1);

export const CSV_HEADER = [
  'path',
  'rw',
  'bs',
  'qd',
  'irqmode',
  'memory_backed',
  'status',
  'iops',
  'mib_s',
  'p50_us',
  'p99_us',
  'ratio_to_nbdkit',
  'redis_cmds_per_io',
  'redis_bytes_per_io',
  'ios',
  'seconds',
  'errors',
  // CPU µs per IO (cpu-per-io.ts): the server-side sum, then each process role.
  'cpu_us_per_io',
  ...CPU_COLUMNS.map((r) => `cpu_${r.replace('-', '_')}_us_per_io`),
  'reason',
];

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly PathResult[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    const c = r.config;
    const m = r.m;
    lines.push(
      [
        r.path,
        c.rw,
        String(c.bs),
        String(c.qd),
        String(c.irqmode),
        c.memoryBacked ? '1' : '0',
        r.status,
        num(m?.iops, 0),
        num(m?.mibPerSec, 2),
        usOf(m?.p50Ns),
        usOf(m?.p99Ns),
        num(r.ratioToNbdkit, 3),
        num(m?.redisCommandsPerIo, 2),
        num(m?.redisBytesPerIo, 0),
        m ? String(m.ios) : '',
        num(m?.seconds, 3),
        m ? String(m.errors) : '',
        num(m?.cpu?.totalUs, 2),
        ...CPU_COLUMNS.map((role) => num(m?.cpu?.byProcess[role], 2)),
        r.reason ?? '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** JSON with NaN / Infinity as null and bigints as numbers. */
export function toJson(report: BenchReport): string {
  return (
    JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) +
    '\n'
  );
}

/**
 * The CPU columns of the table: the server-side sum, Redis (masters; `repl` its replicas
 * on a Redis Cluster), the four services, the other server process of the row
 * (nbd-gateway for b in service mode, nbdkit for c, the whole process for d) and the load
 * client. µs of CPU per IO.
 */
export const CPU_TABLE_HEADER = ['cpu µs/IO', 'redis', 'repl', 'dispatch', 'rnull', 'compl', 'gendisk', 'gw/peer', 'client'];

export function cpuCells(m: PathResult['m']): string[] {
  const c = m?.cpu;
  const by = (role: string) => num(c?.byProcess[role], 1);
  const other = c?.byProcess['nbd-gateway'] ?? c?.byProcess.nbdkit ?? c?.byProcess.inproc;
  return [
    num(c?.totalUs, 1),
    by('redis'),
    by('redis-replica'),
    by('dispatch'),
    by('rnull'),
    by('completion'),
    by('gendisk'),
    num(other, 1),
    by('client'),
  ];
}

export function renderMatrixTable(rows: readonly PathResult[]): string {
  const body = rows.map((r) => {
    const m = r.m;
    return [
      configLabel(r.config),
      r.path,
      m ? num(m.iops, 0) : r.status,
      num(m?.mibPerSec, 1),
      usOf(m?.p50Ns),
      usOf(m?.p99Ns),
      num(r.ratioToNbdkit, 3),
      num(m?.redisCommandsPerIo, 1),
      ...cpuCells(m),
      r.m ? '' : (r.reason ?? ''),
    ];
  });
  return renderTable(
    ['config', 'path', 'IOPS', 'MiB/s', 'p50 µs', 'p99 µs', 'x nbdkit', 'redis cmd/IO', ...CPU_TABLE_HEADER, 'note'],
    body,
  );
}

export function renderText(report: BenchReport): string {
  const out: string[] = [];
  const mc = report.machine;
  out.push(
    `rnull-cluster benchmark  ${report.generatedAt}  (${report.durationSeconds.toFixed(0)} s${report.options.quick ? ', --quick' : ''})`,
  );
  out.push(
    `${mc.cpus} x ${mc.cpuModel}, node ${mc.node}, ${mc.fio ?? 'no fio'}, ${mc.nbdkit ?? 'no nbdkit'}, load ${mc.loadBefore.toFixed(2)} -> ${mc.loadAfter?.toFixed(2)}`,
  );
  for (const n of report.notes) out.push(`note: ${n}`);
  out.push('');
  out.push(
    'paths: ' +
      Object.entries(PATH_NAMES)
        .map(([k, v]) => `${k} = ${v}`)
        .join('; '),
  );
  if (report.rows.length) {
    out.push('', renderMatrixTable(report.rows).trimEnd());
    out.push(
      "cpu µs/IO: the run time of each process (its threads' /proc schedstat, checked against /proc/<pid>/stat), Redis by INFO cpu, over the run / IOs, every process of a " +
        'service summed (--dispatch, --rnull, --completion). The sum is server side ' +
        '(redis + repl + dispatch + rnull + completion + gendisk + gw/peer; redis = the masters, repl = the replicas of a ' +
        'Redis Cluster); client = the load generator (this process, path a) or fio ' +
        '(its own usr+sys, b and c); gw/peer = nbd-gateway (b, --nbd-mode service), nbdkit (c), the whole process (d).',
    );
  }
  const rc = report.recycle;
  if (rc) {
    const slicing = rc.slices > 1 ? `, each mode in ${rc.slices} runs alternating ABBA` : '';
    const warmup = rc.warmupSeconds > 0 ? `, after a warm-up run of ${rc.warmupSeconds} s per disk` : '';
    out.push(
      '',
      `recycle=on-drop vs recycle=inline (path a, ${rc.samplesPerConfig} pairs x ${rc.sampleSeconds} s per configuration${slicing}${warmup})`,
    );
    out.push(
      renderTable(
        ['config', 'on-drop IOPS', 'inline IOPS', 'diff', '95% CI'],
        rc.perConfig.map((p) => [
          p.label,
          num(p.onDropIops, 0),
          num(p.inlineIops, 0),
          pct(p.diff.mean),
          `[${pct(p.diff.low)}, ${pct(p.diff.high)}]`,
        ]),
      ).trimEnd(),
    );
    out.push(
      `mean relative IOPS difference (on-drop - inline) / inline: ${pct(rc.overall.mean)}, 95 % CI [${pct(rc.overall.low)}, ${pct(rc.overall.high)}], n = ${rc.overall.n}`,
    );
  }
  if (report.timer?.length) {
    out.push('', 'timer accuracy, irqmode=2 (lateness = end - due, from rnull_timer_lateness_seconds; client = gRPC qd1 p50)');
    out.push(
      renderTable(
        ['completion_nsec', 'firings', 'p50 µs', 'p90 µs', 'p99 µs', 'client p50 µs', 'client - delay µs'],
        report.timer.map((t) => [
          String(t.completionNsec),
          String(t.firings),
          usOf(t.p50Ns),
          usOf(t.p90Ns),
          usOf(t.p99Ns),
          usOf(t.clientP50Ns),
          usOf(t.clientOverheadP50Ns),
        ]),
      ).trimEnd(),
    );
  }
  const mem = report.memory;
  if (mem) {
    const first = mem.points[0];
    const last = mem.points[mem.points.length - 1];
    out.push('', `memory over ${mem.ios} IOs (${configLabel(mem.config)}, ${formatSize(mem.config.bs)} writes)`);
    out.push(
      renderKeyValues([
        ['bytes written', `${mib(last.bytesWritten)} MiB (distinct ${mib(last.distinctBytesWritten)} MiB)`],
        [
          'page store',
          `${mib(last.pageStoreBytes)} MiB of pages, ${mib(last.pageStoreRedisBytes)} MiB by MEMORY USAGE (${(last.pageStoreRedisBytes / Math.max(1, last.distinctBytesWritten)).toFixed(3)} x distinct bytes)`,
        ],
        ['redis used_memory', `${mib(first.redisUsedMemory)} -> ${mib(last.redisUsedMemory)} MiB`],
      ]).trimEnd(),
    );
    out.push(
      renderTable(
        ['service', 'RSS before MiB', 'RSS after MiB', 'slope KiB/100k IOs', '95% +-', 'trend'],
        mem.trends.map((t) => [
          t.service,
          mib(t.before),
          mib(t.after),
          num(t.slopePer100k / 1024, 1),
          num(t.slopeHalfWidthPer100k / 1024, 1),
          t.grows ? 'GROWS' : 'none',
        ]),
      ).trimEnd(),
    );
    // The series behind the trend (a one-off step and a steady climb look alike in before/after).
    out.push(
      `RSS MiB after each chunk of ${Math.round(mem.ios / Math.max(1, mem.points.length - 1))} IOs, each after a full GC in every service (the slope fits the second half):`,
    );
    for (const t of mem.trends) out.push(`  ${t.service.padEnd(12)} ${mem.points.map((p) => mib(p.rss[t.service])).join(' ')}`);
    if (first.heapUsed) {
      out.push('V8 heap used MiB, same points:');
      for (const t of mem.trends)
        out.push(`  ${t.service.padEnd(12)} ${mem.points.map((p) => mib(p.heapUsed?.[t.service] ?? NaN)).join(' ')}`);
    }
  }
  if (report.sizes) out.push('', renderSizes(report.sizes).trimEnd());
  if (report.aims.length) {
    out.push('', 'aims (issue 11, with the aims of issue 7 it keeps)');
    out.push(
      renderTable(
        ['verdict', 'aim', 'figure'],
        report.aims.map((a) => [a.verdict, a.aim, a.figure]),
      ).trimEnd(),
    );
  }
  return out.join('\n') + '\n';
}

export const SIZES_CSV_HEADER = [
  'max_sectors',
  'op',
  'mib',
  'submissions',
  'status',
  'seconds',
  'mib_s',
  'ns_per_byte',
  'cpu_ns_per_byte',
  'probe_reads',
  'probe_first_us',
  'probe_p50_us',
  'probe_max_us',
  'reason',
];

export function sizesCsv(sz: SizeScaling): string {
  const lines = [SIZES_CSV_HEADER.join(',')];
  for (const r of sz.rows) {
    lines.push(
      [
        r.maxSectors === undefined ? 'default' : String(r.maxSectors),
        r.op,
        String(r.bytes / 1048576),
        String(r.submissions),
        r.status,
        num(r.seconds, 4),
        num(r.mibPerSec, 1),
        num(r.nsPerByte, 2),
        num(r.cpuNsPerByte, 2),
        r.probe ? String(r.probe.reads) : '',
        usOf(r.probe?.firstNs),
        usOf(r.probe?.p50Ns),
        usOf(r.probe?.maxNs),
        r.reason ?? '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** The sizes section: seconds, MiB/s and ns per byte per row, and the read probe. */
export function renderSizes(sz: SizeScaling): string {
  const out: string[] = [];
  out.push(
    `IO size scaling (gRPC unary Submit, fresh 1024 MiB disk per row, memory_backed=1, irqmode ${sz.irqmode}; submissions of one row issued at once)`,
  );
  out.push(
    renderTable(
      ['row', 'status', 's', 'MiB/s', 'ns/byte', 'cpu ns/byte', 'note'],
      sz.rows.map((r) => [
        sizeLabel(r),
        r.status,
        num(r.seconds, 3),
        num(r.mibPerSec, 1),
        num(r.nsPerByte, 2),
        num(r.cpuNsPerByte, 2),
        r.reason ?? '',
      ]),
    ).trimEnd(),
  );
  out.push(
    'ns/byte = wall time / bytes; cpu ns/byte = CPU of the services and Redis over the row / bytes. Flat columns = cost linear in size.',
  );
  for (const r of sz.rows) {
    const p = r.probe;
    if (!p) continue;
    out.push(
      `4 KiB reads on another channel during ${sizeLabel(r)}: ${p.reads} read(s), first ${usOf(p.firstNs)} µs` +
        ` (${p.firstEndedBeforeWrite ? 'ended before the write' : 'ended after the write'}), p50 ${usOf(p.p50Ns)} µs, max ${usOf(p.maxNs)} µs`,
    );
  }
  return out.join('\n') + '\n';
}

/** Files written by one run, relative to --out. */
export const OUTPUT_FILES = ['results.json', 'results.csv', 'report.txt', 'iops.svg'] as const;

export function writeOutputs(dir: string, report: BenchReport, text: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const title = `rnull-cluster IOPS by path${report.options.quick ? ' (--quick)' : ''}, ${report.generatedAt.slice(0, 10)}`;
  const files: [string, string][] = [
    ['results.json', toJson(report)],
    ['results.csv', toCsv(report.rows)],
    ['report.txt', text],
    ['iops.svg', renderChart(report.rows, title)],
  ];
  if (report.sizes) files.push(['sizes.csv', sizesCsv(report.sizes)]);
  for (const [name, body] of files) fs.writeFileSync(path.join(dir, name), body);
  return files.map(([name]) => path.join(dir, name));
}
