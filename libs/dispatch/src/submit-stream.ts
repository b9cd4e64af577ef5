// One client's SubmitStream, like an io_uring instance: tagged submissions in (SQ),
// tagged completions out in batches (CQ), with backpressure both ways.
import type * as grpc from '@grpc/grpc-js';
import { BlkStatus } from '#blk-mq';
import { grpcStatusOf } from '#service-kit';
import type { BlockLayer } from './block-layer';
import type { ClientBudget } from './client-budget';
import type { WireSubmission } from './submission-check';

/** Read data per completion message; one completion carries at most 16 MiB (a submission's limit). */
export const COMPLETION_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Submissions of one stream in flight before it stops reading (its queue depth). */
export const STREAM_INFLIGHT_LIMIT = 1024;

/** A submission as proto-loader hands it over (64-bit fields as strings). */
export interface StreamSubmission extends WireSubmission {
  tag: string;
}

interface WireCompletion {
  tag: string;
  status: number;
  data?: Buffer;
  message?: string;
  latencyNsec?: string;
  /** A ZONE_APPEND that ended OK: where it landed. */
  sector?: string;
}

let streams = 0;

/**
 * Invariants:
 *   - Every submission read gets exactly one completion with its tag, unless the client
 *     goes away first.
 *   - At most `STREAM_INFLIGHT_LIMIT` submissions are in flight, however many one message
 *     holds: the rest of a message waits in `backlog` (submissions as read, which carry
 *     no read buffers) and is submitted as earlier ones end. Reading pauses while the
 *     backlog holds anything or the client does not take completions (write returned
 *     false), and the backlog is not drained while completions cannot be written, so
 *     what a stream holds stays bounded by one message plus the limit.
 *   - A tag is refused (IOERR) while another submission with the same tag is in flight.
 *   - With a `budget` (GRPC_MAX_INFLIGHT_PER_CLIENT, client-budget.ts), each submission in
 *     flight also holds one unit of its client's budget, shared with the client's other
 *     calls; without room the backlog waits (reading pauses) until the client's next end.
 */
export class SubmitStream {
  private readonly inFlight = new Set<string>();
  /** Submissions read but not yet submitted (the rest of a message past the limit), from `backlogHead` on. */
  private backlog: StreamSubmission[] = [];
  private backlogHead = 0;
  private out: WireCompletion[] = [];
  private flushScheduled = false;
  private readEnded = false;
  private closed = false;
  private writeBlocked = false;
  private readonly cpu = streams++;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** True while waiting in `budget` for room. */
  private waitingForRoom = false;
  private readonly onRoom = () => {
    this.waitingForRoom = false;
    if (this.closed) return;
    this.drainBacklog();
    this.updateFlow();
  };

  constructor(
    private readonly call: grpc.ServerDuplexStream<{ submissions: StreamSubmission[] }, { completions: WireCompletion[] }>,
    private readonly layer: BlockLayer,
    /** The client's budget, held until the stream closes; undefined: no per-client limit. */
    private readonly budget?: ClientBudget,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    call.on('data', (batch: { submissions?: StreamSubmission[] }) => this.onBatch(batch.submissions ?? []));
    call.on('end', () => {
      this.readEnded = true;
      this.maybeFinish();
    });
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('drain', () => {
      this.writeBlocked = false;
      this.drainBacklog();
      this.updateFlow();
    });
  }

  private onBatch(subs: StreamSubmission[]): void {
    this.backlog = this.backlogLeft() ? this.backlog.slice(this.backlogHead).concat(subs) : subs;
    this.backlogHead = 0;
    this.drainBacklog();
    this.updateFlow();
  }

  /** Submits from the backlog while under the in-flight limit and completions can be written. */
  private drainBacklog(): void {
    while (this.backlogLeft() && !this.closed && !this.writeBlocked && this.inFlight.size < STREAM_INFLIGHT_LIMIT) {
      if (this.budget && !this.budget.tryTake()) {
        if (!this.waitingForRoom) {
          this.waitingForRoom = true;
          this.budget.wait(this.onRoom);
        }
        break;
      }
      // A submission that did not go in flight (refused at once) gives its unit back.
      if (!this.onSubmission(this.backlog[this.backlogHead++])) this.budget?.give();
    }
    if (!this.backlogLeft()) {
      this.backlog = [];
      this.backlogHead = 0;
    }
  }

  /** Submissions still waiting in the backlog. */
  private backlogLeft(): number {
    return this.backlog.length - this.backlogHead;
  }

  /** Submits `s`; true when it went in flight (it will `settle`), false when refused at once. */
  private onSubmission(s: StreamSubmission): boolean {
    const tag = String(s.tag ?? '0');
    if (this.inFlight.has(tag)) {
      this.push({ tag, status: BlkStatus.IOERR, message: `tag ${tag}: already in flight on this stream` });
      return false;
    }
    let result;
    try {
      result = this.layer.submit(s, this.cpu);
    } catch (err) {
      const { message } = grpcStatusOf(err);
      this.push({ tag, status: BlkStatus.IOERR, message });
      return false;
    }
    this.inFlight.add(tag);
    void result.then(
      (r) =>
        this.settle({
          tag,
          status: r.status,
          data: r.data,
          message: r.message,
          latencyNsec: String(r.latencyNs),
          ...(r.sector !== undefined && { sector: String(r.sector) }),
        }),
      (err) => this.settle({ tag, status: BlkStatus.IOERR, message: grpcStatusOf(err).message }),
    );
    return true;
  }

  private settle(c: WireCompletion): void {
    this.inFlight.delete(c.tag);
    this.push(c);
    this.budget?.give();
    this.drainBacklog();
    this.updateFlow();
  }

  private push(c: WireCompletion): void {
    if (this.closed) return;
    this.out.push(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.out.length === 0) return this.maybeFinish();
    const out = this.out;
    this.out = [];
    // One message per COMPLETION_MESSAGE_BYTES of read data: gRPC refuses messages over
    // its limit (64 MiB here), and 128 reads of 1 MiB ending together would exceed it.
    let completions: WireCompletion[] = [];
    let bytes = 0;
    for (const c of out) {
      const n = c.data?.length ?? 0;
      if (completions.length > 0 && bytes + n > COMPLETION_MESSAGE_BYTES) {
        if (!this.call.write({ completions })) this.writeBlocked = true;
        completions = [];
        bytes = 0;
      }
      completions.push(c);
      bytes += n;
    }
    if (!this.call.write({ completions })) this.writeBlocked = true;
    this.maybeFinish();
  }

  private updateFlow(): void {
    if (this.closed) return;
    if (this.inFlight.size >= STREAM_INFLIGHT_LIMIT || this.writeBlocked || this.backlogLeft() > 0) this.call.pause();
    else this.call.resume();
  }

  private maybeFinish(): void {
    if (this.readEnded && this.inFlight.size === 0 && this.backlogLeft() === 0 && this.out.length === 0 && !this.closed) {
      this.closed = true;
      this.call.end();
      this.releaseBudget();
      this.resolveDone();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.releaseBudget();
    this.resolveDone();
  }

  /** The stream is done with its client's budget; what it has in flight still gives its units back as it ends. */
  private releaseBudget(): void {
    if (!this.budget) return;
    if (this.waitingForRoom) this.budget.cancel(this.onRoom);
    this.waitingForRoom = false;
    this.budget.release();
  }
}
