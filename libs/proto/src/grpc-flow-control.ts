// HTTP/2 flow control on the project's gRPC connections, one owner for both ends: servers
// advertise these windows (libs/service-kit/src/grpc-flow-control.ts), clients ask for them
// with `CLIENT_FLOW_CONTROL_OPTIONS`.
//
// Why: HTTP/2 starts every stream and connection at a 64 KiB window, and grpc-js keeps it
// there. A SubmitBatch of 32 writes of 4 KiB is 128 KiB (a CompletionBatch of 32 reads the
// same), so the sender stops every 32 KiB for a WINDOW_UPDATE: one more socket write by the
// receiver and one more wake-up of both processes for each, where a loopback socket write
// costs tens of µs of CPU on a VM (docs/bench/v2-stream-window/).
//
// Contract: a receiver holds at most GRPC_CONNECTION_WINDOW_BYTES of data it has not read
// per connection, and at most GRPC_STREAM_WINDOW_BYTES per stream (HTTP/2 flow control); a
// larger message still goes, in window-sized parts.

/** SETTINGS_INITIAL_WINDOW_SIZE: the bytes a peer may send on one stream before a WINDOW_UPDATE. */
export const GRPC_STREAM_WINDOW_BYTES = 1024 * 1024;

/** The connection's window: the bytes a peer may send over all its streams before a WINDOW_UPDATE. */
export const GRPC_CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * grpc-js client options for these windows. grpc-js takes one figure for both: it
 * advertises it as the stream window and widens the connection window to it, so a client's
 * connection window is GRPC_STREAM_WINDOW_BYTES.
 */
export const CLIENT_FLOW_CONTROL_OPTIONS: Readonly<Record<string, number>> = Object.freeze({
  'grpc-node.flow_control_window': GRPC_STREAM_WINDOW_BYTES,
});
