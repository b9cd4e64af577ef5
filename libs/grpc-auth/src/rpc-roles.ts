// The one table of who may call what (DESIGN I18): every gRPC method a server of the
// cluster serves, and the role (role.ts) its caller's token must hold. The server interceptor
// (authorization-interceptor.ts) asks only this table; the README's "Security" section
// copies it, and rpc-roles.spec.ts fails when a method of blk.v1 has no row.
//
// Contract:
//   - A call needs `start` to begin (checked once, on its metadata).
//   - A method with `message` checks every request message too, before the server sees
//     it: BlockDevice by op, a READ needing `read` and every other op `write` (a stream
//     message needs the strongest of its submissions). Messages are in proto-loader's form
//     (PROTO_LOADER_OPTIONS: enums as numbers), as the server's handlers get them.
//   - A method the table does not name needs `admin` (closed by default).
import { BlockDeviceService, Op } from '#proto/grpc/blk/v1/block_device';
import { GenDiskService } from '#proto/grpc/blk/v1/gen_disk';
import { type Role, strongerRole } from './role';

export interface RpcRule {
  /** The role a call needs to begin. */
  readonly start: Role;
  /** The role one request message needs, where it depends on the message. */
  readonly message?: (message: unknown) => Role;
}

/** A submission's op: READ is `read`, anything else (write, flush, discard, zeroes, zone append and management) `write`. */
export function opRole(op: unknown): Role {
  return op === Op.OP_READ ? 'read' : 'write';
}

const submissionRole = (message: unknown): Role => opRole((message as { op?: unknown } | null)?.op);

const batchRole = (message: unknown): Role =>
  ((message as { submissions?: unknown[] } | null)?.submissions ?? []).reduce<Role>(
    (role, s) => strongerRole(role, submissionRole(s)),
    'read',
  );

/** Server reflection (grpcurl's `list` / `describe`): both versions @grpc/reflection serves. */
export const REFLECTION_METHODS = [
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
] as const;

/** Every method's rule, by its full path (`/package.Service/Method`). */
export const RPC_ROLES: Readonly<Record<string, RpcRule>> = Object.freeze({
  [BlockDeviceService.submit.path]: { start: 'read', message: submissionRole },
  [BlockDeviceService.submitStream.path]: { start: 'read', message: batchRole },
  [BlockDeviceService.reportZones.path]: { start: 'read' },
  [GenDiskService.listDisks.path]: { start: 'read' },
  [GenDiskService.getDisk.path]: { start: 'read' },
  [GenDiskService.features.path]: { start: 'read' },
  [GenDiskService.createDisk.path]: { start: 'admin' },
  [GenDiskService.configureDisk.path]: { start: 'admin' },
  [GenDiskService.powerDisk.path]: { start: 'admin' },
  [GenDiskService.deleteDisk.path]: { start: 'admin' },
  [GenDiskService.setZoneCondition.path]: { start: 'admin' },
  // The schema is public (proto/ in the repository), but only to a holder of a token.
  ...Object.fromEntries(REFLECTION_METHODS.map((path) => [path, { start: 'read' } as RpcRule])),
});

const UNLISTED: RpcRule = Object.freeze({ start: 'admin' });

/** The rule of the method at `path`; `admin` for a method the table does not name. */
export function rpcRule(path: string): RpcRule {
  return Object.hasOwn(RPC_ROLES, path) ? RPC_ROLES[path] : UNLISTED;
}
