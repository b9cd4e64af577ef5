// GRPC_MAX_CONNECTIONS for a grpc-js server: grpc-js has no such option, so the limit is
// Node's own on the listening sockets under it (`net.Server.maxConnections`): a connection
// past it is closed as it is accepted, before TLS or HTTP/2, and Node emits 'drop'.
import type { Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** What a dropped connection is reported with: its peer address. */
export type ConnectionDropped = (peer: string) => void;

/**
 * Caps the connections `server` holds at `max` on every address it is bound to. Call after
 * the server is bound. Reads grpc-js's private `http2Servers` (a Map keyed by the Node
 * servers): throws when it is not there, so a grpc-js that moved it fails the service's
 * start and `grpc-limits.e2e-spec.ts`, rather than leave the limit off unseen.
 */
export function limitConnections(server: grpc.Server, max: number, onDrop: ConnectionDropped): void {
  const listeners = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  if (!(listeners instanceof Map) || listeners.size === 0) {
    throw new Error('GRPC_MAX_CONNECTIONS: cannot reach the listening sockets of this grpc-js server (grpc-js internals changed)');
  }
  for (const listener of listeners.keys()) {
    listener.maxConnections = max;
    listener.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) =>
      onDrop(data?.remoteAddress ? `${data.remoteAddress}:${data.remotePort}` : 'unknown peer'),
    );
  }
}
