// The NBD gateway's own settings, beside the variables every service reads (service-env).
import { DEFAULT_PORTS } from '#cluster';

export interface GatewayEnv {
  /** `DISPATCH_URL`: dispatch's gRPC address, where every IO and disk listing goes. */
  readonly dispatchUrl: string;
  /** `NBD_PORT` (10809, IANA's NBD port); 0 picks a free port. */
  readonly nbdPort: number;
  /** `NBD_HOST`, default 127.0.0.1 (0.0.0.0 in containers). */
  readonly nbdHost: string;
  /** `NBD_MAX_CONNECTIONS` (256). */
  readonly maxConnections: number;
  /** `NBD_MAX_IN_FLIGHT`: commands in flight per connection (128). */
  readonly maxInFlight: number;
}

/** Every variable `readGatewayEnv` reads: the compose drift test compares them too. */
export const GATEWAY_ENV_VARIABLES = ['DISPATCH_URL', 'NBD_PORT', 'NBD_HOST', 'NBD_MAX_CONNECTIONS', 'NBD_MAX_IN_FLIGHT'] as const;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Reads the gateway's settings; throws naming the variable on a bad value. */
export function readGatewayEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return {
    dispatchUrl: env.DISPATCH_URL || `127.0.0.1:${DEFAULT_PORTS.dispatchGrpc}`,
    nbdPort: int(env, 'NBD_PORT', DEFAULT_PORTS.nbdGateway, 0),
    nbdHost: env.NBD_HOST || '127.0.0.1',
    maxConnections: int(env, 'NBD_MAX_CONNECTIONS', 256, 1),
    maxInFlight: int(env, 'NBD_MAX_IN_FLIGHT', 128, 1),
  };
}
