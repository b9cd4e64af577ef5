// The transmission phase of one NBD connection: reads requests, checks them against the
// export, runs them on the block session many at a time, and answers each as it completes.
import { AnyAlignmentIo } from './any-alignment-io';
import { checkAligned, checkFlags, checkRange, checkWritable, type Refusal } from './command-check';
import type { BlockCommand, BlockResult, BlockSession } from './nbd-backend';
import type { NbdExport } from './nbd-export';
import { NBD_REQUEST_MAGIC, NbdCmd, NbdCmdFlag, NbdErrno, REQUEST_HEADER_BYTES, TransmissionFlag } from './nbd-protocol';
import type { ReplyWriter } from './reply-writer';
import type { SocketReader } from './socket-reader';

/** How much one connection may hold at once; together they bound the gateway's memory. */
export interface TransmissionLimits {
  /** Commands submitted and not yet answered (default 128). */
  readonly maxInFlight: number;
  /** Payload bytes of those commands, reads and writes (default 64 MiB). */
  readonly maxInFlightBytes: number;
  /** Reply bytes queued on a socket the client does not read (default 4 MiB). */
  readonly replyHighWaterBytes: number;
}

export const DEFAULT_LIMITS: TransmissionLimits = Object.freeze({
  maxInFlight: 128,
  maxInFlightBytes: 64 * 1024 * 1024,
  replyHighWaterBytes: 4 * 1024 * 1024,
});

/** How a transmission phase ended. */
export type TransmissionEnd = 'disconnect' | 'client-vanished' | 'bad-magic' | 'stopped';

/** Called once per answered command (metrics and logs). */
export type CommandObserver = (type: number, errno: number, message: string | undefined) => void;

/** One parsed request header. `cookie` is a copy: it outlives the socket chunk. */
interface Header {
  readonly flags: number;
  readonly type: number;
  readonly cookie: Buffer;
  readonly offset: bigint;
  readonly length: number;
}

/** A shared all-zero payload for WRITE_ZEROES with NO_HOLE (never written to). */
let zeroBuffer: Buffer | undefined;

/**
 * Invariants:
 *   - Every request read gets exactly one reply, unless the socket is gone first.
 *   - A new request header is read only while `inFlight < maxInFlight`, the in-flight
 *     payload is under `maxInFlightBytes` (or nothing is in flight) and the socket's
 *     unsent replies are under `replyHighWaterBytes`: a client that stops reading replies
 *     stops being read, so the gateway's buffers stay bounded.
 *   - `run()` resolves only after every submitted command is done (no tag stays taken).
 */
export class Transmission {
  private inFlight = 0;
  private inFlightBytes = 0;
  private stopping = false;
  private drainArmed = false;
  private betweenRequests = false;
  private wake?: () => void;
  /** The IO of a client that did not agree block sizes (none when it did). */
  private readonly anyAlignment?: AnyAlignmentIo;

  constructor(
    private readonly exp: NbdExport,
    private readonly reader: SocketReader,
    private readonly replies: ReplyWriter,
    private readonly session: BlockSession,
    private readonly opts: {
      readonly blockSizeAgreed: boolean;
      readonly limits?: TransmissionLimits;
      readonly onDrain: (cb: () => void) => void;
      readonly observe?: CommandObserver;
    },
  ) {
    if (!opts.blockSizeAgreed) this.anyAlignment = new AnyAlignmentIo(exp, session);
  }

  /** Read no further requests; `run()` then resolves once the commands in flight are done. */
  stop(): void {
    this.stopping = true;
    // Between requests nothing is lost by no longer reading; inside one, it is finished first.
    if (this.betweenRequests) this.reader.stop();
    this.notify();
  }

  get commandsInFlight(): number {
    return this.inFlight;
  }

  async run(): Promise<TransmissionEnd> {
    let end: TransmissionEnd;
    try {
      end = await this.loop();
    } finally {
      await this.idle();
      await this.session.close();
    }
    return end;
  }

