// Which TLS client identity may do what over NBD: `NBD_AUTH_IDENTITIES=name:role,…`, where
// `name` is a client certificate's CN or a PSK username (NBD_TLS_PSK_FILE) and `role` one of
// gRPC's roles (grpc-auth's role.ts): `read` is served read-only, `write` and `admin` read
// and write (NBD has nothing of admin's to do). DESIGN I19.
//
// Contract: a malformed list throws an Error naming NBD_AUTH_IDENTITIES and the entry's
// number; an identity without a role is refused (NBD_REP_ERR_POLICY) with a message naming
// it, and a connection with no identity likewise.
import { isRole, ROLES, type Role, roleGrants } from '#grpc-auth';
import type { NbdAccess, NbdAccessPolicy, NbdIdentity } from '#nbd';

export const NBD_AUTH_IDENTITIES = 'NBD_AUTH_IDENTITIES';

export class NbdIdentityTable {
  private constructor(private readonly roles: ReadonlyMap<string, Role>) {}

  /** Parses `name:role[,name:role…]` (a name may hold spaces and `:`, not `,`; the last `:` splits). */
  static parse(text: string, setting = NBD_AUTH_IDENTITIES): NbdIdentityTable {
    const roles = new Map<string, Role>();
    text.split(',').forEach((raw, i) => {
      const where = `${setting}: entry ${i + 1}`;
      const entry = raw.trim();
      const colon = entry.lastIndexOf(':');
      const name = colon < 0 ? '' : entry.slice(0, colon).trim();
      const role = colon < 0 ? '' : entry.slice(colon + 1).trim();
      if (entry === '') throw new Error(`${where} is empty (the list is name:role[,name:role…])`);
      if (colon < 0 || name === '') throw new Error(`${where} is not name:role (a certificate CN or PSK username, then its role)`);
      if (!isRole(role)) throw new Error(`${where}: the role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      if (roles.has(name)) throw new Error(`${where} repeats the identity ${JSON.stringify(name)}`);
      roles.set(name, role);
    });
    return new NbdIdentityTable(roles);
  }

  get size(): number {
    return this.roles.size;
  }

  roleOf(identity: NbdIdentity | undefined): Role | undefined {
    return identity && this.roles.get(identity.name);
  }

  /** The access policy of the NBD server: `read` read-only, `write` and up read-write, others refused. */
  readonly policy: NbdAccessPolicy = (identity): NbdAccess => {
    if (!identity)
      return { refused: `this server gives access by TLS client identity (${NBD_AUTH_IDENTITIES}): present a client certificate or PSK` };
    const role = this.roleOf(identity);
    const what = identity.kind === 'certificate' ? 'client certificate CN' : 'PSK username';
    if (!role) return { refused: `the ${what} ${JSON.stringify(identity.name)} has no role in ${NBD_AUTH_IDENTITIES}` };
    return { readOnly: !roleGrants(role, 'write') };
  };

  toJSON(): { identities: number } {
    return { identities: this.roles.size };
  }
}
