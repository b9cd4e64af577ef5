// HTTP/2 flow control on the project's gRPC connections, one owner for both ends. Each end
// sets its own receive windows: a server (libs/service-kit/src/grpc-flow-control.ts) what
// its clients may send it, a client (`CLIENT_FLOW_CONTROL_OPTIONS`) what its server may send
// back.
//
// Why: HTTP/2 starts every stream and connection at a 64 KiB window, and grpc-js keeps it
// there. A SubmitBatch of 32 writes of 4 KiB is 128 KiB (a CompletionBatch of 32 reads the
// same), so the sender runs out of window part way through every message and sends the rest
// in the parts each WINDOW_UPDATE frees: more socket writes and more wake-ups of both
// processes per message, each dear in the kernel of a VM (docs/bench/v2-stream-window/).
//
// Contract (HTTP/2 flow control): a sender has at most the receiver's stream window on a
// stream, and its connection window on the connection, sent ahead of the receiver's
// WINDOW_UPDATEs; a larger message still goes, in window-sized parts. A receiver that stops
// reading (back-pressure) may so hold that much it has not read: a server up to
// GRPC_STREAM_WINDOW_BYTES per stream and GRPC_CONNECTION_WINDOW_BYTES per connection.

/** A receiver's SETTINGS_INITIAL_WINDOW_SIZE: the bytes its peer may send on one stream before a WINDOW_UPDATE. */
export const GRPC_STREAM_WINDOW_BYTES = 1024 * 1024;

/**
 * A server's connection window, opened by a WINDOW_UPDATE on stream 0 (HTTP/2 has no
 * setting for it): the bytes a client may send over all its streams before a WINDOW_UPDATE.
 */
export const GRPC_CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * grpc-js client options for a client's receive windows. grpc-js takes one figure for both:
 * it advertises it as the stream window and widens the connection window to it, so a
 * client's connection window is GRPC_STREAM_WINDOW_BYTES too.
 */
export const CLIENT_FLOW_CONTROL_OPTIONS: Readonly<Record<string, number>> = Object.freeze({
  'grpc-node.flow_control_window': GRPC_STREAM_WINDOW_BYTES,
});