  private async loop(): Promise<TransmissionEnd> {
    for (;;) {
      // Requests already buffered are parsed without awaiting (no promise, no microtask
      // turn per request); the reader is awaited only when it must wait for the socket.
      if (!this.hasRoom()) await this.admitted();
      if (this.stopping) return 'stopped';
      this.betweenRequests = true;
      const raw = this.reader.readNow(REQUEST_HEADER_BYTES) ?? (await this.reader.read(REQUEST_HEADER_BYTES));
      this.betweenRequests = false;
      if (!raw) return this.stopping ? 'stopped' : 'client-vanished';
      if (raw.readUInt32BE(0) !== NBD_REQUEST_MAGIC) return 'bad-magic';
      const h: Header = {
        flags: raw.readUInt16BE(4),
        type: raw.readUInt16BE(6),
        cookie: Buffer.from(raw.subarray(8, 16)),
        offset: raw.readBigUInt64BE(16),
        length: raw.readUInt32BE(24),
      };
      if (h.type === NbdCmd.DISC) return 'disconnect';
      if (h.type === NbdCmd.WRITE) {
        if (h.length > this.exp.maxPayload) {
          if (!(await this.reader.skip(h.length))) return 'client-vanished';
          this.answer(h, NbdErrno.EINVAL, `write of ${h.length} bytes is over the maximum payload of ${this.exp.maxPayload}`);
          continue;
        }
        const data = this.reader.readNow(h.length) ?? (await this.reader.read(h.length));
        if (!data) return 'client-vanished';
        this.write(h, data);
        continue;
      }
      this.command(h);
    }
  }

  private write(h: Header, data: Buffer): void {
    const why =
      checkFlags(h) ?? checkWritable(h, this.exp) ?? checkRange(h, this.exp) ?? (this.anyAlignment ? undefined : checkAligned(h, this.exp));
    if (why) return this.refuse(h, why);
    if (h.length === 0) return this.answer(h, NbdErrno.OK);
    if (!this.anyAlignment) return this.submit(h, [{ op: 'write', offset: h.offset, length: h.length, data, fua: this.fua(h) }]);
    this.track(h.length, +1);
    void this.anyAlignment.write(h.offset, data, this.fua(h)).then((failed) => {
      this.track(h.length, -1);
      this.answer(h, failed?.errno ?? NbdErrno.OK, failed?.message);
    });
  }

  private command(h: Header): void {
    const flagsWrong = checkFlags(h);
    switch (h.type) {
      case NbdCmd.READ: {
        if (h.length > this.exp.maxPayload)
          return this.answer(h, NbdErrno.EINVAL, `read of ${h.length} bytes is over the maximum payload of ${this.exp.maxPayload}`);
        const why = flagsWrong ?? checkRange(h, this.exp) ?? (this.anyAlignment ? undefined : checkAligned(h, this.exp));
        if (why) return this.refuse(h, why);
        if (h.length === 0) return this.answer(h, NbdErrno.OK);
        return this.read(h);
      }
      case NbdCmd.FLUSH:
        if (flagsWrong) return this.refuse(h, flagsWrong);
        return this.submit(h, [{ op: 'flush', offset: 0n, length: 0, fua: false }]);
      case NbdCmd.TRIM: {
        const readOnly = flagsWrong ?? checkWritable(h, this.exp);
        if (readOnly) return this.refuse(h, readOnly);
        if (!(this.exp.flags & TransmissionFlag.SEND_TRIM))
          return this.answer(h, NbdErrno.EINVAL, `export ${this.exp.name} does not support TRIM (discard=0)`);
        const why = flagsWrong ?? checkRange(h, this.exp);
        if (why) return this.refuse(h, why);
        // TRIM is advisory: only the whole blocks inside the range are discarded.
        const bs = BigInt(this.exp.minBlock);
        const start = ((h.offset + bs - 1n) / bs) * bs;
        const end = ((h.offset + BigInt(h.length)) / bs) * bs;
        if (end <= start) return this.answer(h, NbdErrno.OK);
        return this.submit(h, this.split('discard', start, end, h));
      }
      case NbdCmd.WRITE_ZEROES: {
        const why =
          flagsWrong ??
          checkWritable(h, this.exp) ??
          checkRange(h, this.exp) ??
          (this.anyAlignment ? undefined : checkAligned(h, this.exp));
        if (why) return this.refuse(h, why);
        if (h.length === 0) return this.answer(h, NbdErrno.OK);
        // NO_HOLE: the range must stay allocated, so zeros are written, not punched.
        const op = h.flags & NbdCmdFlag.NO_HOLE ? 'write' : 'write-zeroes';
        if (this.anyAlignment && checkAligned(h, this.exp)) {
          this.track(0, +1);
          const zeroed = this.anyAlignment.zero(h.offset, h.length, this.fua(h), (start, end) => this.split(op, start, end, h));
          void zeroed.then((failed) => {
            this.track(0, -1);
            this.answer(h, failed?.errno ?? NbdErrno.OK, failed?.message);
          });
          return;
        }
        return this.submit(h, this.split(op, h.offset, h.offset + BigInt(h.length), h));
      }
      default:
        return this.answer(h, NbdErrno.EINVAL, `command ${h.type} is not supported`);
    }
  }

