// A closed-loop IO load over blk.v1.BlockDevice/SubmitStream (fio's io engine loop, with
// the stream as io_uring's SQ/CQ): keeps `queueDepth` IOs in flight, sends submissions in
// batches, measures each IO's latency client-side. Reused by `rnullctl load` and the
// benchmark harness; it imports no CLI code.
//
// Contract:
//   - At most `queueDepth` IOs are in flight; after each completion message the freed slots
//     are refilled at once, in stream messages of at most `batchSize` submissions and
//     `maxMessageBytes` of payload. A `false` from write() pauses issuing until 'drain'.
//   - Tags are bigints, unique among IOs in flight (a counter from 1n).
//   - The run stops issuing after `ios` IOs, after `durationMs`, or when `signal` aborts,
//     whichever comes first; IOs in flight are then awaited, so every issued IO is counted.
//   - Latency is submit-message-written to completion-message-received, by
//     process.hrtime.bigint(). Elapsed time ends at the last completion.
//   - A non-OK completion counts as an error by status name; it is not a failure of the run.
//     The run fails (rejects) only if the stream fails or ends while IOs are in flight.
import { randomBytes } from 'node:crypto';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { CompletionBatch, Op, Status, statusToJSON, Submission, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { LatencyHistogram } from './latency-histogram';
import { LoadProgress, LoadResult, LoadSpec } from './load-spec';

export * from './load-spec';

interface InFlight {
  readonly startNs: bigint;
  readonly bytes: number;
}

/** Runs one load to its end; see the file contract. A bad spec rejects with a RangeError. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new LoadRun(spec).run();
}

class LoadRun {
  private readonly histogram = new LatencyHistogram();
  private readonly inFlight = new Map<bigint, InFlight>();
  private readonly errors: Record<string, number> = {};
  private readonly errorMessages: Record<string, string> = {};
  private readonly random: () => number;
  private readonly payload: Buffer;
  private readonly blocks: number;
  private readonly sectorsPerIo: bigint;
  private readonly perMessage: number;
  private stream!: ClientDuplexStream<SubmitBatch, CompletionBatch>;
  private startNs = 0n;
  private lastCompletionNs = 0n;
  private nextTag = 1n;
  private cursor = 0;
  private issued = 0;
  private completed = 0;
  private reads = 0;
  private writes = 0;
  private bytes = 0;
  private unknownTags = 0;
  private sent = 0;
  private received = 0;
  private stopped = false;
  private waitingForDrain = false;
  private settled = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly onAbort = () => this.stopIssuing();
  private resolve!: (r: LoadResult) => void;
  private reject!: (e: unknown) => void;

  constructor(private readonly spec: LoadSpec) {
    if (!(spec.queueDepth >= 1) || !(spec.batchSize >= 1)) throw new RangeError('queueDepth and batchSize must be >= 1');
    if (!(spec.blockSize >= 512) || spec.blockSize % 512 !== 0) throw new RangeError('blockSize must be a multiple of 512');
    this.random = spec.random ?? Math.random;
    this.sectorsPerIo = BigInt(spec.blockSize / 512);
    this.blocks = Number(spec.capacitySectors / this.sectorsPerIo);
    if (this.blocks < 1) throw new RangeError(`disk ${spec.disk} is smaller than one ${spec.blockSize}-byte IO`);
    this.payload = spec.rw === 'randread' || spec.rw === 'read' ? Buffer.alloc(0) : randomBytes(spec.blockSize);
    const writesFit = Math.floor((spec.maxMessageBytes ?? 2 << 20) / spec.blockSize);
    this.perMessage = Math.max(1, Math.min(spec.batchSize, this.payload.length ? writesFit : spec.batchSize));
  }

  run(): Promise<LoadResult> {
    return new Promise<LoadResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.startNs = process.hrtime.bigint();
      this.lastCompletionNs = this.startNs;
      this.stream = this.spec.client.submitStream();
      this.stream.on('data', (batch: CompletionBatch) => this.onCompletions(batch));
      this.stream.on('error', (err) => this.fail(err));
      this.stream.on('end', () => {
        if (this.inFlight.size > 0 || !this.stopped)
          this.fail(new Error(`server ended the stream with ${this.inFlight.size} IOs in flight`));
      });
      if (this.spec.durationMs !== undefined) this.timers.push(setTimeout(() => this.stopIssuing(), this.spec.durationMs));
      if (this.spec.onProgress) this.startProgress(this.spec.onProgress, this.spec.progressIntervalMs ?? 1000);
      this.spec.signal?.addEventListener('abort', this.onAbort, { once: true });
      if (this.spec.signal?.aborted || this.spec.ios === 0) this.stopIssuing();
      else this.pump();
    });
  }

  private wantMore(): boolean {
    if (this.stopped) return false;
    if (this.spec.ios !== undefined && this.issued >= this.spec.ios) this.stopped = true;
    return !this.stopped;
  }

  /** Fills free queue slots, one stream message per `perMessage` submissions. */
  private pump(): void {
    while (!this.waitingForDrain && this.wantMore() && this.inFlight.size < this.spec.queueDepth) {
      const room = this.spec.queueDepth - this.inFlight.size;
      const left = this.spec.ios === undefined ? Infinity : this.spec.ios - this.issued;
      const n = Math.min(room, left, this.perMessage);
      const submissions: Submission[] = [];
      const startNs = process.hrtime.bigint();
      for (let i = 0; i < n; i++) submissions.push(this.nextSubmission(startNs));
      this.sent++;
      if (!this.stream.write({ submissions })) {
        this.waitingForDrain = true;
        this.stream.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
      }
    }
  }

  private nextSubmission(startNs: bigint): Submission {
    const { spec } = this;
    const rw = spec.rw;
    const isRead = rw === 'randread' || rw === 'read' || (rw === 'randrw' && this.random() * 100 < (spec.rwMixRead ?? 50));
    let block: number;
    if (rw === 'read' || rw === 'write') {
      block = this.cursor;
      this.cursor = (this.cursor + 1) % this.blocks;
    } else {
      block = Math.floor(this.random() * this.blocks);
    }
    const tag = this.nextTag++;
    this.inFlight.set(tag, { startNs, bytes: spec.blockSize });
    this.issued++;
    if (isRead) this.reads++;
    else this.writes++;
    return {
      tag,
      disk: spec.disk,
      op: isRead ? Op.OP_READ : Op.OP_WRITE,
      sector: BigInt(block) * this.sectorsPerIo,
      length: spec.blockSize,
      data: isRead ? Buffer.alloc(0) : this.payload,
      flags: 0,
    };
  }

  private onCompletions(batch: CompletionBatch): void {
    const now = process.hrtime.bigint();
    this.received++;
    for (const c of batch.completions) {
      const io = this.inFlight.get(c.tag);
      if (io === undefined) {
        this.unknownTags++;
        continue;
      }
      this.inFlight.delete(c.tag);
      this.completed++;
      this.histogram.record(Number(now - io.startNs));
      if (c.status === Status.STATUS_OK) {
        this.bytes += io.bytes;
        continue;
      }
      const name = statusToJSON(c.status);
      this.errors[name] = (this.errors[name] ?? 0) + 1;
      this.errorMessages[name] ??= c.message;
    }
    this.lastCompletionNs = now;
    this.pump();
    this.finishIfIdle();
  }

  private stopIssuing(): void {
    this.stopped = true;
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.settled || !this.stopped || this.inFlight.size > 0) return;
    this.settle();
    this.stream.end();
    this.resolve(this.result());
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settle();
    this.stream.cancel();
    this.reject(err);
  }

  private settle(): void {
    this.settled = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.spec.signal?.removeEventListener('abort', this.onAbort);
  }

  private startProgress(report: (p: LoadProgress) => void, everyMs: number): void {
    let prev = { ns: this.startNs, ios: 0, bytes: 0 };
    const tick = () => {
      const now = process.hrtime.bigint();
      report({
        elapsedNs: now - this.startNs,
        ios: this.completed,
        bytes: this.bytes,
        errors: Object.values(this.errors).reduce((a, b) => a + b, 0),
        inFlight: this.inFlight.size,
        intervalIos: this.completed - prev.ios,
        intervalBytes: this.bytes - prev.bytes,
        intervalNs: now - prev.ns,
      });
      prev = { ns: now, ios: this.completed, bytes: this.bytes };
    };
    this.timers.push(setInterval(tick, everyMs));
  }

  private result(): LoadResult {
    const elapsedNs = this.lastCompletionNs - this.startNs;
    const seconds = Number(elapsedNs) / 1e9;
    return {
      ios: this.completed,
      reads: this.reads,
      writes: this.writes,
      bytes: this.bytes,
      errors: { ...this.errors },
      errorMessages: { ...this.errorMessages },
      unknownTags: this.unknownTags,
      messagesSent: this.sent,
      messagesReceived: this.received,
      elapsedNs,
      iops: seconds > 0 ? this.completed / seconds : 0,
      mibPerSec: seconds > 0 ? this.bytes / 1048576 / seconds : 0,
      latency: this.histogram.summary(),
      histogram: this.histogram,
    };
  }
}
