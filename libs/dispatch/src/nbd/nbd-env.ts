// The NBD front end's settings, beside the variables every service reads (service-env):
// for the nbd-gateway service, and for dispatch when it serves NBD itself (NBD_IN_DISPATCH).
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '#nbd';
import { DEFAULT_PORTS } from '#service-kit';
import { NBD_SECURITY_VARIABLES, type NbdSecurity, readNbdSecurity } from './nbd-tls-env';

export interface NbdEnv {
  /** `NBD_IN_DISPATCH=1`: dispatch serves NBD in its own process (read by dispatch only). */
  readonly inDispatch: boolean;
  /** `DISPATCH_URL`: dispatch's gRPC address, where the gateway sends IO and listings. */
  readonly dispatchUrl: string;
  /** `NBD_PORT` (10809, IANA's NBD port); 0 picks a free port. */
  readonly nbdPort: number;
  /** `NBD_HOST`, default 127.0.0.1 (0.0.0.0 in containers). */
  readonly nbdHost: string;
  /** `NBD_MAX_CONNECTIONS` (256). */
  readonly maxConnections: number;
  /** `NBD_MAX_IN_FLIGHT`: commands in flight per connection (128). */
  readonly maxInFlight: number;
  /** `NBD_HANDSHAKE_TIMEOUT_MS`: option haggling (TLS included) must end within this (10 s). */
  readonly handshakeTimeoutMs: number;
  /** `NBD_IDLE_TIMEOUT_MS`: close a transmission-phase connection idle this long; 0 (default): never. */
  readonly idleTimeoutMs: number;
  /** NBD_TLS, NBD_TLS_CERTIFICATES, NBD_TLS_PSK_FILE, NBD_AUTH_IDENTITIES (nbd-tls-env.ts). */
  readonly security: NbdSecurity;
}

/** Every variable `readNbdEnv` reads: the compose drift test compares them too. */
export const NBD_ENV_VARIABLES = [
  'NBD_IN_DISPATCH',
  'DISPATCH_URL',
  'NBD_PORT',
  'NBD_HOST',
  'NBD_MAX_CONNECTIONS',
  'NBD_MAX_IN_FLIGHT',
  'NBD_HANDSHAKE_TIMEOUT_MS',
  'NBD_IDLE_TIMEOUT_MS',
  ...NBD_SECURITY_VARIABLES,
] as const;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Reads the NBD settings, certificate and key files included; throws naming the variable on a bad value. */
export function readNbdEnv(env: NodeJS.ProcessEnv = process.env): NbdEnv {
  const flag = env.NBD_IN_DISPATCH ?? '';
  if (!['', '0', '1'].includes(flag)) throw new Error(`NBD_IN_DISPATCH must be 0 or 1, got ${JSON.stringify(flag)}`);
  return {
    inDispatch: flag === '1',
    dispatchUrl: env.DISPATCH_URL || `127.0.0.1:${DEFAULT_PORTS.dispatchGrpc}`,
    nbdPort: int(env, 'NBD_PORT', DEFAULT_PORTS.nbdGateway, 0),
    nbdHost: env.NBD_HOST || '127.0.0.1',
    maxConnections: int(env, 'NBD_MAX_CONNECTIONS', 256, 1),
    maxInFlight: int(env, 'NBD_MAX_IN_FLIGHT', 128, 1),
    handshakeTimeoutMs: int(env, 'NBD_HANDSHAKE_TIMEOUT_MS', DEFAULT_HANDSHAKE_TIMEOUT_MS, 1),
    idleTimeoutMs: int(env, 'NBD_IDLE_TIMEOUT_MS', 0, 0),
    security: readNbdSecurity(env),
  };
}
