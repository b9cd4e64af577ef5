// CPU per IO per process: the CPU time of each process and of Redis (INFO cpu used_cpu_sys +
// used_cpu_user, in seconds) before and after a measured window, divided by the IOs
// completed in that window.
//
// A process' CPU is read two ways: utime + stime of /proc/<pid>/stat, in clock ticks (10 ms
// here: a short window of a quiet process reads 0 or 1 tick), and the run time of each of its
// live threads (/proc/<pid>/task/<tid>/schedstat, in ns). The thread sum is the figure when
// it can be trusted (`cpuSecondsBetween`); it cannot see a thread that exited, so the tick
// figure stays the check and the fallback.
//
// Contract:
//   - The arithmetic (`parseProcStatTicks`, `parseSchedstatNs`, `parseRedisCpuSeconds`,
//     `cpuSecondsBetween`, `cpuPerIo`) is pure.
//   - A process that cannot be read (exited, not Linux) has no figure; it is never counted
//     as zero. The total is the sum of the server-side figures (every process but the
//     client); it is undefined when no server-side figure exists.
//   - Labels are grouped by service: `rnull.1` counts under `rnull`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** The process roles that appear as columns. `other` processes keep their own label. */
export const CPU_COLUMNS = [
  'redis',
  'redis-replica',
  'dispatch',
  'rnull',
  'completion',
  'gendisk',
  'nbd-gateway',
  'nbdkit',
  'inproc',
  'client',
] as const;

