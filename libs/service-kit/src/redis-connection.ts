// The Redis connections of a service: reconnect forever with a capped back-off, and fail
// commands fast while Redis is away so callers can answer UNAVAILABLE (DESIGN: bad input
// and lost dependencies never take a service down). One Redis (`REDIS_URL`) or a Redis
// Cluster (`REDIS_CLUSTER_NODES`), behind the same type (DESIGN I7). Every connection of a
// service is made here, with the service's credentials (DESIGN I20); BullMQ's and the
// duplicates made for blocking reads copy them.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { isRedisAuthError, type RedisCredentials, redactRedisUrl, redisCredentialSettings } from './redis-credentials';
import type { RedisNodeAddress } from './service-env';

/** Where a service's Redis is: `ServiceEnv` has both fields. */
export interface RedisTarget {
  readonly redisUrl: string;
  /** Set: a Redis Cluster reached through these seed nodes; `redisUrl` is not used. */
  readonly redisClusterNodes?: readonly RedisNodeAddress[];
  /** `REDIS_USERNAME` / `REDIS_PASSWORD_FILE`: who the service is to Redis (every node of a cluster). */
  readonly redisCredentials?: RedisCredentials;
}

/** How long a service waits at start for a Redis Cluster to answer before it gives up, ms. */
export const CLUSTER_CONNECT_TIMEOUT_MS = 10_000;

const backOff = (times: number) => Math.min(50 * times, 1000);

/** How long a command on a Redis Cluster keeps retrying through a failover, ms. */
export const FAILOVER_RIDE_THROUGH_MS = 20_000;
/** Pause between those retries, ms. */
const FAILOVER_RETRY_MS = 200;

/** A connection for commands: while disconnected, commands fail at once, not queue up. */
export function commandConnection(target: RedisTarget | string, name: string): Redis {
  const node: RedisOptions = {
    ...credentialOptions(target),
    connectionName: name,
    maxRetriesPerRequest: 1,
    retryStrategy: backOff,
    reconnectOnError: () => true,
  };
  const t = asTarget(target);
  if (t.redisClusterNodes) return clusterConnection(t.redisClusterNodes, node);
  return new Redis(t.redisUrl, { ...node, lazyConnect: false, enableOfflineQueue: true } satisfies RedisOptions);
}

/** A connection for BullMQ and blocking reads: BullMQ requires maxRetriesPerRequest null. */
export function blockingConnection(target: RedisTarget | string, name: string): Redis {
  const node: RedisOptions = {
    ...credentialOptions(target),
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: false,
    retryStrategy: backOff,
  };
  const t = asTarget(target);
  if (t.redisClusterNodes) return clusterConnection(t.redisClusterNodes, node);
  return new Redis(t.redisUrl, node);
}

function asTarget(target: RedisTarget | string): RedisTarget {
  return typeof target === 'string' ? { redisUrl: target } : target;
}

/** ioredis's username and password from the target's credentials (a URL's own user part otherwise applies). */
function credentialOptions(target: RedisTarget | string): Pick<RedisOptions, 'username' | 'password'> {
  const c = asTarget(target).redisCredentials;
  return c ? { password: c.password, ...(c.username ? { username: c.username } : {}) } : {};
}

/** How long `checkRedisCredentials` waits for Redis to answer either way before it lets the service start, ms. */
export const CREDENTIAL_CHECK_WAIT_MS = 5000;

/**
 * Resolves once `redis` is ready and may read `probeKey` (a key of the service's own
 * prefix), or at its first failure that is not about credentials (a Redis that is away is
 * waited for, as before, and so is one that answers neither way within
 * CREDENTIAL_CHECK_WAIT_MS); rejects when Redis refuses who the service is, with a message
 * that names the settings to fix and no secret (DESIGN I20). The read matters: a Redis
 * whose default user may only PING lets an unauthenticated client become "ready". For a
 * service's start: wrong credentials stop it there rather than fail every command after.
 */
