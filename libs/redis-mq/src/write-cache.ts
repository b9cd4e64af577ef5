// Mirrors null_blk's `null_free_device_storage(dev, true)` at power off: a disk's
// write-back cache (`cache_size`, DESIGN I13) dropped with everything it held. The cache
// itself is moved only by the page scripts (runPageOps, runOwnedPageOps, include
// writeCache.lua); this is the one other place that touches its keys.
import type { Redis } from 'ioredis';
import type { KeySchema } from './key-schema';

const CHUNK = 1000;

/**
 * Deletes the disk's cached pages and their index: what no FLUSH, FUA or write-back put
 * in the store is lost, as at a power cut. Returns the pages dropped. Two plain commands
 * per chunk, all in the disk's slot (I7); a page script running meanwhile either ran
 * before (its pages are dropped) or finds the cache as this left it.
 */
export async function dropWriteCache(redis: Redis, keys: KeySchema, disk: string): Promise<number> {
  const index = keys.cacheIndex(disk);
  let dropped = 0;
  for (;;) {
    const pages = await redis.spop(index, CHUNK);
    if (pages.length === 0) return dropped;
    await redis.del(...pages.map((p) => `${keys.cachePrefix(disk)}${p}`));
    dropped += pages.length;
  }
}
