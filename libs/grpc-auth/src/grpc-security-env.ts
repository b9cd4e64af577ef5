// The settings of gRPC security, read from the environment (each service's, through
// readServiceEnv; `npm start`'s and the tests' for their own clients):
//
//   GRPC_TLS_CERTIFICATES=DIR   TLS for every gRPC server and client of the process
//                               (tls-directory.ts: nbdkit's layout; ca-cert.pem = mutual TLS)
//   RNULL_AUTH_TOKENS=t:r,…     the tokens a server accepts and their roles (token-table.ts);
//   RNULL_AUTH_TOKENS_FILE=F      or the same in a file. Neither: no check (every caller may
//                               do everything), the loopback default
//   RNULL_TOKEN=T               the token this process presents as a client (to gendisk, to
//   RNULL_TOKEN_FILE=F            dispatch); or a file holding it
//
// Contract: a bad value throws an Error whose message starts with the variable's name
// (and names the file), never with a token or a key.
import * as fs from 'node:fs';
import { inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { authorizationInterceptor } from './authorization-interceptor';
import { ClientSecurity } from './client-security';
import { serverTlsCredentials, type TlsDirectory, verifiesClients } from './tls-directory';
import { TokenTable } from './token-table';

/** Every variable this module reads (services list them in SERVICE_ENV_VARIABLES). */
export const GRPC_SECURITY_VARIABLES = [
  'GRPC_TLS_CERTIFICATES',
  'RNULL_AUTH_TOKENS',
  'RNULL_AUTH_TOKENS_FILE',
  'RNULL_TOKEN',
  'RNULL_TOKEN_FILE',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** What a gRPC server of the process binds with. */
export interface ServerSecurity {
  readonly credentials: grpc.ServerCredentials;
  /** True when the server speaks TLS; `verifiesClients` when it also asks for client certificates. */
  readonly tls: boolean;
  readonly verifiesClients: boolean;
  /** The token table, when tokens are checked. */
  readonly tokens?: TokenTable;
  /** The server interceptors (the authorization check, when tokens are checked). */
  readonly interceptors: grpc.ServerInterceptor[];
  /** What it is, without keys or tokens (the credentials hold the key; this is what prints). */
  toJSON(): { tls: boolean; verifiesClients: boolean; tokens: number };
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/** `GRPC_TLS_CERTIFICATES`, when set. */
export function tlsDirectoryOf(env: Env): TlsDirectory | undefined {
  return set(env.GRPC_TLS_CERTIFICATES) ? { dir: env.GRPC_TLS_CERTIFICATES, setting: 'GRPC_TLS_CERTIFICATES' } : undefined;
}

/** Reads `name`=file, naming the variable when it cannot. */
function readSettingFile(name: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${name}=${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`}`);
  }
}

/** `RNULL_AUTH_TOKENS` or `RNULL_AUTH_TOKENS_FILE`, parsed; undefined when neither is set. */
export function readTokenTable(env: Env): TokenTable | undefined {
  const inline = env.RNULL_AUTH_TOKENS;
  const file = env.RNULL_AUTH_TOKENS_FILE;
  if (set(inline) && set(file)) throw new Error('RNULL_AUTH_TOKENS and RNULL_AUTH_TOKENS_FILE are both set: set one');
  if (set(file)) return TokenTable.parse(readSettingFile('RNULL_AUTH_TOKENS_FILE', file), `RNULL_AUTH_TOKENS_FILE=${file}`, true);
  if (set(inline)) return TokenTable.parse(inline, 'RNULL_AUTH_TOKENS');
  return undefined;
}

/** `RNULL_TOKEN` or the one token in `RNULL_TOKEN_FILE`; undefined when neither is set. */
export function readClientToken(env: Env): string | undefined {
  const inline = env.RNULL_TOKEN;
  const file = env.RNULL_TOKEN_FILE;
  if (set(inline) && set(file)) throw new Error('RNULL_TOKEN and RNULL_TOKEN_FILE are both set: set one');
  if (!set(file) && !set(inline)) return undefined;
  const name = set(file) ? `RNULL_TOKEN_FILE=${file}` : 'RNULL_TOKEN';
  const token = (set(file) ? readSettingFile('RNULL_TOKEN_FILE', file) : (inline ?? '')).trim();
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`${name} must hold one token of visible ASCII characters`);
  return token;
}

/** The server side: TLS from GRPC_TLS_CERTIFICATES, the token check from RNULL_AUTH_TOKENS(_FILE). */
export function readServerSecurity(env: Env): ServerSecurity {
  const at = tlsDirectoryOf(env);
  const tls = at ? serverTlsCredentials(at) : undefined;
  const tokens = readTokenTable(env);
  const summary = { tls: tls !== undefined, verifiesClients: tls?.verifiesClients ?? false, tokens: tokens?.size ?? 0 };
  const security: ServerSecurity & { [inspect.custom]?: () => string } = {
    credentials: tls?.credentials ?? grpc.ServerCredentials.createInsecure(),
    tls: summary.tls,
    verifiesClients: summary.verifiesClients,
    tokens,
    interceptors: tokens ? [authorizationInterceptor(tokens)] : [],
    toJSON: () => summary,
  };
  security[inspect.custom] = () => `ServerSecurity(${JSON.stringify(summary)})`;
  return security;
}

/**
 * The client side: TLS from GRPC_TLS_CERTIFICATES, the token from RNULL_TOKEN(_FILE). For
 * a service (`service`), a directory with `ca-cert.pem` makes its servers ask for client
 * certificates, so its own client certificate is required.
 */
export function readClientSecurity(env: Env, service = false): ClientSecurity {
  const at = tlsDirectoryOf(env);
  return ClientSecurity.of({
    tls: at,
    requireClientCertificate: service && at !== undefined && verifiesClients(at),
    token: readClientToken(env),
  });
}
