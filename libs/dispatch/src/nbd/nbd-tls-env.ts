// The NBD front end's security settings, nbdkit's in environment form:
//
//   NBD_TLS=off|on|require       off (default): no TLS; on: clients may NBD_OPT_STARTTLS;
//                                require: they must before anything else (nbd-tls.ts)
//   NBD_TLS_CERTIFICATES=DIR     the server's certificate in nbdkit's --tls-certificates
//                                layout, read by grpc-auth's tls-directory (one reader of the
//                                layout for gRPC and NBD); ca-cert.pem there = mutual TLS
//   NBD_TLS_PSK_FILE=FILE        or pre-shared keys instead, nbdkit's --tls-psk file
//                                (`username:hexkey` a line, psktool's format)
//   NBD_AUTH_IDENTITIES=n:r,…    client identities and their roles (nbd-identities.ts);
//                                needs NBD_TLS=require and identities (ca-cert.pem or PSK)
//
// Contract: every file is read and checked here, at start; a bad value throws an Error whose
// message starts with the variable's name, never with a key.
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { readServerTlsFiles } from '#grpc-auth';
import { NBD_TLS_MODES, type NbdAccessPolicy, type NbdTls, type NbdTlsMode } from '#nbd';
import { NBD_AUTH_IDENTITIES, NbdIdentityTable } from './nbd-identities';

export const NBD_SECURITY_VARIABLES = ['NBD_TLS', 'NBD_TLS_CERTIFICATES', 'NBD_TLS_PSK_FILE', NBD_AUTH_IDENTITIES] as const;

/** What the NBD server is given: TLS and the access policy, and what of them may be logged. */
export interface NbdSecurity {
  readonly tls?: NbdTls;
  readonly access?: NbdAccessPolicy;
  readonly summary: { readonly tls: NbdTlsMode; readonly verifiesClients: boolean; readonly pskUsers: number; readonly identities: number };
}

type Env = Readonly<Record<string, string | undefined>>;
const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/** GnuTLS's PSK usernames: no `:` and no line breaks; keys: hex digits, whole bytes. */
const PSK_LINE = /^([^:\s][^:]*):([0-9a-fA-F]+)$/;

/** Reads an nbdkit / psktool PSK file: `username:hexkey` a line, blank lines skipped. */
export function readPskFile(file: string): ReadonlyMap<string, Buffer> {
  const setting = `NBD_TLS_PSK_FILE=${file}`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${setting}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`}`);
  }
  const keys = new Map<string, Buffer>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = PSK_LINE.exec(line);
    if (!m || m[2].length % 2 !== 0) throw new Error(`${setting}: line ${i + 1} is not username:hexkey (an even number of hex digits)`);
    if (keys.has(m[1])) throw new Error(`${setting}: line ${i + 1} repeats the username ${JSON.stringify(m[1])}`);
    keys.set(m[1], Buffer.from(m[2], 'hex'));
  });
  if (keys.size === 0) throw new Error(`${setting} holds no username:hexkey line`);
  return keys;
}

/** Reads and checks the NBD security settings (see the top of this file). */
export function readNbdSecurity(env: Env): NbdSecurity {
  const mode = (set(env.NBD_TLS) ? env.NBD_TLS : 'off') as NbdTlsMode;
  if (!NBD_TLS_MODES.includes(mode))
    throw new Error(`NBD_TLS must be one of ${NBD_TLS_MODES.join(', ')}, got ${JSON.stringify(env.NBD_TLS)}`);
  const dir = env.NBD_TLS_CERTIFICATES;
  const pskFile = env.NBD_TLS_PSK_FILE;
  const identities = env[NBD_AUTH_IDENTITIES];
  if (mode === 'off') {
    for (const [name, value] of [
      ['NBD_TLS_CERTIFICATES', dir],
      ['NBD_TLS_PSK_FILE', pskFile],
    ] as const)
      if (set(value)) throw new Error(`${name} is set but NBD_TLS is off: set NBD_TLS=on or NBD_TLS=require, or unset ${name}`);
    if (set(identities)) throw new Error(`${NBD_AUTH_IDENTITIES} needs NBD_TLS=require (identities are proved over TLS)`);
    return { summary: { tls: 'off', verifiesClients: false, pskUsers: 0, identities: 0 } };
  }
  if (set(dir) && set(pskFile)) throw new Error('NBD_TLS_CERTIFICATES and NBD_TLS_PSK_FILE are both set: set one');
  if (!set(dir) && !set(pskFile)) throw new Error(`NBD_TLS=${mode} needs NBD_TLS_CERTIFICATES=DIR (or NBD_TLS_PSK_FILE=FILE)`);

  let nbdTls: NbdTls;
  let pskUsers = 0;
  if (set(dir)) {
    const { cert, key, ca } = readServerTlsFiles({ dir, setting: 'NBD_TLS_CERTIFICATES' });
    nbdTls = { mode, secureContext: tls.createSecureContext({ cert, key, ca: ca ?? undefined }), verifiesClients: ca !== null };
  } else {
    const keys = readPskFile(pskFile!);
    pskUsers = keys.size;
    // Node offers PSK cipher suites over TLS 1.2 only; GnuTLS (libnbd, qemu) agrees on one there.
    nbdTls = {
      mode,
      secureContext: tls.createSecureContext({ ciphers: 'PSK', maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }),
      verifiesClients: false,
      pskKey: (username) => keys.get(username),
    };
  }

  let table: NbdIdentityTable | undefined;
  if (set(identities)) {
    if (mode !== 'require')
      throw new Error(`${NBD_AUTH_IDENTITIES} needs NBD_TLS=require (identities are proved over TLS), got NBD_TLS=${mode}`);
    if (!nbdTls.verifiesClients && !nbdTls.pskKey)
      throw new Error(`${NBD_AUTH_IDENTITIES} needs client identities: ca-cert.pem in NBD_TLS_CERTIFICATES=${dir}, or NBD_TLS_PSK_FILE`);
    table = NbdIdentityTable.parse(identities);
  }
  return {
    tls: nbdTls,
    access: table?.policy,
    summary: {
      tls: mode,
      verifiesClients: nbdTls.verifiesClients,
      pskUsers,
      identities: table?.size ?? 0,
    },
  };
}