  /**
   * A READ. An aligned one goes to the device as it is; a misaligned one (only from a
   * client that did not agree block sizes) through AnyAlignmentIo, widened and cut back.
   */
  private read(h: Header): void {
    const reply = (r: BlockResult) => {
      this.track(h.length, -1);
      if (r.errno === NbdErrno.OK && r.data?.length !== h.length) {
        this.observeAndReply(h, NbdErrno.EIO, `the device returned ${r.data?.length ?? 0} bytes for a ${h.length}-byte read`);
        return;
      }
      this.opts.observe?.(h.type, r.errno, r.message);
      this.replies.read(h.cookie, h.offset, r.errno, r.errno === NbdErrno.OK ? r.data : undefined, r.message ?? '');
    };
    this.track(h.length, +1);
    const bs = this.exp.minBlock;
    if (!this.anyAlignment || (h.offset % BigInt(bs) === 0n && h.length % bs === 0)) {
      this.session.submit({ op: 'read', offset: h.offset, length: h.length, fua: false }, reply);
      return;
    }
    void this.anyAlignment.read(h.offset, h.length).then(reply);
  }

  private observeAndReply(h: Header, errno: number, message: string): void {
    this.opts.observe?.(h.type, errno, message);
    this.replies.read(h.cookie, h.offset, errno, undefined, message);
  }

  /**
   * Runs `parts` and answers `h` once all are done, with the first error if any. For a
   * client that did not agree block sizes, a command that changes data (TRIM,
   * WRITE_ZEROES) holds its blocks meanwhile, as its writes do (AnyAlignmentIo).
   */
  private submit(h: Header, parts: BlockCommand[]): void {
    const bytes = h.type === NbdCmd.WRITE ? h.length : 0;
    this.track(bytes, +1);
    const finish = (failed: BlockResult | undefined) => {
      this.track(bytes, -1);
      this.answer(h, failed?.errno ?? NbdErrno.OK, failed?.message);
    };
    if (this.anyAlignment && parts[0].op !== 'flush') {
      void this.anyAlignment.runHeld(parts).then(finish);
      return;
    }
    let left = parts.length;
    let failed: BlockResult | undefined;
    for (const part of parts) {
      this.session.submit(part, (r) => {
        if (r.errno !== NbdErrno.OK && !failed) failed = r;
        if (--left > 0) return;
        finish(failed);
      });
    }
  }

  /** `op` over [start, end) in pieces of at most maxPayload (TRIM and WRITE_ZEROES). */
  private split(op: 'discard' | 'write-zeroes' | 'write', start: bigint, end: bigint, h: Header): BlockCommand[] {
    const parts: BlockCommand[] = [];
    const max = BigInt(this.exp.maxPayload);
    for (let at = start; at < end; at += max) {
      const length = Number(end - at < max ? end - at : max);
      let data: Buffer | undefined;
      if (op === 'write') {
        if (!zeroBuffer || zeroBuffer.length < length) zeroBuffer = Buffer.alloc(Math.max(length, zeroBuffer?.length ?? 0));
        data = zeroBuffer.subarray(0, length);
      }
      parts.push({ op, offset: at, length, data, fua: this.fua(h) });
    }
    return parts;
  }

  private answer(h: Header, errno: number, message?: string): void {
    this.opts.observe?.(h.type, errno, message);
    if (h.type === NbdCmd.READ) this.replies.read(h.cookie, h.offset, errno, undefined, message ?? '');
    else this.replies.simple(h.cookie, errno);
  }

  private refuse(h: Header, [errno, message]: Refusal): void {
    this.answer(h, errno, message);
  }

  private fua(h: Header): boolean {
    return (h.flags & NbdCmdFlag.FUA) !== 0 && (this.exp.flags & TransmissionFlag.SEND_FUA) !== 0;
  }

  private track(bytes: number, sign: 1 | -1): void {
    this.inFlight += sign;
    this.inFlightBytes += sign * bytes;
    if (sign < 0) this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private hasRoom(): boolean {
    const limits = this.opts.limits ?? DEFAULT_LIMITS;
    if (this.inFlight >= limits.maxInFlight) return false;
    if (this.inFlight > 0 && this.inFlightBytes >= limits.maxInFlightBytes) return false;
    return this.replies.pendingBytes < limits.replyHighWaterBytes || !this.replies.open;
  }

  /** Waits until a new request may be read (see the invariants), or `stop()`. */
  private async admitted(): Promise<void> {
    const limits = this.opts.limits ?? DEFAULT_LIMITS;
    while (!this.stopping && !this.hasRoom()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (!this.drainArmed && this.replies.pendingBytes >= limits.replyHighWaterBytes) {
          this.drainArmed = true;
          this.opts.onDrain(() => {
            this.drainArmed = false;
            this.notify();
          });
        }
      });
    }
  }

  private async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }
}
