// Path (a): the full cluster through blk.v1.BlockDevice/SubmitStream, driven by the
// project's own closed-loop load generator (tools/rnullctl), on a disk of the bench cluster.
//
// Contract: one run of `seconds` on `disk`; batches of at most min(qd, 64) submissions per
// stream message; Redis commands per IO are INFO's total_commands_processed over the run
// divided by the IOs (the whole cluster's commands, including metrics and BullMQ polling).
// With several dispatch instances the queue depth is spread over one stream per instance
// (`splitDepth`), run at once; IOs, IOPS and MiB/s add up and latency is the merged
// histogram's.
import { LatencyHistogram } from '../../../rnullctl/src/latency-histogram';
import { type LoadResult, runLoad, type LoadProgress } from '../../../rnullctl/src/load-generator';
import { type BenchCluster, trafficPerIo } from '../bench-cluster';
import type { BenchConfig } from '../bench-matrix';
import type { PathMeasurement } from '../bench-result';
import { measureCpu } from '../cpu-per-io';

export interface GrpcRunOptions {
  readonly disk: string;
  readonly capacitySectors: bigint;
  readonly seconds?: number;
  /** Stop after this many IOs instead of (or before) `seconds`. */
  readonly ios?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LoadProgress) => void;
  /** Offsets and mix source (default Math.random). */
  readonly random?: () => number;
}

/** Most submissions per stream message: every free slot, up to 64. */
export function batchSizeFor(qd: number): number {
  return Math.min(qd, 64);
}

/**
 * `qd` spread over `streams` streams as evenly as it goes (qd 32 over 3: 11, 11, 10); a
 * stream that would get no IO is left out, so qd 1 stays one stream.
 */
export function splitDepth(qd: number, streams: number): number[] {
  const n = Math.max(1, Math.min(qd, streams));
  return Array.from({ length: n }, (_, i) => Math.floor(qd / n) + (i < qd % n ? 1 : 0));
}

/** One result of loads run side by side: counts add up, latency from the merged histogram. */
export function mergeLoads(rs: readonly LoadResult[]): LoadResult {
  if (rs.length === 1) return rs[0];
  const histogram = new LatencyHistogram();
  for (const r of rs) histogram.merge(r.histogram);
  const sumOf = (f: (r: LoadResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const countsOf = (f: (r: LoadResult) => Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(f(r))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    ios: sumOf((r) => r.ios),
    reads: sumOf((r) => r.reads),
    writes: sumOf((r) => r.writes),
    bytes: sumOf((r) => r.bytes),
    errors: countsOf((r) => r.errors),
    errorMessages: Object.assign({}, ...rs.map((r) => r.errorMessages)),
    unknownTags: sumOf((r) => r.unknownTags),
    messagesSent: sumOf((r) => r.messagesSent),
    messagesReceived: sumOf((r) => r.messagesReceived),
    elapsedNs: rs.reduce((a, r) => (r.elapsedNs > a ? r.elapsedNs : a), 0n),
    iops: sumOf((r) => r.iops),
    mibPerSec: sumOf((r) => r.mibPerSec),
    latency: histogram.summary(),
    histogram,
  };
}

export async function runGrpc(bc: BenchCluster, c: BenchConfig, o: GrpcRunOptions): Promise<PathMeasurement> {
  const before = await bc.redisTraffic();
  const depths = splitDepth(c.qd, bc.clients.length);
  const { result: r, cpu } = await measureCpu(
    bc.cpuSources(true),
    async () =>
      mergeLoads(
        await Promise.all(
          depths.map((qd, i) =>
            runLoad({
              client: bc.clients[i].blockDevice,
              disk: o.disk,
              capacitySectors: o.capacitySectors,
              blockSize: c.bs,
              rw: c.rw,
              queueDepth: qd,
              batchSize: batchSizeFor(qd),
              durationMs: o.seconds === undefined ? undefined : Math.round(o.seconds * 1000),
              ios: o.ios === undefined ? undefined : Math.ceil((o.ios * qd) / c.qd),
              signal: o.signal,
              // One stream reports progress (the display shows a rate, not a sum).
              onProgress: i === 0 ? o.onProgress : undefined,
              progressIntervalMs: 1000,
              random: o.random,
            }),
          ),
        ),
      ),
    (x) => x.ios,
  );
  const after = await bc.redisTraffic();
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  if (errors > 0 && errors === r.ios) {
    const [status, message] = Object.entries(r.errorMessages)[0] ?? ['?', ''];
    throw new Error(`every IO failed (${status}: ${message})`);
  }
  return {
    ios: r.ios,
    seconds: Number(r.elapsedNs) / 1e9,
    iops: r.iops,
    mibPerSec: r.mibPerSec,
    p50Ns: r.latency.p50Ns,
    p99Ns: r.latency.p99Ns,
    errors,
    ...trafficPerIo(before, after, r.ios),
    cpu,
  };
}
