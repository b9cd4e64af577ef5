// One fio job over NBD (paths b and c): the command line built from a matrix
// configuration, the run, and the parse of fio's `--output-format=json` report.
//
// Contract:
//   - Both NBD paths run the same job: one job, `ioengine=nbd`, `iodepth=qd`, time based,
//   (or, for several NBD servers of one disk, one job per server with the depth spread
//   over them, `group_reporting` so the report holds one figure for all),
//   `unified_rw_reporting=mixed` (reads and writes in one figure, as the gRPC load generator
//   counts them) and `lat_percentiles=1` (submit-to-completion latency, as the load generator
//   measures it).
//   - `parseFioJson` accepts fio's stdout as it is, including the engine's
//   "fio: connected to NBD server" line before the JSON, and throws on a job error.
import type { BenchConfig } from './bench-matrix';
import type { PathMeasurement } from './bench-result';
import { requireTool, runTracked } from './external-tool';

/** One NBD server fio drives, and the depth it keeps in flight there. */
export interface FioTarget {
  readonly uri: string;
  readonly qd: number;
}

/**
 * fio's arguments for `c` against `target` (nbd://host:port/export, at `c.qd`), or against
 * several targets at once (one job each, at its own depth, reported as one group).
 */
export function fioArgs(c: BenchConfig, target: string | readonly FioTarget[], seconds: number, sizeMiB: number): string[] {
  const targets = typeof target === 'string' ? [{ uri: target, qd: c.qd }] : target;
  if (targets.length === 0) throw new RangeError('fio needs at least one target');
  const common = [
    '--ioengine=nbd',
    `--rw=${c.rw}`,
    `--bs=${c.bs}`,
    `--size=${sizeMiB}M`,
    '--time_based',
    `--runtime=${Math.max(1, Math.round(seconds))}`,
    '--unified_rw_reporting=mixed',
    '--lat_percentiles=1',
    '--percentile_list=50:99',
    '--randrepeat=0',
    '--output-format=json',
  ];
  // fio knows an engine's options (--uri) only once --ioengine has been given.
  if (targets.length === 1) return ['--name=bench', ...common, `--uri=${targets[0].uri}`, `--iodepth=${targets[0].qd}`];
  // Options before the first --name are global; each --name starts a job of its own.
  return [...common, '--group_reporting', ...targets.flatMap((t, i) => [`--name=bench${i}`, `--uri=${t.uri}`, `--iodepth=${t.qd}`])];
}

interface FioLat {
  N?: number;
  percentile?: Record<string, number>;
}

interface FioSide {
  total_ios?: number;
  io_bytes?: number;
  iops?: number;
  bw_bytes?: number;
  runtime?: number;
  lat_ns?: FioLat;
  clat_ns?: FioLat;
}

interface FioJob {
  jobname?: string;
  error?: number;
  job_runtime?: number;
  usr_cpu?: number;
  sys_cpu?: number;
  mixed?: FioSide;
  read?: FioSide;
  write?: FioSide;
}

