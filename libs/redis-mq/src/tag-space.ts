// Mirrors `blk_mq_alloc_tag_set` / `blk_mq_update_nr_hw_queues` for a disk of the
// cluster: the shape of its tag space (`tags:meta`), which gendisk lays out at power-on
// and every dispatch instance reads when it opens the disk. The tags themselves are
// counted in the budget (`queueBatch-6.lua`); their state lives in each owner's engine.
import type { Redis } from 'ioredis';
import { ConfigError, MAX_HW_QUEUES, MAX_QUEUE_DEPTH, type RecycleMode, type TagSpaceConfig } from '#blk-mq';
import type { KeySchema } from './key-schema';
import { scriptsFor } from './lua-scripts';
import { checkReply } from './script-errors';

/** The tag space of `disk`, or undefined when it was never laid out (never powered on). */
export async function readTagSpace(redis: Redis, keys: KeySchema, disk: string): Promise<TagSpaceConfig | undefined> {
  return parseMeta(await redis.hgetall(keys.tableMeta(disk)));
}

/**
 * Where a disk's tags are counted: `own`, its `tags:budget`; `shared`, the shared tag set
 * of every disk with shared_tags (`SharedTagSet`, DESIGN I15).
 */
export type TagSetKind = 'own' | 'shared';

/**
 * Lays out the tag space of `disk`, or replaces one of another shape. Throws
 * `TableBusyError` while an owner holds a tag of the old shape, and with `drained` (the
 * disk is frozen, DESIGN I14) also while any owner's lease is live: each owner of a frozen
 * disk gives its lease up once what it held ended. Returns what it did.
 */
export async function layOutTagSpace(
  redis: Redis,
  keys: KeySchema,
  disk: string,
  config: TagSpaceConfig,
  tagSet: TagSetKind = 'own',
  drained = false,
): Promise<'same' | 'created' | 'reshaped'> {
  const reply = await scriptsFor(redis).run(
    'layOutTagSpace',
    [keys.tableMeta(disk), keys.tagBudget(disk), keys.owners(disk)],
    [...metaArgs(checkTagSpace(config)), tagSet, drained ? String(Date.now()) : ''],
  );
  const r = checkReply<number>('layOutTagSpace', reply as number, disk);
  return r === 0 ? 'same' : r === 1 ? 'created' : 'reshaped';
}

function isIntIn(n: unknown, lo: number, hi: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
}

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (!isIntIn(v, min, max)) throw new ConfigError(field, `must be an integer in ${min}..${max}`, v);
  return v;
}

const RECYCLE_MODES: readonly RecycleMode[] = ['on-drop', 'inline'];

/**
 * A frozen copy of `cfg`, checked with the in-process table's rules; throws a
 * `ConfigError` naming the refused field.
 */
export function checkTagSpace(cfg: TagSpaceConfig): TagSpaceConfig {
  if (typeof cfg.sharedTagBitmap !== 'boolean') {
    throw new ConfigError('TagSpaceConfig.sharedTagBitmap', 'must be a boolean', cfg.sharedTagBitmap);
  }
  if (!RECYCLE_MODES.includes(cfg.recycle)) {
    throw new ConfigError('TagSpaceConfig.recycle', "must be one of 'on-drop', 'inline'", cfg.recycle);
  }
  return Object.freeze({
    nrHwQueues: checkInt('TagSpaceConfig.nrHwQueues', cfg.nrHwQueues, 1, MAX_HW_QUEUES),
    queueDepth: checkInt('TagSpaceConfig.queueDepth', cfg.queueDepth, 1, MAX_QUEUE_DEPTH),
    sharedTagBitmap: cfg.sharedTagBitmap,
    recycle: cfg.recycle,
  });
}

/** Encodes the table's config as the `tags:meta` hash fields, in `createTable-5.lua` order. */
export function metaArgs(cfg: TagSpaceConfig): [string, string, string, string] {
  return [String(cfg.nrHwQueues), String(cfg.queueDepth), cfg.sharedTagBitmap ? '1' : '0', cfg.recycle];
}

/** Decodes the `tags:meta` hash; undefined when the table does not exist. */
export function parseMeta(meta: Record<string, string>): TagSpaceConfig | undefined {
  if (!meta.nr_hw_queues) return undefined;
  return checkTagSpace({
    nrHwQueues: Number(meta.nr_hw_queues),
    queueDepth: Number(meta.queue_depth),
    // `shared_tags` is the field's name in a shape laid out before the rename; the next
    // power on lays the shape out again under the new name.
    sharedTagBitmap: (meta.shared_tag_bitmap ?? meta.shared_tags) === '1',
    recycle: meta.recycle as TagSpaceConfig['recycle'],
  });
}
