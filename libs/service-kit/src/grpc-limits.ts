// The limits of a gRPC front end (issue 15 part 4, README "Limits"): what one message, one
// connection and one client may hold, each a setting with its default in one place. A bad
// value stops the service at start naming the setting (`positive`).
import { positive } from './service-env';

/** The largest message a gRPC server takes, bytes (`GRPC_MAX_MESSAGE_BYTES`): 64 MiB. */
export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Streams (calls) open at once on one connection (`GRPC_MAX_CONCURRENT_STREAMS`). */
export const DEFAULT_GRPC_MAX_CONCURRENT_STREAMS = 100;
/** Connections a gRPC server holds at once (`GRPC_MAX_CONNECTIONS`). */
export const DEFAULT_GRPC_MAX_CONNECTIONS = 1024;
/** Submissions of one client in flight at once, over all its calls (`GRPC_MAX_INFLIGHT_PER_CLIENT`). */
export const DEFAULT_GRPC_MAX_INFLIGHT_PER_CLIENT = 4096;

export interface GrpcLimits {
  /**
   * `GRPC_MAX_MESSAGE_BYTES`: a larger request message ends its call RESOURCE_EXHAUSTED
   * before it is decoded (grpc-js's `grpc.max_receive_message_length`). A write of 16 MiB
   * (the submission cap) needs a little over 16 MiB.
   */
  readonly maxMessageBytes: number;
  /**
   * `GRPC_MAX_CONCURRENT_STREAMS`: HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS of every
   * connection (`grpc.max_concurrent_streams`); a client opens no more calls at once on one
   * connection (grpc-js clients queue the rest).
   */
  readonly maxConcurrentStreams: number;
  /**
   * `GRPC_MAX_CONNECTIONS`: connections a gRPC server holds at once; one more is closed as
   * it arrives, before TLS or HTTP/2 (grpc-connection-limit.ts), and its client sees UNAVAILABLE.
   */
  readonly maxConnections: number;
  /**
   * `GRPC_MAX_INFLIGHT_PER_CLIENT`: submissions one client (its token, else its address)
   * has in flight over all its calls and connections (dispatch: libs/dispatch/src/client-budget.ts).
   */
  readonly maxInflightPerClient: number;
}

/** The variables `readGrpcLimits` reads. */
export const GRPC_LIMIT_VARIABLES = [
  'GRPC_MAX_MESSAGE_BYTES',
  'GRPC_MAX_CONCURRENT_STREAMS',
  'GRPC_MAX_CONNECTIONS',
  'GRPC_MAX_INFLIGHT_PER_CLIENT',
] as const;

export function readGrpcLimits(env: NodeJS.ProcessEnv): GrpcLimits {
  return {
    maxMessageBytes: positive(env, 'GRPC_MAX_MESSAGE_BYTES', DEFAULT_GRPC_MAX_MESSAGE_BYTES),
    maxConcurrentStreams: positive(env, 'GRPC_MAX_CONCURRENT_STREAMS', DEFAULT_GRPC_MAX_CONCURRENT_STREAMS),
    maxConnections: positive(env, 'GRPC_MAX_CONNECTIONS', DEFAULT_GRPC_MAX_CONNECTIONS),
    maxInflightPerClient: positive(env, 'GRPC_MAX_INFLIGHT_PER_CLIENT', DEFAULT_GRPC_MAX_INFLIGHT_PER_CLIENT),
  };
}
