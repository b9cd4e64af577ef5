// The NBD server: accepts TCP connections, runs each through option haggling (with TLS and
// access by identity when configured) and the transmission phase, each within its timeouts,
// and drains every connection on close (SIGTERM).
import * as net from 'node:net';
import type { NbdAccessPolicy } from './nbd-access';
import type { NbdBackend } from './nbd-backend';
import type { NbdTls } from './nbd-tls';
import { haggle, type NbdConnection } from './option-haggling';
import { ReplyWriter } from './reply-writer';
import { SocketReader } from './socket-reader';
import { type CommandObserver, Transmission, type TransmissionEnd, type TransmissionLimits } from './transmission';

/** What the server tells its host about connections (logs and metrics). */
export interface NbdServerEvents {
  onConnectionOpen?(peer: string): void;
  /** `how`: a TransmissionEnd, or why the handshake ended, or `error: …`. */
  onConnectionClose?(peer: string, exportName: string | undefined, how: string): void;
  /** A connection over `maxConnections` was told why and closed (never opened, never served). */
  onConnectionRefused?(peer: string, how: string): void;
  onCommand?: CommandObserver;
}

export interface NbdServerOptions {
  readonly backend: NbdBackend;
  readonly limits?: TransmissionLimits;
  /**
   * Connections served at once (default 256). One more is refused with a word: it gets
   * the greeting and NBD_REP_ERR_POLICY saying so to each option (`haggle`'s refusal),
   * for at most REFUSAL_TIMEOUT_MS; more than MAX_REFUSALS of those at once are closed
   * at accept.
   */
  readonly maxConnections?: number;
  /** TLS (NBD_TLS=on|require); absent: NOTLS. */
  readonly tls?: NbdTls;
  /** What each client may do, by its TLS identity (NBD_AUTH_IDENTITIES); absent: everything. */
  readonly access?: NbdAccessPolicy;
  /**
   * Option haggling, TLS handshake included, must end within this (default
   * DEFAULT_HANDSHAKE_TIMEOUT_MS); a connection still haggling then is closed.
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * A transmission-phase connection with no command in flight and no byte read or written
   * for this long is closed; 0 or absent: never (a VM's idle disk is a normal thing).
   */
  readonly idleTimeoutMs?: number;
  readonly events?: NbdServerEvents;
}

/** How long option haggling may take by default (NBD_HANDSHAKE_TIMEOUT_MS). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How long a refused connection may take to read its refusal and leave. */
export const REFUSAL_TIMEOUT_MS = 10_000;
/** Refused connections being told at once; past that a refused one is closed at accept. */
export const MAX_REFUSALS = 16;

/**
 * Invariants:
 *   - At most `maxConnections` connections are served, plus at most MAX_REFUSALS being
 *     refused, each for at most REFUSAL_TIMEOUT_MS: memory stays bounded by the limits (I5).
 *   - A failure in one connection (protocol error, backend error, socket error) ends that
 *     connection only; the server keeps serving.
 *   - `close()` stops accepting, lets each connection finish the commands it has read
 *     (answering them), then closes it; it resolves when every connection is gone.
 */
export class NbdServer {
  private readonly server: net.Server;
  private readonly connections = new Map<NbdConnection, Transmission | undefined>();
  private readonly maxConnections: number;
  /** Connections being refused (see maxConnections). */
  private readonly refusing = new Set<net.Socket>();
  private closing = false;

  constructor(private readonly opts: NbdServerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => void this.serve(socket));
    this.maxConnections = opts.maxConnections ?? 256;
  }

  /** Listens on `host:port` (0: a free port); resolves the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.refusing) socket.destroy();
    for (const [conn, transmission] of this.connections) {
      if (transmission) transmission.stop();
      else conn.socket.destroy();
    }
    while (this.connections.size > 0) await new Promise((r) => setTimeout(r, 20));
    await closed;
  }

  private async serve(socket: net.Socket): Promise<void> {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => undefined);
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.maxConnections) return this.refuse(socket, peer);
    const conn: NbdConnection = { socket, reader: new SocketReader(socket), tls: false };
    this.connections.set(conn, undefined);
    this.opts.events?.onConnectionOpen?.(peer);
    let exportName: string | undefined;
    let how: string;
    /** Set when the server closed the connection on a timeout: what the log says instead. */
    let timedOut: string | undefined;
    const handshakeMs = this.opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const handshakeTimer = setTimeout(() => {
      timedOut = `handshake-timeout (option haggling took over ${handshakeMs} ms)`;
      conn.socket.destroy();
    }, handshakeMs);
    try {
      const hs = await haggle(conn, this.opts.backend, { tls: this.opts.tls, access: this.opts.access }).finally(() =>
        clearTimeout(handshakeTimer),
      );
      if ('ended' in hs) {
        how = hs.ended;
      } else {
        exportName = hs.export.name;
        const session = this.opts.backend.openSession(hs.export);
        const out = conn.socket;
        const transmission = new Transmission(hs.export, conn.reader, new ReplyWriter(out, hs.structuredReplies), session, {
          blockSizeAgreed: hs.blockSizeAgreed,
          limits: this.opts.limits,
          onDrain: (cb) => out.once('drain', cb),
          observe: this.opts.events?.onCommand,
        });
        this.connections.set(conn, transmission);
        if (this.closing) transmission.stop();
        const idleMs = this.opts.idleTimeoutMs ?? 0;
        // 'timeout' fires after idleMs with no byte read or written; a command still in
        // flight (a slow device) is not idleness: the timer starts again.
        const idle = () => {
          if (transmission.commandsInFlight > 0) return void out.setTimeout(idleMs);
          timedOut = `idle-timeout (no command for ${idleMs} ms)`;
          out.destroy();
        };
        if (idleMs > 0) {
          out.on('timeout', idle);
          out.setTimeout(idleMs);
        }
        const end: TransmissionEnd = await transmission.run();
        out.off('timeout', idle);
        out.setTimeout(0);
        how = end;
      }
    } catch (err) {
      how = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    await closeGently(conn.socket);
    this.connections.delete(conn);
    this.opts.events?.onConnectionClose?.(peer, exportName, timedOut ?? how);
  }

  /** Tells a connection over the limit why it is not served, then closes it (see maxConnections). */
  private async refuse(socket: net.Socket, peer: string): Promise<void> {
    const why = `the server has its limit of ${this.maxConnections} connections open; try again when one closes`;
    if (this.refusing.size >= MAX_REFUSALS) {
      socket.destroy();
      this.opts.events?.onConnectionRefused?.(peer, `closed at accept (${why}; ${MAX_REFUSALS} refusals under way)`);
      return;
    }
    this.refusing.add(socket);
    socket.setTimeout(REFUSAL_TIMEOUT_MS, () => socket.destroy());
    let how: string;
    try {
      const hs = await haggle({ socket, reader: new SocketReader(socket), tls: false }, this.opts.backend, { refusal: why });
      how = 'ended' in hs ? hs.ended : 'entered an export';
    } catch (err) {
      how = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    await closeGently(socket);
    this.refusing.delete(socket);
    this.opts.events?.onConnectionRefused?.(peer, `${why} (${how})`);
  }
}

/** Ends `socket` after what was written, and resolves once it is closed (destroyed after 5 s). */
function closeGently(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.end();
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}
