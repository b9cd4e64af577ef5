// The server end of the project's HTTP/2 flow-control windows (the why and the figures:
// libs/proto/src/grpc-flow-control.ts). grpc-js passes no window settings to the http2
// servers it makes, so they are set on its listeners (grpc-listeners.ts).
import type { Http2Session } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import { GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES } from '#proto';
import { grpcListeners } from './grpc-listeners';

/**
 * Every connection `server` accepts from now on advertises a stream window of
 * `streamWindow` bytes (SETTINGS_INITIAL_WINDOW_SIZE) and widens its connection window to
 * `connectionWindow` bytes (a WINDOW_UPDATE on stream 0). Call right after the server is
 * bound: a connection accepted before keeps HTTP/2's 64 KiB. Throws when grpc-js's
 * listeners cannot be reached.
 */
export function widenFlowControlWindows(
  server: grpc.Server,
  streamWindow = GRPC_STREAM_WINDOW_BYTES,
  connectionWindow = GRPC_CONNECTION_WINDOW_BYTES,
): void {
  for (const listener of grpcListeners(server, 'gRPC flow-control windows')) {
    listener.updateSettings({ initialWindowSize: streamWindow });
    listener.on('session', (session: Http2Session) => session.setLocalWindowSize(connectionWindow));
  }
}
