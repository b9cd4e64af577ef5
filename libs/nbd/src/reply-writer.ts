// Transmission replies on the wire: simple replies, and the structured chunks a READ must
// use once NBD_OPT_STRUCTURED_REPLY was negotiated.
import type { Socket } from 'node:net';
import { NBD_SIMPLE_REPLY_MAGIC, NBD_STRUCTURED_REPLY_MAGIC, NbdErrno, NbdReply } from './nbd-protocol';

/**
 * Contract: each method writes one whole reply (header and data back to back) or nothing
 * when the socket is already gone; none throws. The replies of one event-loop tick are
 * corked into one write. Headers come from Node's shared Buffer pool (allocUnsafe: no
 * ArrayBuffer of its own per reply) and every byte of one is written before it is sent.
 */
export class ReplyWriter {
  private plugged = false;

  constructor(
    private readonly socket: Socket,
    private readonly structured: boolean,
  ) {}

  /** Bytes accepted by `write` that the kernel has not taken yet. */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** The reply to a command other than READ. */
  simple(cookie: Buffer, errno: number): void {
    const h = Buffer.allocUnsafe(16);
    h.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
    h.writeUInt32BE(errno, 4);
    cookie.copy(h, 8);
    this.send(h);
  }

  /** The reply to a READ: its data, or its error (a structured ERROR chunk when negotiated). */
  read(cookie: Buffer, offset: bigint, errno: number, data: Buffer | undefined, message: string): void {
    if (!this.structured) {
      const h = Buffer.allocUnsafe(16);
      h.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
      h.writeUInt32BE(errno, 4);
      cookie.copy(h, 8);
      this.send(h, errno === NbdErrno.OK ? data : undefined);
      return;
    }
    if (errno !== NbdErrno.OK) {
      const msg = Buffer.from(message.slice(0, 4096));
      const h = this.chunkHeader(cookie, NbdReply.TYPE_ERROR, 6 + msg.length);
      const p = Buffer.alloc(6);
      p.writeUInt32BE(errno, 0);
      p.writeUInt16BE(msg.length, 4);
      this.send(Buffer.concat([h, p]), msg);
      return;
    }
    if (!data || data.length === 0) {
      this.send(this.chunkHeader(cookie, NbdReply.TYPE_NONE, 0));
      return;
    }
    const h = Buffer.allocUnsafe(28);
    this.chunkHeaderInto(h, cookie, NbdReply.TYPE_OFFSET_DATA, 8 + data.length);
    h.writeBigUInt64BE(offset, 20);
    this.send(h, data);
  }

  private chunkHeader(cookie: Buffer, type: number, length: number): Buffer {
    const h = Buffer.allocUnsafe(20);
    this.chunkHeaderInto(h, cookie, type, length);
    return h;
  }

  private chunkHeaderInto(h: Buffer, cookie: Buffer, type: number, length: number): void {
    h.writeUInt32BE(NBD_STRUCTURED_REPLY_MAGIC, 0);
    h.writeUInt16BE(NbdReply.FLAG_DONE, 4);
    h.writeUInt16BE(type, 6);
    cookie.copy(h, 8);
    h.writeUInt32BE(length, 16);
  }

  private send(head: Buffer, body?: Buffer): void {
    if (!this.open) return;
    this.plug();
    this.socket.write(head);
    if (body && body.length > 0) this.socket.write(body);
  }

  /**
   * Corks the socket until the next check phase: every reply of this event-loop tick (a
   * completion batch ends many commands at once) leaves in one write, one syscall.
   */
  private plug(): void {
    if (this.plugged) return;
    this.plugged = true;
    this.socket.cork();
    setImmediate(() => {
      this.plugged = false;
      this.socket.uncork();
    });
  }
}
