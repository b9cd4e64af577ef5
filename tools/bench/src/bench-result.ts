// What one path made of one configuration: the row of the benchmark table, shared by
// every path, the report writers and the chart.
import type { BenchConfig, PathId } from './bench-matrix';
import type { CpuPerIo } from './cpu-per-io';

export const PATH_NAMES: Readonly<Record<PathId, string>> = Object.freeze({
  a: 'cluster via gRPC stream (rnullctl load generator)',
  b: 'cluster via NBD gateway (fio nbd engine)',
  c: 'nbdkit memory/null plugin (fio nbd engine)',
  d: 'rnull on the in-process blk-mq engine',
});

export interface PathMeasurement {
  readonly ios: number;
  readonly seconds: number;
  readonly iops: number;
  readonly mibPerSec: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** IOs that did not end OK. */
  readonly errors: number;
  /** Redis commands the whole cluster ran per IO (paths a and b, from INFO stats). */
  readonly redisCommandsPerIo?: number;
  /** Redis network bytes in + out per IO at the masters (paths a and b, from INFO stats). */
  readonly redisBytesPerIo?: number;
  /** CPU the load client itself spent, as it reports it (fio's usr_cpu + sys_cpu x runtime). */
  readonly clientCpuSeconds?: number;
  /** CPU µs per IO of every process on the path, sampled around the run (cpu-per-io.ts). */
  readonly cpu?: CpuPerIo;
}

/**
 * One row. `status` 'ok' carries a measurement; 'skipped' and 'failed' carry only `reason`,
 * and never figures.
 */
export interface PathResult {
  readonly path: PathId;
  readonly config: BenchConfig;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason?: string;
  readonly m?: PathMeasurement;
  /** IOPS / IOPS of path c on the same rw, bs, qd and memory_backed. */
  ratioToNbdkit?: number;
}

export function okResult(path: PathId, config: BenchConfig, m: PathMeasurement): PathResult {
  return { path, config, status: 'ok', m };
}

export function skipped(path: PathId, config: BenchConfig, reason: string): PathResult {
  return { path, config, status: 'skipped', reason };
}

export function failed(path: PathId, config: BenchConfig, err: unknown): PathResult {
  return { path, config, status: 'failed', reason: err instanceof Error ? err.message : String(err) };
}

/** Sets `ratioToNbdkit` on every measured row that has a path-c row of the same peer key. */
export function attachRatios(rows: PathResult[], peerKeyOf: (c: BenchConfig) => string): void {
  const peer = new Map<string, number>();
  for (const r of rows) if (r.path === 'c' && r.m) peer.set(peerKeyOf(r.config), r.m.iops);
  for (const r of rows) {
    const base = peer.get(peerKeyOf(r.config));
    if (r.m && base) r.ratioToNbdkit = r.m.iops / base;
  }
}
