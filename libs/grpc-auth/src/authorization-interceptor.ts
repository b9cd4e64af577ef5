// The server side of "who may do what" (DESIGN I18): a grpc-js server interceptor that
// checks every call against the token table (token-table.ts) and the RPC table
// (rpc-roles.ts) before any handler (NestJS's, or server reflection's) sees it.
//
// Contract:
//   - A call without `authorization: Bearer <token>`, or with a token the table does not
//     hold, ends UNAUTHENTICATED before its handler starts.
//   - A call whose token's role does not grant the method's `start` role ends
//     PERMISSION_DENIED before its handler starts.
//   - Where the method checks messages (`RpcRule.message`), a message that needs more than
//     the token's role is not delivered: the call ends PERMISSION_DENIED (on a stream, the
//     handler sees the call cancelled; what it already took runs to its end, unanswered),
//     and nothing after it is delivered either.
//   - Statuses name the method and the roles, never the token.
import * as grpc from '@grpc/grpc-js';
import { bearerTokenOf } from './bearer-token';
import { type Role, roleGrants } from './role';
import { rpcRule } from './rpc-roles';
import type { TokenTable } from './token-table';

export function authorizationInterceptor(tokens: TokenTable): grpc.ServerInterceptor {
  return (method, call) => {
    const rule = rpcRule(method.path);
    let role: Role | undefined;
    let refused = false;
    const refuse = (code: grpc.status, details: string) => {
      refused = true;
      call.sendStatus({ code, details, metadata: new grpc.Metadata() });
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const token = bearerTokenOf(metadata);
        if (token === undefined) {
          refuse(grpc.status.UNAUTHENTICATED, `${method.path} needs metadata "authorization: Bearer <token>"`);
          return;
        }
        role = tokens.roleOf(token);
        if (role === undefined) {
          refuse(grpc.status.UNAUTHENTICATED, `${method.path}: the bearer token is not a known token`);
          return;
        }
        if (!roleGrants(role, rule.start)) {
          refuse(grpc.status.PERMISSION_DENIED, `${method.path} needs role ${rule.start}; the token has role ${role}`);
          return;
        }
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        if (refused || role === undefined) return;
        const needed = rule.message?.(message);
        if (needed !== undefined && !roleGrants(role, needed)) {
          refuse(grpc.status.PERMISSION_DENIED, `${method.path}: this request needs role ${needed}; the token has role ${role}`);
          return;
        }
        next(message);
      })
      .withOnReceiveHalfClose((next) => {
        if (!refused) next();
      })
      .build();
    return new grpc.ServerInterceptingCall(call, { start: (next) => next(listener) });
  };
}
