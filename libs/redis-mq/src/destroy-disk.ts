// Mirrors `del_gendisk` + `null_free_dev`: releasing everything a disk owns in Redis, by
// the disk's hash tag rather than by a list that could miss a key added later.
//
// Contract: deletes exactly the keys that `KeySchema` builds for the disk (SCAN MATCH on
// `KeySchema.diskPattern`), with UNLINK so Redis frees large page hashes off the main
// thread. Never FLUSHDB / FLUSHALL. Not atomic: keys written while it runs may survive,
// so callers stop IO to the disk first (the kernel's del_gendisk freezes the queue too).

import type { Redis } from 'ioredis';
import { isRedisCluster, keyspaceConnections } from './cluster-client';
import { KeySchema } from './key-schema';

/** Keys fetched per SCAN step and deleted per UNLINK. */
const SCAN_COUNT = 500;

/**
 * UNLINKs every key matching `pattern`; returns how many were deleted. On a Redis Cluster
 * it walks every master, and deletes key by key (one pipeline a step): a multi-key UNLINK
 * may name one hash slot only, and a pattern may match keys of many.
 */
export async function unlinkMatching(redis: Redis, pattern: string): Promise<number> {
  const cluster = isRedisCluster(redis);
  let deleted = 0;
  for (const node of keyspaceConnections(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (found.length === 0) continue;
      if (!cluster) deleted += await node.unlink(...found);
      else for (const [err, n] of (await node.pipeline(found.map((k) => ['unlink', k])).exec()) ?? []) if (!err) deleted += Number(n);
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * Deletes every key of `disk` (tag space and budget, owners, queues, pages, request data,
 * and BullMQ's keys of its requeue queue); returns the count.
 */
export async function destroyDisk(redis: Redis, disk: string, keys: KeySchema = new KeySchema()): Promise<number> {
  return (await unlinkMatching(redis, keys.diskPattern(disk))) + (await unlinkMatching(redis, keys.requeuePattern(disk)));
}
