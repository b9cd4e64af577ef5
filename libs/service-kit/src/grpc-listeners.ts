// The Node servers under a bound grpc-js server. grpc-js has no option for what
// grpc-connection-limit.ts and grpc-flow-control.ts set, so both reach its private
// `http2Servers` (a Map keyed by the Node http2 servers, one per bound address) here, in
// one place.
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/**
 * The http2 servers of `server`, one per address it is bound to. Call after the server is
 * bound (plaintext or TLS). Throws when they are not there, so a grpc-js that moved them fails the service's
 * start (and `grpc-limits.e2e-spec.ts`), rather than leave a setting off unseen; `setting`
 * names what needed them.
 */
export function grpcListeners(server: grpc.Server, setting: string): (Http2Server | Http2SecureServer)[] {
  const listeners = (server as unknown as { http2Servers?: Map<Http2Server | Http2SecureServer, unknown> }).http2Servers;
  if (!(listeners instanceof Map) || listeners.size === 0) {
    throw new Error(`${setting}: cannot reach the listening sockets of this grpc-js server (grpc-js internals changed)`);
  }
  return [...listeners.keys()];
}
