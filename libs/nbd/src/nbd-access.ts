// What a client may do with the exports, decided from the identity it proved over TLS
// (nbd-tls.ts). The host maps identities to roles (dispatch's nbd-identities); this module
// only knows the two answers NBD can express: serve read-write or read-only, or refuse.
import type { NbdIdentity } from './nbd-tls';

/** `readOnly`: exports are offered with NBD_FLAG_READ_ONLY and writes get EPERM (DESIGN I19). */
export type NbdAccess = { readonly readOnly: boolean } | { readonly refused: string };

/**
 * Decides a connection's access when it asks about exports (NBD_OPT_LIST, INFO, GO,
 * EXPORT_NAME). `identity` is undefined for a plain connection or a TLS one without a
 * client identity.
 */
export type NbdAccessPolicy = (identity: NbdIdentity | undefined) => NbdAccess;

/** Every client may read and write: the server without an identity table. */
export const READ_WRITE_FOR_ALL: NbdAccessPolicy = () => ({ readOnly: false });
