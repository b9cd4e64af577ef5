// What a bearer token may do: one of three roles, each including the ones before it
// (admin ⊇ write ⊇ read), as a configfs directory's owner may do what its readers may.
//
//   read   read IO, list and show disks, features, server reflection
//   write  every IO (write, flush, discard, write zeroes) and all of read
//   admin  create, configure, power and delete disks, and all of write

/** The roles, weakest first: a role grants every role before it. */
export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** True when a token holding `held` may do what needs `needed`. */
export function roleGrants(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The stronger of two roles (what a message that needs both needs). */
export function strongerRole(a: Role, b: Role): Role {
  return roleGrants(a, b) ? a : b;
}
