// Mirrors `blk_mq_alloc_tag_set` / `blk_mq_update_nr_hw_queues` for a disk of the
// cluster: the shape of its tag space (`tags:meta`), which gendisk lays out at power-on
// and every dispatch instance reads when it opens the disk. The tags themselves are
// counted in the budget (`queueBatch-6.lua`); their state lives in each owner's engine.
import type { Redis } from 'ioredis';
import type { TagSpaceConfig } from '#blk-mq';
import type { KeySchema } from './key-schema';
import { scriptsFor } from './lua-scripts';
import { checkReply } from './script-errors';
import { metaArgs, parseMeta, checkTagSpace } from './tag-space-layout';

/** The tag space of `disk`, or undefined when it was never laid out (never powered on). */
export async function readTagSpace(redis: Redis, keys: KeySchema, disk: string): Promise<TagSpaceConfig | undefined> {
  return parseMeta(await redis.hgetall(keys.tableMeta(disk)));
}

/**
 * Lays out the tag space of `disk`, or replaces one of another shape. Throws
 * `TableBusyError` while an owner holds a tag of the old shape. Returns what it did.
 */
export async function layOutTagSpace(redis: Redis, keys: KeySchema, disk: string, config: TagSpaceConfig): Promise<'same' | 'created' | 'reshaped'> {
  const reply = await scriptsFor(redis).run('layOutTagSpace', [keys.tableMeta(disk), keys.tagBudget(disk)], metaArgs(checkTagSpace(config)));
  const r = checkReply<number>('layOutTagSpace', reply as number, disk);
  return r === 0 ? 'same' : r === 1 ? 'created' : 'reshaped';
}
