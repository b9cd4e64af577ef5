// GRPC_MAX_CONNECTIONS for a grpc-js server: grpc-js has no such option, so the limit is
// Node's own on the listening sockets under it (`net.Server.maxConnections`): a connection
// past it is closed as it is accepted, before TLS or HTTP/2, and Node emits 'drop'.
import type * as grpc from '@grpc/grpc-js';
import { grpcListeners } from './grpc-listeners';

/** What a dropped connection is reported with: its peer address. */
export type ConnectionDropped = (peer: string) => void;

/**
 * Caps the connections `server` holds at `max` on every address it is bound to. Call after
 * the server is bound; throws when grpc-js's listeners cannot be reached (grpc-listeners.ts).
 */
export function limitConnections(server: grpc.Server, max: number, onDrop: ConnectionDropped): void {
  for (const listener of grpcListeners(server, 'GRPC_MAX_CONNECTIONS')) {
    listener.maxConnections = max;
    listener.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) =>
      onDrop(data?.remoteAddress ? `${data.remoteAddress}:${data.remotePort}` : 'unknown peer'),
    );
  }
}
