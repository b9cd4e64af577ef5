// Path (a): the full cluster through blk.v1.BlockDevice/SubmitStream, driven by the
// project's own closed-loop load generator (tools/rnullctl), on a disk of the bench cluster.
//
// Contract: one run of `seconds` on `disk`; batches of at most min(qd, 64) submissions per
// stream message; Redis commands per IO are INFO's total_commands_processed over the run
// divided by the IOs (the whole cluster's commands, including metrics and BullMQ polling).
import { runLoad, type LoadProgress } from '../../../rnullctl/src/load-generator';
import type { BenchCluster } from '../bench-cluster';
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

export async function runGrpc(bc: BenchCluster, c: BenchConfig, o: GrpcRunOptions): Promise<PathMeasurement> {
  const before = await bc.commandsProcessed();
  const { result: r, cpu } = await measureCpu(
    bc.cpuSources(true),
    () =>
      runLoad({
        client: bc.client.blockDevice,
        disk: o.disk,
        capacitySectors: o.capacitySectors,
        blockSize: c.bs,
        rw: c.rw,
        queueDepth: c.qd,
        batchSize: batchSizeFor(c.qd),
        durationMs: o.seconds === undefined ? undefined : Math.round(o.seconds * 1000),
        ios: o.ios,
        signal: o.signal,
        onProgress: o.onProgress,
        progressIntervalMs: 1000,
        random: o.random,
      }),
    (x) => x.ios,
  );
  const after = await bc.commandsProcessed();
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
    redisCommandsPerIo: r.ios > 0 ? (after - before) / r.ios : undefined,
    cpu,
  };
}