/** µs of CPU per IO of one window: per process role and the server-side sum. */
export interface CpuPerIo {
  /** Sum over every role except `client`, µs per IO. */
  readonly totalUs?: number;
  /** µs per IO by role (`redis`, `dispatch`, …, `client`). */
  readonly byProcess: Readonly<Record<string, number>>;
  /** CPU seconds of each role over the window (before dividing by IOs). */
  readonly seconds: Readonly<Record<string, number>>;
  readonly ios: number;
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line, in clock ticks. */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces and ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14 -> rest[11], stime field 15 -> rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`bad /proc stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** The run time of one thread: the first field of /proc/<pid>/task/<tid>/schedstat, in ns. */
export function parseSchedstatNs(schedstat: string): number {
  const ns = Number(schedstat.trim().split(/\s+/)[0]);
  if (!Number.isFinite(ns) || schedstat.trim() === '') throw new Error(`bad schedstat line: ${schedstat.slice(0, 80)}`);
  return ns;
}

/** One process' CPU at an instant, read both ways (see the head of this file). */
export interface ProcessCpuReading {
  /** utime + stime of the whole process, exited threads included, in seconds (tick resolution). */
  readonly tickSeconds: number;
  /** Run time in ns of each thread alive at the reading, by thread id; absent where unreadable. */
  readonly threadNs?: ReadonlyMap<number, number>;
}

/**
 * CPU seconds of one process between two readings. The sum of its threads' run times when
 * (a) every thread of `before` is still alive in `after` (an exited thread's time is gone from
 * the sum) and (b) that sum agrees with the tick figure within what tick rounding allows
 * (`tickSlackSeconds`: utime and stime are each truncated to a tick at both readings, so 4
 * ticks). Otherwise the tick figure: a thread created and ended inside the window (nbdkit's
 * per-connection threads) shows as a disagreement beyond the slack.
 */
export function cpuSecondsBetween(before: ProcessCpuReading, after: ProcessCpuReading, tickSlackSeconds: number): number {
  const ticks = Math.max(0, after.tickSeconds - before.tickSeconds);
  const b = before.threadNs;
  const a = after.threadNs;
  if (!b || !a) return ticks;
  for (const tid of b.keys()) if (!a.has(tid)) return ticks;
  let ns = 0;
  for (const [tid, n] of a) ns += Math.max(0, n - (b.get(tid) ?? 0));
  const precise = ns / 1e9;
  return Math.abs(precise - ticks) <= tickSlackSeconds ? precise : ticks;
}

/** used_cpu_sys + used_cpu_user of Redis INFO (section cpu), in seconds. */
export function parseRedisCpuSeconds(info: string): number {
  const sys = /^used_cpu_sys:([\d.]+)/m.exec(info);
  const user = /^used_cpu_user:([\d.]+)/m.exec(info);
  if (!sys || !user) throw new Error('INFO cpu has no used_cpu_sys / used_cpu_user');
  return Number(sys[1]) + Number(user[1]);
}

/** `rnull.1` -> `rnull`. */
export function roleOf(label: string): string {
  return label.replace(/\.\d+$/, '');
}

/** CPU seconds by label at one instant. */
export type CpuSnapshot = ReadonlyMap<string, number>;

/**
 * µs per IO from two snapshots: for each label present in both, (after - before) / ios,
 * summed by role. Roles named in `clientRoles` are left out of the total.
 */
export function cpuPerIo(before: CpuSnapshot, after: CpuSnapshot, ios: number, clientRoles: readonly string[] = ['client']): CpuPerIo {
  const seconds: Record<string, number> = {};
  for (const [label, b] of before) {
    const a = after.get(label);
    if (a === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    const role = roleOf(label);
    seconds[role] = (seconds[role] ?? 0) + Math.max(0, a - b);
  }
  const byProcess: Record<string, number> = {};
  let total: number | undefined;
  if (ios > 0) {
    for (const [role, s] of Object.entries(seconds)) {
      byProcess[role] = (s * 1e6) / ios;
      if (!clientRoles.includes(role)) total = (total ?? 0) + byProcess[role];
    }
  }
  return { totalUs: total, byProcess, seconds, ios };
}

let clkTck: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 when it cannot be asked). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clkTck = r.status === 0 && n > 0 ? n : 100;
  }
  return clkTck;
}

/** Tick rounding between two readings of one process (see `cpuSecondsBetween`). */
export function tickSlackSeconds(): number {
  return 4 / clockTicksPerSecond();
}

/** The run time of each live thread of `pid`, or undefined when /proc has no schedstat. */
function threadRunTimes(pid: number): Map<number, number> | undefined {
  const out = new Map<number, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        out.set(Number(tid), parseSchedstatNs(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')));
      } catch {
        // The thread ended between the listing and the read: it is missing, so
        // cpuSecondsBetween falls back to the ticks if it was in the earlier reading.
      }
    }
  } catch {
    return undefined;
  }
  return out.size ? out : undefined;
}

/** The CPU of `pid` read both ways, or undefined when it cannot be read. */
export function processCpuReading(pid: number | undefined): ProcessCpuReading | undefined {
  if (pid === undefined) return undefined;
  let tickSeconds: number;
  try {
    tickSeconds = parseProcStatTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
  return { tickSeconds, threadNs: threadRunTimes(pid) };
}

/** This process' CPU seconds (µs resolution, unlike /proc's ticks). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** What one snapshot reads: pids by label, Redis' CPU, and extra sources. */
export interface CpuSources {
  readonly pids?: ReadonlyMap<string, number | undefined>;
  /** Redis CPU seconds: one figure (label `redis`), or several by label. */
  readonly redis?: () => Promise<number | ReadonlyMap<string, number> | undefined>;
  /** Labels whose CPU seconds come from a function (e.g. `client` = this process). */
  readonly extra?: ReadonlyMap<string, () => number | undefined>;
}

/** One instant: CPU seconds by label (Redis, extra sources), and each pid's reading. */
interface Snapshot {
  readonly seconds: Map<string, number>;
  readonly processes: Map<string, ProcessCpuReading>;
}

async function snapshot(src: CpuSources): Promise<Snapshot> {
  const seconds = new Map<string, number>();
  const processes = new Map<string, ProcessCpuReading>();
  const redis = src.redis ? await src.redis().catch(() => undefined) : undefined;
  if (typeof redis === 'number') seconds.set('redis', redis);
  else for (const [label, s] of redis ?? []) seconds.set(label, s);
  for (const [label, pid] of src.pids ?? []) {
    const r = processCpuReading(pid);
    if (r !== undefined) processes.set(label, r);
  }
  for (const [label, f] of src.extra ?? []) {
    const s = f();
    if (s !== undefined) seconds.set(label, s);
  }
  return { seconds, processes };
}

/** Snapshots `src`, runs `fn`, snapshots again; `ios` picks the IO count from the result. */
export async function measureCpu<T>(
  src: CpuSources,
  fn: () => Promise<T>,
  ios: (r: T) => number,
  extraAfter?: (r: T) => Record<string, number | undefined>,
): Promise<{ result: T; cpu: CpuPerIo }> {
  const first = await snapshot(src);
  const result = await fn();
  const last = await snapshot(src);
  const before = first.seconds;
  const after = last.seconds;
  // A process' window is computed from its two readings: before = 0, after = its seconds.
  const slack = tickSlackSeconds();
  for (const [label, b] of first.processes) {
    const a = last.processes.get(label);
    if (a === undefined) continue;
    before.set(label, 0);
    after.set(label, cpuSecondsBetween(b, a, slack));
  }
  // Sources measured by the load itself (fio's own usr/sys CPU): before = 0, after = seconds.
  for (const [label, s] of Object.entries(extraAfter?.(result) ?? {})) {
    if (s === undefined) continue;
    before.set(label, 0);
    after.set(label, s);
  }
  return { result, cpu: cpuPerIo(before, after, ios(result)) };
}
