// A byte-level NBD client for tests: it sends exactly the frames a test writes, well formed
// or not, and reads replies field by field, so every server answer can be asserted.
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  NBD_OPTS_MAGIC,
  NBD_REQUEST_MAGIC,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NbdInfo,
  NbdOpt,
  NbdRep,
} from '../nbd-protocol';

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export interface SimpleReply {
  magic: number;
  errno: number;
  cookie: bigint;
}

export class RawNbdClient {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiter?: () => void;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private readonly onData = (c: Buffer): void => {
    this.buf = Buffer.concat([this.buf, c]);
    this.waiter?.();
  };

  private readonly onClose = (): void => {
    this.ended = true;
    this.waiter?.();
  };

  private readonly onError = (): void => undefined;

  private listen(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  /**
   * NBD_OPT_STARTTLS, then (on NBD_REP_ACK) the TLS handshake with `options` (servername
   * defaults to localhost). Resolves the option reply; rejects when the handshake fails.
   */
  async startTls(options: tls.ConnectionOptions = {}): Promise<OptionReply> {
    this.sendOption(NbdOpt.STARTTLS);
    const r = await this.readOptionReply();
    if (r.type !== NbdRep.ACK) return r;
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.off('close', this.onClose);
    const secure = tls.connect({ servername: 'localhost', ...options, socket: plain });
    secure.on('error', this.onError);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('the server closed the connection during the TLS handshake')));
    });
    this.socket = secure;
    this.listen(secure);
    return r;
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawNbdClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawNbdClient(s)));
      s.once('error', reject);
    });
  }

  /** Exactly `n` bytes, or rejects when the server closed first or `timeoutMs` passed. */
  async read(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.ended) throw new Error(`server closed the connection (${this.buf.length}/${n} bytes)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.ended;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Reads the greeting and answers with fixed newstyle + no zeroes (or `flags`). */
  async handshake(flags = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES): Promise<Buffer> {
    const greeting = await this.read(18);
    const f = Buffer.alloc(4);
    f.writeUInt32BE(flags, 0);
    this.write(f);
    return greeting;
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), magic = NBD_OPTS_MAGIC): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(magic, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.write(Buffer.concat([h, data]));
  }

  async readOptionReply(): Promise<OptionReply> {
    const h = await this.read(20);
    const len = h.readUInt32BE(16);
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data: await this.read(len) };
  }

  /**
   * NBD_OPT_GO on `name` after the handshake (asking for block sizes unless `infos` says
   * otherwise): resolves once the server acknowledged and transmission begins; rejects
   * with the reply type and message when it refused.
   */
  async go(name: string, infos: number[] = [NbdInfo.BLOCK_SIZE]): Promise<void> {
    this.sendOption(NbdOpt.GO, RawNbdClient.infoRequest(name, infos));
    for (;;) {
      const r = await this.readOptionReply();
      if (r.type === NbdRep.ACK) return;
      if (r.type !== NbdRep.INFO) throw new Error(`NBD_OPT_GO ${name} refused: reply ${r.type} ${r.data.toString()}`);
    }
  }

  /** NBD_OPT_GO / INFO data: name and the info types asked for. */
  static infoRequest(name: string, infos: number[]): Buffer {
    const n = Buffer.from(name);
    const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
    b.writeUInt32BE(n.length, 0);
    n.copy(b, 4);
    b.writeUInt16BE(infos.length, 4 + n.length);
    infos.forEach((t, i) => b.writeUInt16BE(t, 4 + n.length + 2 + 2 * i));
    return b;
  }

  static request(type: number, cookie: bigint, offset: bigint, length: number, flags = 0, magic = NBD_REQUEST_MAGIC): Buffer {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(magic, 0);
    h.writeUInt16BE(flags, 4);
    h.writeUInt16BE(type, 6);
    h.writeBigUInt64BE(cookie, 8);
    h.writeBigUInt64BE(offset, 16);
    h.writeUInt32BE(length, 24);
    return h;
  }

  send(type: number, cookie: bigint, offset: bigint, length: number, opts: { flags?: number; data?: Buffer } = {}): void {
    const h = RawNbdClient.request(type, cookie, offset, length, opts.flags ?? 0);
    this.write(opts.data ? Buffer.concat([h, opts.data]) : h);
  }

  async readSimpleReply(): Promise<SimpleReply> {
    const h = await this.read(16);
    return { magic: h.readUInt32BE(0), errno: h.readUInt32BE(4), cookie: h.readBigUInt64BE(8) };
  }

  /** One structured chunk: header fields and its payload. */
  async readChunk(): Promise<{ magic: number; flags: number; type: number; cookie: bigint; payload: Buffer }> {
    const h = await this.read(20);
    const len = h.readUInt32BE(16);
    return {
      magic: h.readUInt32BE(0),
      flags: h.readUInt16BE(4),
      type: h.readUInt16BE(6),
      cookie: h.readBigUInt64BE(8),
      payload: await this.read(len),
    };
  }

  destroy(): void {
    this.socket.destroy();
  }
}
