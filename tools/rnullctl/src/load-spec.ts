// What a load run is asked to do and what it reports: the public types of the load
// generator (load-generator.ts), shared by `rnullctl load` and the benchmark harness.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { CompletionBatch, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import type { LatencyHistogram, LatencySummary } from './latency-histogram';

export const RW_MODES = ['randread', 'randwrite', 'randrw', 'read', 'write'] as const;
export type RwMode = (typeof RW_MODES)[number];

/** Anything that opens a SubmitStream: a BlockDeviceClient, or a test double. */
export interface SubmitStreamOpener {
  submitStream(): ClientDuplexStream<SubmitBatch, CompletionBatch>;
}

export interface LoadSpec {
  readonly client: SubmitStreamOpener;
  readonly disk: string;
  /** IOs land in [0, capacitySectors), aligned to `blockSize`. */
  readonly capacitySectors: bigint;
  /** Bytes per IO; a multiple of the disk's block size. */
  readonly blockSize: number;
  readonly rw: RwMode;
  /** Percent of reads for randrw (default 50). */
  readonly rwMixRead?: number;
  readonly queueDepth: number;
  /** Most submissions per stream message. */
  readonly batchSize: number;
  /** Stop issuing after this many IOs. */
  readonly ios?: number;
  /** Stop issuing after this many ms. */
  readonly durationMs?: number;
  /** Stop issuing when aborted (e.g. on SIGINT); the result covers every issued IO. */
  readonly signal?: AbortSignal;
  /** Payload cap per stream message (default 2 MiB, under gRPC's 4 MiB default). */
  readonly maxMessageBytes?: number;
  readonly progressIntervalMs?: number;
  readonly onProgress?: (p: LoadProgress) => void;
  /** Uniform [0, 1) source for offsets and the read/write mix (default Math.random). */
  readonly random?: () => number;
}

export interface LoadProgress {
  readonly elapsedNs: bigint;
  readonly ios: number;
  readonly bytes: number;
  readonly errors: number;
  readonly inFlight: number;
  /** IOs and bytes completed since the previous progress report, over `intervalNs`. */
  readonly intervalIos: number;
  readonly intervalBytes: number;
  readonly intervalNs: bigint;
}

export interface LoadResult {
  /** Completed IOs, OK or not. */
  readonly ios: number;
  readonly reads: number;
  readonly writes: number;
  /** Bytes moved by IOs that completed OK. */
  readonly bytes: number;
  /** Non-OK completions by status name, e.g. { STATUS_IOERR: 3 }. */
  readonly errors: Readonly<Record<string, number>>;
  /** The first server message seen for each error status. */
  readonly errorMessages: Readonly<Record<string, string>>;
  /** Completions whose tag was not in flight (a server bug if non-zero). */
  readonly unknownTags: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly elapsedNs: bigint;
  readonly iops: number;
  readonly mibPerSec: number;
  readonly latency: LatencySummary;
  readonly histogram: LatencyHistogram;
}