export function checkRedisCredentials(redis: Redis, target: RedisTarget, probeKey: string): Promise<void> {
  const refused = (err: Error): Error | undefined => {
    const nodeError = (err as Error & { lastNodeError?: Error }).lastNodeError;
    const cause = nodeError && isRedisAuthError(nodeError) ? nodeError : err;
    if (!isRedisAuthError(cause) && !/^NOPERM /.test(cause.message)) return undefined;
    const where = target.redisClusterNodes ? 'the Redis Cluster at REDIS_CLUSTER_NODES' : `the Redis at ${redactRedisUrl(target.redisUrl)}`;
    return new Error(
      `${where} refused this service's credentials (${firstSentence(cause.message)}): check ${redisCredentialSettings(target.redisCredentials, target.redisUrl)}`,
    );
  };
  // A Redis still loading its data, or a host that drops the connect, answers neither way
  // for a while: the service starts meanwhile, as it did before this check. The first
  // error ends the wait, failing it only when it is a refusal of the credentials.
  return untilReady(
    redis,
    CREDENTIAL_CHECK_WAIT_MS,
    (err) => refused(err) ?? 'done',
    () => undefined,
  ).then(() =>
    redis.status !== 'ready'
      ? undefined
      : redis.exists(probeKey).then(
          () => undefined,
          (err: Error) => {
            const why = refused(err);
            if (why) throw why;
          },
        ),
  );
}

/** Redis's refusal up to its first full stop, the part that says what was wrong. */
function firstSentence(message: string): string {
  return message.replace(/^(.{0,120}?[.,]) .*$/s, '$1');
}

/**
 * An ioredis `Cluster` typed as the `Redis` the libs take (DESIGN I7): every command, script
 * and pipeline the libs send names keys of one hash slot, which both serve alike; code that
 * needs the nodes themselves (SCAN, blocking pops across disks) asks redis-mq's `isRedisCluster`.
 */
function clusterConnection(nodes: readonly RedisNodeAddress[], redisOptions: RedisOptions): Redis {
  const options: ClusterOptions = {
    redisOptions,
    enableOfflineQueue: true,
    clusterRetryStrategy: backOff,
    // A failover moves slots: follow MOVED/ASK, and retry a command whose node went away
    // or while the cluster is down, for up to FAILOVER_RIDE_THROUGH_MS, so IO waits out a
    // failover (cluster-node-timeout, 15 s by default, plus the election) rather than failing.
    maxRedirections: Math.ceil(FAILOVER_RIDE_THROUGH_MS / FAILOVER_RETRY_MS),
    retryDelayOnFailover: FAILOVER_RETRY_MS,
    retryDelayOnClusterDown: FAILOVER_RETRY_MS,
    retryDelayOnTryAgain: FAILOVER_RETRY_MS,
    slotsRefreshTimeout: 2000,
    scaleReads: 'master',
  };
  return new Cluster(
    nodes.map((n) => ({ host: n.host, port: n.port })),
    options,
  ) as unknown as Redis;
}

/**
 * Resolves once `redis` is ready; rejects after `timeoutMs` with what it last failed on,
 * naming `where`. For a service's start, so an unreachable Redis Cluster is a clear error
 * rather than a hang.
 */
export function waitRedisReady(redis: Redis, where: string, timeoutMs = CLUSTER_CONNECT_TIMEOUT_MS): Promise<void> {
  let last = 'no answer';
  return untilReady(
    redis,
    timeoutMs,
    (err) => {
      last = err.message;
      const cause = (err as Error & { lastNodeError?: Error }).lastNodeError;
      if (cause) last += ` (${cause.message})`;
      return undefined;
    },
    () => new Error(`${where} did not answer within ${timeoutMs} ms: ${last}`),
  );
}

/**
 * Resolves when `redis` is ready (at once when it is). Each error it emits meanwhile goes
 * to `onError`: an Error ends the wait rejected, 'done' ends it resolved, undefined waits
 * on. After `timeoutMs`, `onTimeout`'s Error rejects, or undefined resolves. The listeners
 * and the timer go when the wait ends.
 */
function untilReady(
  redis: Redis,
  timeoutMs: number,
  onError: (err: Error) => Error | 'done' | undefined,
  onTimeout: () => Error | undefined,
): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('error', errorListener);
      redis.off('ready', readyListener);
      if (err) reject(err);
      else resolve();
    };
    const errorListener = (err: Error) => {
      const verdict = onError(err);
      if (verdict !== undefined) done(verdict === 'done' ? undefined : verdict);
    };
    const readyListener = () => done();
    const timer = setTimeout(() => done(onTimeout()), timeoutMs);
    redis.on('error', errorListener);
    redis.once('ready', readyListener);
  });
}

/** True when `err` says Redis could not be reached (as opposed to a script refusal). */
export function isRedisUnavailable(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return (
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|max retries per request|Stream isn't writeable|enableOfflineQueue/i.test(
      msg,
    ) ||
    /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN) /.test(msg) ||
    /Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|Cluster isn't ready/i.test(msg)
  );
}
