// Starts an NbdServer over a MemoryBackend on a free loopback port, for unit tests.
import { NbdServer, type NbdServerOptions } from '../nbd-server';
import { NbdInfo, NbdOpt, NbdRep } from '../nbd-protocol';
import type { TransmissionLimits } from '../transmission';
import { MemoryBackend } from './memory-backend';
import { RawNbdClient } from './raw-nbd-client';

export interface Served {
  server: NbdServer;
  backend: MemoryBackend;
  port: number;
  closes: string[];
  /** `how` of each refused connection (over maxConnections). */
  refusals: string[];
}

export const MiB = 1024n * 1024n;

/** The server options a test may add: TLS, access by identity, timeouts. */
export type ServeOptions = Pick<NbdServerOptions, 'tls' | 'access' | 'handshakeTimeoutMs' | 'idleTimeoutMs'>;

export async function serve(
  limits?: TransmissionLimits,
  discard = true,
  maxConnections?: number,
  more: ServeOptions = {},
): Promise<Served> {
  const backend = new MemoryBackend([
    { name: 'rnullb0', sizeBytes: 4n * MiB, blockSize: 4096, writeCache: true, fua: true, discard, rotational: false },
    { name: 'small', sizeBytes: 1n * MiB, blockSize: 512, writeCache: false, fua: false, discard: false, rotational: true },
  ]);
  const closes: string[] = [];
  const refusals: string[] = [];
  const server = new NbdServer({
    backend,
    limits,
    maxConnections,
    ...more,
    events: { onConnectionClose: (_p, _e, how) => closes.push(how), onConnectionRefused: (_p, how) => refusals.push(how) },
  });
  const port = await server.listen(0, '127.0.0.1');
  return { server, backend, port, closes, refusals };
}

/**
 * The first `closes` entry, once the server has recorded one (its close event can come
 * after the client saw the connection end); throws after `timeoutMs`.
 */
export async function firstClose(s: Pick<Served, 'closes'>, timeoutMs = 2000): Promise<string> {
  for (const until = Date.now() + timeoutMs; s.closes.length === 0;) {
    if (Date.now() > until) throw new Error(`the server recorded no closed connection within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return s.closes[0];
}

/** A client in the transmission phase on `name` via NBD_OPT_GO (structured replies optional). */
export async function attach(
  port: number,
  name = 'rnullb0',
  opts: { structured?: boolean; blockSize?: boolean } = {},
): Promise<RawNbdClient> {
  const c = await RawNbdClient.connect(port);
  await c.handshake();
  if (opts.structured) {
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    const r = await c.readOptionReply();
    if (r.type !== NbdRep.ACK) throw new Error(`structured reply refused: ${r.type}`);
  }
  await c.go(name, opts.blockSize === false ? [] : [NbdInfo.BLOCK_SIZE]);
  return c;
}
