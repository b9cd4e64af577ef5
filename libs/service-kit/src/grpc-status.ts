// The one place where block-layer outcomes become gRPC statuses (DESIGN section 7).
import { status as GrpcCode, type ServiceError, Metadata } from '@grpc/grpc-js';
import { BlkStatus } from '#blk-mq';
import { AttributeError } from '#rnull';
import { ClusterError } from './cluster-errors';
import { isRedisUnavailable } from './redis-connection';

/** The gRPC code a client sees for a request that ended with `s` on a unary path. */
export function grpcCodeOfBlkStatus(s: BlkStatus): GrpcCode {
  switch (s) {
    case BlkStatus.OK:
      return GrpcCode.OK;
    case BlkStatus.NOTSUPP:
      return GrpcCode.UNIMPLEMENTED;
    case BlkStatus.TIMEOUT:
      return GrpcCode.DEADLINE_EXCEEDED;
    case BlkStatus.NOSPC:
    case BlkStatus.RESOURCE:
    case BlkStatus.DEV_RESOURCE:
    case BlkStatus.ZONE_OPEN_RESOURCE:
    case BlkStatus.ZONE_ACTIVE_RESOURCE:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case BlkStatus.AGAIN:
    case BlkStatus.OFFLINE:
    case BlkStatus.TRANSPORT:
      return GrpcCode.UNAVAILABLE;
    case BlkStatus.PROTECTION:
    case BlkStatus.MEDIUM:
      return GrpcCode.DATA_LOSS;
    default:
      return GrpcCode.INTERNAL;
  }
}

/** Longest status message a client is sent; errors that echo a long input are cut to it (I5). */
export const MAX_STATUS_MESSAGE_CHARS = 512;
/** Of a cut message: characters kept from its start (the field and the reason) and its end (the verdict). */
const CUT_HEAD_CHARS = 360;
const CUT_TAIL_CHARS = 120;

/**
 * `message` as a client is sent it: at most MAX_STATUS_MESSAGE_CHARS. A longer one (an
 * error that quotes a 10 KB disk name or badblocks string) keeps its start and its end,
 * with the number of characters cut between them, so it still names the field and says
 * what is wrong without sending the input back whole.
 */
export function cutStatusMessage(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_CHARS) return message;
  const cut = message.length - CUT_HEAD_CHARS - CUT_TAIL_CHARS;
  return `${message.slice(0, CUT_HEAD_CHARS)}…[${cut} characters cut]…${message.slice(-CUT_TAIL_CHARS)}`;
}

/** `{ code, message }` for any error thrown while serving a call (message cut: cutStatusMessage); never throws. */
export function grpcStatusOf(err: unknown): { code: GrpcCode; message: string } {
  const { code, message } = uncutStatusOf(err);
  return { code, message: cutStatusMessage(message) };
}

function uncutStatusOf(err: unknown): { code: GrpcCode; message: string } {
  if (err instanceof ClusterError) return { code: err.code, message: err.message };
  if (err instanceof AttributeError) {
    return { code: err.kind === 'busy' ? GrpcCode.FAILED_PRECONDITION : GrpcCode.INVALID_ARGUMENT, message: err.message };
  }
  if (isRedisUnavailable(err)) {
    return { code: GrpcCode.UNAVAILABLE, message: `redis unavailable: ${(err as Error).message ?? String(err)}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: GrpcCode.INTERNAL, message: `internal error: ${message}` };
}

/** A grpc-js ServiceError for a callback or `call.destroy()`. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const { code, message } = grpcStatusOf(err);
  return { code, details: message, message, metadata: new Metadata() };
}
