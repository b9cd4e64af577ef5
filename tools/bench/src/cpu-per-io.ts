// CPU per IO per process: utime + stime of each process (from /proc/<pid>/stat, in clock
// ticks) and of Redis (INFO cpu used_cpu_sys + used_cpu_user, in seconds) before and after
// a measured window, divided by the IOs completed in that window.
//
// Contract:
//   - The arithmetic (`parseProcStatTicks`, `parseRedisCpuSeconds`, `cpuPerIo`) is pure.
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

/** CPU seconds (utime + stime) of `pid`, or undefined when it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return parseProcStatTicks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
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

export async function snapshot(src: CpuSources): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const redis = src.redis ? await src.redis().catch(() => undefined) : undefined;
  if (typeof redis === 'number') out.set('redis', redis);
  else for (const [label, seconds] of redis ?? []) out.set(label, seconds);
  for (const [label, pid] of src.pids ?? []) {
    const s = processCpuSeconds(pid);
    if (s !== undefined) out.set(label, s);
  }
  for (const [label, f] of src.extra ?? []) {
    const s = f();
    if (s !== undefined) out.set(label, s);
  }
  return out;
}

/** Snapshots `src`, runs `fn`, snapshots again; `ios` picks the IO count from the result. */
export async function measureCpu<T>(
  src: CpuSources,
  fn: () => Promise<T>,
  ios: (r: T) => number,
  extraAfter?: (r: T) => Record<string, number | undefined>,
): Promise<{ result: T; cpu: CpuPerIo }> {
  const before = await snapshot(src);
  const result = await fn();
  const after = await snapshot(src);
  // Sources measured by the load itself (fio's own usr/sys CPU): before = 0, after = seconds.
  for (const [label, s] of Object.entries(extraAfter?.(result) ?? {})) {
    if (s === undefined) continue;
    before.set(label, 0);
    after.set(label, s);
  }
  return { result, cpu: cpuPerIo(before, after, ios(result)) };
}