/** The first JSON object in fio's stdout (its NBD engine prints a line before it). */
function extractJson(stdout: string): { jobs?: FioJob[] } {
  const at = stdout.search(/^\{/m);
  if (at < 0) throw new Error(`fio printed no JSON report: ${stdout.slice(0, 200)}`);
  return JSON.parse(stdout.slice(at)) as { jobs?: FioJob[] };
}

function percentile(lat: FioLat | undefined, p: string): number | undefined {
  const pct = lat?.percentile;
  if (!pct) return undefined;
  const key = Object.keys(pct).find((k) => Number(k) === Number(p));
  return key === undefined ? undefined : pct[key];
}

/** IOPS, MiB/s and p50/p99 latency of a fio JSON report (mixed, or read + write). */
export function parseFioJson(stdout: string): PathMeasurement {
  const report = extractJson(stdout);
  const job = report.jobs?.[0];
  if (!job) throw new Error('fio JSON report has no jobs');
  if (job.error) throw new Error(`fio job ${job.jobname ?? ''} failed with error ${job.error}`);
  const sides = job.mixed ? [job.mixed] : [job.read, job.write].filter((s): s is FioSide => !!s && (s.total_ios ?? 0) > 0);
  if (sides.length === 0) throw new Error('fio JSON report has no IO');
  const ios = sides.reduce((a, s) => a + (s.total_ios ?? 0), 0);
  const bytes = sides.reduce((a, s) => a + (s.io_bytes ?? 0), 0);
  const iops = sides.reduce((a, s) => a + (s.iops ?? 0), 0);
  const bwBytes = sides.reduce((a, s) => a + (s.bw_bytes ?? 0), 0);
  const runtimeMs = Math.max(...sides.map((s) => s.runtime ?? 0));
  // With one side (mixed, or pure read / write) the percentiles are exact; with two, the
  // larger side's are reported (fio without unified reporting keeps them apart).
  const main = sides.reduce((a, s) => ((s.total_ios ?? 0) > (a.total_ios ?? 0) ? s : a));
  const lat = main.lat_ns?.percentile ? main.lat_ns : main.clat_ns;
  return {
    ios,
    seconds: runtimeMs / 1000,
    iops,
    mibPerSec: (bwBytes || (runtimeMs > 0 ? (bytes * 1000) / runtimeMs : 0)) / 1048576,
    p50Ns: percentile(lat, '50') ?? NaN,
    p99Ns: percentile(lat, '99') ?? NaN,
    errors: 0,
    // usr_cpu / sys_cpu are % of the job's runtime (ms): fio's own CPU, the load client's.
    clientCpuSeconds:
      job.usr_cpu !== undefined && job.sys_cpu !== undefined && job.job_runtime !== undefined
        ? ((job.usr_cpu + job.sys_cpu) / 100) * (job.job_runtime / 1000)
        : undefined,
  };
}

/**
 * Runs fio with `args` (a JSON report); `onTick` gets the elapsed seconds once a second
 * (fio's own status output is off in JSON mode). Rejects with fio's stderr when fio fails.
 */
async function runFioReport(what: string, args: string[], onTick?: (elapsedSeconds: number) => void): Promise<PathMeasurement> {
  requireTool('fio');
  const started = Date.now();
  const ticker = onTick ? setInterval(() => onTick((Date.now() - started) / 1000), 1000) : undefined;
  try {
    const out = await runTracked('fio', args);
    if (out.code !== 0) throw new Error(`fio ${what}exited with code ${out.code}: ${(out.stderr || out.stdout).trim().slice(0, 500)}`);
    return parseFioJson(out.stdout);
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/** Runs the job of `c` against `uri` (or several targets) for `seconds` (`runFioReport`). */
export function runFio(
  c: BenchConfig,
  uri: string | readonly FioTarget[],
  seconds: number,
  sizeMiB: number,
  onTick?: (elapsedSeconds: number) => void,
): Promise<PathMeasurement> {
  return runFioReport('', fioArgs(c, uri, seconds, sizeMiB), onTick).then((m) => checkRuntime(m, seconds));
}

/**
 * `m` when its runtime is one fio could have had in a time-based run of `seconds`; throws
 * otherwise. fio 3.33's nbd engine once reported a runtime of 8.8e9 s (so ~0 IOPS) for a
 * run that took 5 s: a row must fail rather than carry that figure.
 */
export function checkRuntime(m: PathMeasurement, seconds: number): PathMeasurement {
  const most = Math.max(1, Math.round(seconds)) * 2 + 5;
  if (!(m.seconds > 0) || m.seconds > most)
    throw new Error(`fio reported a runtime of ${m.seconds} s for a ${seconds} s run (${m.ios} IOs): not a usable figure`);
  return m;
}

/** fio's arguments to write `sizeMiB` of `uri` once, start to end, in 1 MiB writes. */
export function fillArgs(uri: string, sizeMiB: number): string[] {
  return [
    '--name=fill',
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--rw=write',
    '--bs=1M',
    '--iodepth=8',
    `--size=${sizeMiB}M`,
    '--output-format=json',
  ];
}

/**
 * Writes the whole of `uri` once (`--precondition fill`): unmeasured, so that the measured
 * writes that follow overwrite stored pages. Rejects when fio wrote less than `sizeMiB`.
 */
export async function fillTarget(uri: string, sizeMiB: number, onTick?: (elapsedSeconds: number) => void): Promise<void> {
  const m = await runFioReport(`fill of ${uri} `, fillArgs(uri, sizeMiB), onTick);
  if (m.ios < sizeMiB) throw new Error(`fio fill of ${uri} wrote ${m.ios} MiB of ${sizeMiB}`);
}
