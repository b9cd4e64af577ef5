// Exact-length reads from a stream socket, with bounded buffering: the reader pauses the
// socket while it holds more than it was asked for, so a fast sender meets TCP backpressure
// instead of growing this process's memory.
import type { Socket } from 'node:net';

/**
 * Invariants:
 *   - At most one `read`/`skip` is pending at a time (the protocol is sequential).
 *   - Buffered bytes exceed `highWaterBytes` only by one socket chunk, or by the size of
 *     the read being served; above it the socket is paused until a read drains it.
 *   - After the peer ends or the socket fails, a pending or later read resolves `null`
 *     when the buffered bytes cannot satisfy it (a short frame is never returned).
 */
export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private want = 0;
  private wake?: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly highWaterBytes = 256 * 1024,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > Math.max(this.highWaterBytes, this.want)) this.socket.pause();
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };

  /**
   * Stops listening to the socket, which a new owner takes over (NBD_OPT_STARTTLS wraps it
   * in TLS); call with nothing buffered and no read pending.
   */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    this.ended = true;
  }

  /** Ends reading: a pending and every later read resolves `null` (SIGTERM drain). */
  stop(): void {
    this.ended = true;
    this.notify();
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Exactly `n` bytes if they are buffered already, else undefined (nothing taken): `read`
   * without a promise or a trip through the microtask queue, for a caller that parses
   * several requests from one socket chunk.
   */
  readNow(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    this.want = 0;
    const out = this.take(n);
    if (this.buffered <= this.highWaterBytes && this.socket.isPaused() && !this.ended) this.socket.resume();
    return out;
  }

  /** Exactly `n` bytes, or `null` when the peer went away first. */
  async read(n: number): Promise<Buffer | null> {
    this.want = n;
    while (this.buffered < n) {
      if (this.ended) return null;
      if (this.socket.isPaused()) this.socket.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.readNow(n)!;
  }

  /** Discards exactly `n` bytes as they arrive, holding none; false when the peer went away. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) {
        if (this.ended) return false;
        if (this.socket.isPaused()) this.socket.resume();
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const k = Math.min(left, this.buffered);
      this.take(k);
      left -= k;
    }
    return true;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
