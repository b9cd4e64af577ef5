// One Redis or a Redis Cluster behind the `Redis` type the libs take (DESIGN I7): what code
// that must reach the nodes themselves (SCAN, which walks one node's keyspace) asks.
import type { Cluster, Redis } from 'ioredis';

/** True when `redis` is an ioredis `Cluster` (service-kit's connections for REDIS_CLUSTER_NODES). */
export function isRedisCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/** The cluster client behind `redis`; throws unless `isRedisCluster(redis)`. */
export function asRedisCluster(redis: Redis): Cluster {
  if (!isRedisCluster(redis)) throw new Error('not a Redis Cluster client');
  return redis as unknown as Cluster;
}

/**
 * The connections that together hold every key: `redis` itself, or each master of a
 * cluster (as ioredis last saw the topology). A key is on exactly one of them.
 */
export function keyspaceConnections(redis: Redis): Redis[] {
  return isRedisCluster(redis) ? asRedisCluster(redis).nodes('master') : [redis];
}
