// The IO of one NBD connection as a blk.v1.BlockDevice/SubmitStream to dispatch: commands
// become tagged submissions, batched per event-loop turn; completions come back by tag.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { WIRE_OP_OF } from '#dispatch';
import { nbdErrnoOf, NbdErrno, type BlockCommand, type BlockResult, type BlockSession } from '#nbd';
import { type BlockDeviceClient, type CompletionBatch, Flag, Op, type Submission, type SubmitBatch } from '#proto/grpc/blk/v1/block_device';

/** Payload bytes per stream message: well under dispatch's 64 MiB message limit. */
const MESSAGE_PAYLOAD_BYTES = 8 * 1024 * 1024;

interface OpenStream {
  readonly call: ClientDuplexStream<SubmitBatch, CompletionBatch>;
  /** Tags sent on this stream and not completed: the ones its failure fails. */
  readonly tags: Set<bigint>;
}

/**
 * Invariants:
 *   - Every `done` is called exactly once: with the completion of its tag, or with EIO
 *     when the stream fails or ends before that completion came.
 *   - Tags are unique per stream (a counter); a failed stream is dropped and the next
 *     submission opens a new one.
 *   - `close()` ends the stream only after the last completion, so dispatch sees a clean
 *     end and no submission is cancelled half-way.
 */
export class StreamSession implements BlockSession {
  private stream?: OpenStream;
  private pending = new Map<bigint, (r: BlockResult) => void>();
  private queued: Submission[] = [];
  private flushScheduled = false;
  private nextTag = 1n;
  private idle?: () => void;

  constructor(
    private readonly client: BlockDeviceClient,
    private readonly disk: string,
  ) {}

  submit(cmd: BlockCommand, done: (r: BlockResult) => void): void {
    const tag = this.nextTag++;
    this.pending.set(tag, done);
    this.queued.push({
      tag,
      disk: this.disk,
      op: WIRE_OP_OF[cmd.op] as Op,
      sector: cmd.offset / 512n,
      length: cmd.length,
      data: cmd.data ?? Buffer.alloc(0),
      flags: cmd.fua ? Flag.FLAG_FUA : Flag.FLAG_NONE,
    });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  async close(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.stream?.call.end();
    this.stream = undefined;
  }

  private flush(): void {
    this.flushScheduled = false;
    const stream = this.open();
    let batch: Submission[] = [];
    let bytes = 0;
    for (const s of this.queued) {
      if (batch.length > 0 && bytes + s.data.length > MESSAGE_PAYLOAD_BYTES) {
        stream.call.write({ submissions: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(s);
      stream.tags.add(s.tag);
      bytes += s.data.length;
    }
    if (batch.length > 0) stream.call.write({ submissions: batch });
    this.queued = [];
  }

  private open(): OpenStream {
    if (this.stream) return this.stream;
    const stream: OpenStream = { call: this.client.submitStream(), tags: new Set() };
    this.stream = stream;
    stream.call.on('data', (batch: CompletionBatch) => {
      for (const c of batch.completions) {
        const done = this.pending.get(c.tag);
        if (!done || !stream.tags.delete(c.tag)) continue;
        this.pending.delete(c.tag);
        const data = c.data && c.data.length > 0 ? Buffer.from(c.data.buffer, c.data.byteOffset, c.data.length) : undefined;
        done({ errno: nbdErrnoOf(c.status), data, message: c.message || undefined });
      }
      this.checkIdle();
    });
    const fail = (why: string) => {
      if (this.stream === stream) this.stream = undefined;
      const failed = [...stream.tags];
      stream.tags.clear();
      for (const tag of failed) {
        const done = this.pending.get(tag);
        this.pending.delete(tag);
        done?.({ errno: NbdErrno.EIO, message: why });
      }
      this.checkIdle();
    };
    stream.call.on('error', (err: Error) => fail(`dispatch stream failed: ${err.message}`));
    stream.call.on('end', () => fail('dispatch ended the stream'));
    return stream;
  }

  private checkIdle(): void {
    if (this.pending.size > 0 || !this.idle) return;
    const idle = this.idle;
    this.idle = undefined;
    idle();
  }
}
