// The environment contract of every service (DESIGN section 5): each setting, its variable
// and its default in one place, so `npm start` and docker-compose.yml can pass the same.
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { DEFAULT_FLUSH_TIMEOUT_MS } from '#redis-mq';
import { type ClientSecurity, GRPC_SECURITY_VARIABLES, readClientSecurity, readServerSecurity, type ServerSecurity } from '#grpc-auth';
import { type GrpcLimits, GRPC_LIMIT_VARIABLES, readGrpcLimits } from './grpc-limits';
import { readRedisCredentials, REDIS_CREDENTIAL_VARIABLES, type RedisCredentials } from './redis-credentials';

/** How long a dispatch instance's owner lease lasts without renewal, ms (`OWNER_LEASE_MS`). */
export const DEFAULT_OWNER_LEASE_MS = 5000;

/** Default addresses of the cluster; `npm start` and the compose file use the same. */
export const DEFAULT_PORTS = Object.freeze({
  dispatchGrpc: 50051,
  gendiskGrpc: 50052,
  dispatchHttp: 9101,
  gendiskHttp: 9102,
  rnullHttp: 9103,
  completionHttp: 9104,
  nbdGateway: 10809,
  nbdGatewayHttp: 9105,
});

export interface ServiceEnv {
  /** Which service this process is (`dispatch`, `gendisk`, `rnull`, `completion`). */
  readonly service: string;
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`: one Redis (ignored with REDIS_CLUSTER_NODES). */
  readonly redisUrl: string;
  /**
   * `REDIS_CLUSTER_NODES=host:port,…`: seed nodes of a Redis Cluster; when set, every
   * connection is an ioredis `Cluster` that finds the rest of the nodes itself (DESIGN I7).
   */
  readonly redisClusterNodes?: readonly RedisNodeAddress[];
  /**
   * `REDIS_USERNAME` and `REDIS_PASSWORD_FILE` (redis-credentials.ts): the ACL user and the
   * file with its password; undefined when neither is set. Never logged (DESIGN I20).
   */
  readonly redisCredentials?: RedisCredentials;
  /**
   * What a FLUSH or FUA write waits for (DESIGN I9): `REDIS_FLUSH_REPLICAS` replicas must
   * hold every earlier write (default 1 with REDIS_CLUSTER_NODES, else 0: nothing to wait
   * for), within `REDIS_FLUSH_TIMEOUT_MS` (default 2000), else the FLUSH fails with IOERR.
   */
  readonly flush: { readonly replicas: number; readonly timeoutMs: number };
  /** `KEY_PREFIX`: prepended to every Redis key and BullMQ queue (tests isolate with it). */
  readonly keyPrefix: string;
  /** `HTTP_PORT`: `/healthz` and `/metrics`; 0 picks a free port. */
  readonly httpPort: number;
  /** `HTTP_HOST`, default 127.0.0.1 (0.0.0.0 in containers). */
  readonly httpHost: string;
  /** `GRPC_URL` of this service's own gRPC server, where it has one. */
  readonly grpcUrl: string;
  /** `GENDISK_URL`: where dispatch forwards the GenDisk API. */
  readonly gendiskUrl: string;
  /** `INSTANCE_ID`: unique per process; completion notices are routed by it. */
  readonly instanceId: string;
  /** `WORKER_CONCURRENCY`: batches a worker process runs at once. */
  readonly workerConcurrency: number;
  /** `REQUEST_TIMEOUT_SCAN_MS`: how often dispatch scans for timed-out requests. */
  readonly timeoutScanMs: number;
  /** `STALLED_INTERVAL_MS`: how soon a dead worker's batch is delivered again. */
  readonly stalledIntervalMs: number;
  /** `OWNER_LEASE_MS`: how soon the tags of a dispatch instance that died come back. */
  readonly ownerLeaseMs: number;
  /**
   * `DRIVER_PLACEMENT` (dispatch): `remote` (default) sends every batch to the rnull and
   * completion worker processes; `local` runs the driver inside dispatch, on the same
   * Redis tag budget and page store (one process hop fewer per IO each way).
   */
  readonly driverPlacement: DriverPlacementName;
  /**
   * How this service's gRPC server binds and whom it lets in, where it has one (GRPC_URL):
   * TLS from `GRPC_TLS_CERTIFICATES`, tokens and roles from `RNULL_AUTH_TOKENS` or
   * `RNULL_AUTH_TOKENS_FILE` (README "Security"). Read, and every file checked, at start.
   */
  readonly grpcServer?: ServerSecurity;
  /** The limits of this service's gRPC server, where it has one (grpc-limits.ts). */
  readonly grpcLimits: GrpcLimits;
  /**
   * How this service calls another one's gRPC (dispatch and rnull call gendisk, the NBD
   * gateway calls dispatch): TLS from the same `GRPC_TLS_CERTIFICATES` (its client
   * certificate required when the directory holds `ca-cert.pem`), and the token of
   * `RNULL_TOKEN` or `RNULL_TOKEN_FILE` for the calls the service makes on its own.
   */
  readonly grpcClient: ClientSecurity;
}

/** One seed node of `REDIS_CLUSTER_NODES`. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `REDIS_CLUSTER_NODES` (`host:port,host:port,…`, IPv6 hosts in brackets); undefined
 * when unset or empty. Throws naming the variable and the bad entry.
 */
export function readRedisClusterNodes(raw: string | undefined): RedisNodeAddress[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((entry) => {
    const m = /^\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\s*$/.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new Error(`REDIS_CLUSTER_NODES must be host:port[,host:port…], got ${JSON.stringify(entry)} in ${JSON.stringify(raw)}`);
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** The values of `DRIVER_PLACEMENT`. */
export const DRIVER_PLACEMENTS = ['remote', 'local'] as const;
export type DriverPlacementName = (typeof DRIVER_PLACEMENTS)[number];

/** `DRIVER_PLACEMENT`, checked; `fallback` when unset (the services' own default is remote). */
export function readDriverPlacement(raw: string | undefined, fallback: DriverPlacementName = 'remote'): DriverPlacementName {
  const value = raw || fallback;
  if (!(DRIVER_PLACEMENTS as readonly string[]).includes(value)) {
    throw new Error(`DRIVER_PLACEMENT must be one of ${DRIVER_PLACEMENTS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return value as DriverPlacementName;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Setting `name` of `env` as a whole number >= 1 (`fallback` when unset); a bad value
 * throws naming the variable. (For REDIS_FLUSH_TIMEOUT_MS, 0 would mean "wait for ever" to WAIT.)
 */
export function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = int(env, name, fallback);
  if (n < 1) throw new Error(`${name} must be a whole number >= 1, got ${JSON.stringify(env[name])}`);
  return n;
}

const HTTP_DEFAULTS: Record<string, number> = {
  dispatch: DEFAULT_PORTS.dispatchHttp,
  gendisk: DEFAULT_PORTS.gendiskHttp,
  rnull: DEFAULT_PORTS.rnullHttp,
  completion: DEFAULT_PORTS.completionHttp,
  'nbd-gateway': DEFAULT_PORTS.nbdGatewayHttp,
};

const GRPC_DEFAULTS: Record<string, string> = {
  dispatch: `127.0.0.1:${DEFAULT_PORTS.dispatchGrpc}`,
  gendisk: `127.0.0.1:${DEFAULT_PORTS.gendiskGrpc}`,
};

/** Random part of the default INSTANCE_ID: one per process, so every read agrees. */
const PROCESS_NONCE = randomBytes(3).toString('hex');

/** Reads the environment of `service`; throws with the variable's name on a bad value. */
export function readServiceEnv(service: string, env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const keyPrefix = env.KEY_PREFIX ?? '';
  const redisClusterNodes = readRedisClusterNodes(env.REDIS_CLUSTER_NODES);
  if (/[{}]/.test(keyPrefix)) throw new Error('KEY_PREFIX must not contain { or }');
  const grpcUrl = env.GRPC_URL || GRPC_DEFAULTS[service] || '';
  return {
    service,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    redisClusterNodes,
    redisCredentials: readRedisCredentials(env),
    flush: {
      replicas: int(env, 'REDIS_FLUSH_REPLICAS', redisClusterNodes ? 1 : 0),
      timeoutMs: positive(env, 'REDIS_FLUSH_TIMEOUT_MS', DEFAULT_FLUSH_TIMEOUT_MS),
    },
    keyPrefix,
    httpPort: int(env, 'HTTP_PORT', HTTP_DEFAULTS[service] ?? 0),
    httpHost: env.HTTP_HOST || '127.0.0.1',
    grpcUrl,
    gendiskUrl: env.GENDISK_URL || GRPC_DEFAULTS.gendisk,
    instanceId: env.INSTANCE_ID || `${service}-${os.hostname()}-${process.pid}-${PROCESS_NONCE}`,
    workerConcurrency: Math.max(1, int(env, 'WORKER_CONCURRENCY', 4)),
    timeoutScanMs: Math.max(10, int(env, 'REQUEST_TIMEOUT_SCAN_MS', 100)),
    stalledIntervalMs: Math.max(500, int(env, 'STALLED_INTERVAL_MS', 5000)),
    ownerLeaseMs: Math.max(300, int(env, 'OWNER_LEASE_MS', DEFAULT_OWNER_LEASE_MS)),
    driverPlacement: readDriverPlacement(env.DRIVER_PLACEMENT),
    grpcServer: grpcUrl ? readServerSecurity(env) : undefined,
    grpcLimits: readGrpcLimits(env),
    grpcClient: readClientSecurity(env, true),
  };
}

/** Every variable `readServiceEnv` reads: the drift test compares compose with `npm start`. */
export const SERVICE_ENV_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  ...REDIS_CREDENTIAL_VARIABLES,
  'REDIS_FLUSH_REPLICAS',
  'REDIS_FLUSH_TIMEOUT_MS',
  'KEY_PREFIX',
  'HTTP_PORT',
  'HTTP_HOST',
  'GRPC_URL',
  'GENDISK_URL',
  'INSTANCE_ID',
  'WORKER_CONCURRENCY',
  'REQUEST_TIMEOUT_SCAN_MS',
  'STALLED_INTERVAL_MS',
  'OWNER_LEASE_MS',
  'DRIVER_PLACEMENT',
  ...GRPC_SECURITY_VARIABLES,
  ...GRPC_LIMIT_VARIABLES,
] as const;
