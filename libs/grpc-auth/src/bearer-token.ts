// How a bearer token travels on a gRPC call: the `authorization` metadata entry,
// `Bearer <token>` (RFC 6750's header, as grpc-go's oauth and grpcurl's -H send it).
// One owner for the key and the scheme: the client interceptor and the server check both
// come from here.
import * as grpc from '@grpc/grpc-js';

/** The metadata key of the token (gRPC metadata keys are lower case). */
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/** The value of the `authorization` entry for `token`. */
export function bearerValue(token: string): string {
  return `Bearer ${token}`;
}

/**
 * The token of a call's metadata: the one `authorization` entry, scheme `Bearer` (any
 * case). Undefined when there is none, more than one, or another scheme.
 */
export function bearerTokenOf(metadata: grpc.Metadata): string | undefined {
  const values = metadata.get(AUTHORIZATION_METADATA_KEY);
  if (values.length !== 1) return undefined;
  const m = /^Bearer +(\S+)\s*$/i.exec(String(values[0]));
  return m ? m[1] : undefined;
}

/** Metadata that carries only the `authorization` entry of `from` (for a call passed on). */
export function authorizationOf(from: grpc.Metadata): grpc.Metadata {
  const out = new grpc.Metadata();
  for (const value of from.get(AUTHORIZATION_METADATA_KEY)) out.add(AUTHORIZATION_METADATA_KEY, value);
  return out;
}

/**
 * A client interceptor that adds `authorization: Bearer <token>` to every call's metadata
 * (unary and streams alike), unless the call already carries an `authorization` entry.
 */
export function bearerTokenInterceptor(token: string): grpc.Interceptor {
  const value = bearerValue(token);
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        if (metadata.get(AUTHORIZATION_METADATA_KEY).length === 0) metadata.set(AUTHORIZATION_METADATA_KEY, value);
        next(metadata, listener);
      },
    });
}
