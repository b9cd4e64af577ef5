// Mirrors the indexing of `struct blk_mq_tags` (`tags->static_rqs[tag]`, one tag map per
// hctx or one shared map): how a (hctx, tag) maps to a slot index in Redis, and how a
// slot is encoded in the `tags:slots` hash.
//
// Invariants:
//   - Per-hctx tags: slot index = hctx * queueDepth + tag; hctx h owns indexes
//     [h * queueDepth, (h + 1) * queueDepth). Shared tags: slot index = tag, every hctx
//     allocates from [0, queueDepth), and the record remembers the hctx that took it.
//   - A record is `gen:state:refs:status:hctx`, all non-negative integers; a missing
//     record is an unused IDLE slot of generation `gen_base` (0 unless reshaped). The
//     Lua scripts in `lua/` parse and write this same format.

import {
  ConfigError,
  MAX_HW_QUEUES,
  MAX_QUEUE_DEPTH,
  RqState,
  type RecycleMode,
  type RequestToken,
  type TagSpaceConfig,
} from '#blk-mq';

/** A slot as stored, before it is shaped into a `SlotView`. */
export interface SlotRecord {
  readonly gen: number;
  readonly state: RqState;
  readonly refs: number;
  readonly status: number;
  readonly hctx: number;
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
  if (typeof cfg.sharedTags !== 'boolean') {
    throw new ConfigError('TagSpaceConfig.sharedTags', 'must be a boolean', cfg.sharedTags);
  }
  if (!RECYCLE_MODES.includes(cfg.recycle)) {
    throw new ConfigError('TagSpaceConfig.recycle', "must be one of 'on-drop', 'inline'", cfg.recycle);
  }
  return Object.freeze({
    nrHwQueues: checkInt('TagSpaceConfig.nrHwQueues', cfg.nrHwQueues, 1, MAX_HW_QUEUES),
    queueDepth: checkInt('TagSpaceConfig.queueDepth', cfg.queueDepth, 1, MAX_QUEUE_DEPTH),
    sharedTags: cfg.sharedTags,
    recycle: cfg.recycle,
  });
}

/** Index arithmetic of one disk's tag space. */
export class TagSpaceLayout {
  readonly config: TagSpaceConfig;

  constructor(
    readonly disk: string,
    config: TagSpaceConfig,
  ) {
    this.config = checkTagSpace(config);
  }

  /** Number of slots: queueDepth with shared tags, nrHwQueues * queueDepth otherwise. */
  get slotCount(): number {
    const { nrHwQueues, queueDepth, sharedTags } = this.config;
    return sharedTags ? queueDepth : nrHwQueues * queueDepth;
  }

  /** First and last slot index `hctx` allocates from. */
  pool(hctx: number): [lo: number, hi: number] {
    this.checkHctx(hctx);
    const d = this.config.queueDepth;
    return this.config.sharedTags ? [0, d - 1] : [hctx * d, hctx * d + d - 1];
  }

  slotIndex(hctx: number, tag: number): number {
    this.checkHctx(hctx);
    if (!isIntIn(tag, 0, this.config.queueDepth - 1)) {
      throw new RangeError(`${this.disk}: bad tag ${tag}: want an integer in 0..${this.config.queueDepth - 1}`);
    }
    return this.config.sharedTags ? tag : hctx * this.config.queueDepth + tag;
  }

  /** The slot index a token names, or -1 when it names no slot of this tag space. */
  tokenIndexOrNone(t: RequestToken): number {
    const { nrHwQueues, queueDepth, sharedTags } = this.config;
    if (!isIntIn(t.hctx, 0, nrHwQueues - 1) || !isIntIn(t.tag, 0, queueDepth - 1)) return -1;
    if (!isIntIn(t.gen, 0, Number.MAX_SAFE_INTEGER)) return -1;
    return sharedTags ? t.tag : t.hctx * queueDepth + t.tag;
  }

  tagOf(index: number): number {
    return this.config.sharedTags ? index : index % this.config.queueDepth;
  }

  checkHctx(hctx: number): void {
    if (!isIntIn(hctx, 0, this.config.nrHwQueues - 1)) {
      throw new RangeError(`${this.disk}: bad hctx ${hctx}: want an integer in 0..${this.config.nrHwQueues - 1}`);
    }
  }
}

/** Parses a `tags:slots` record; an empty or missing one is an unused IDLE slot of `genBase`. */
export function parseSlotRecord(rec: string | null | undefined, hctx: number, genBase = 0): SlotRecord {
  if (!rec) return { gen: genBase, state: RqState.Idle, refs: 0, status: 0, hctx };
  const m = /^(\d+):(\d+):(\d+):(\d+):(\d+)$/.exec(rec);
  if (!m) throw new Error(`corrupt request-table record ${JSON.stringify(rec)}`);
  return {
    gen: Number(m[1]),
    state: Number(m[2]) as RqState,
    refs: Number(m[3]),
    status: Number(m[4]),
    hctx: Number(m[5]),
  };
}

/** Encodes the table's config as the `tags:meta` hash fields, in `createTable-5.lua` order. */
export function metaArgs(cfg: TagSpaceConfig): [string, string, string, string] {
  return [String(cfg.nrHwQueues), String(cfg.queueDepth), cfg.sharedTags ? '1' : '0', cfg.recycle];
}

/** Decodes the `tags:meta` hash; undefined when the table does not exist. */
export function parseMeta(meta: Record<string, string>): TagSpaceConfig | undefined {
  if (!meta.nr_hw_queues) return undefined;
  return checkTagSpace({
    nrHwQueues: Number(meta.nr_hw_queues),
    queueDepth: Number(meta.queue_depth),
    sharedTags: meta.shared_tags === '1',
    recycle: meta.recycle as TagSpaceConfig['recycle'],
  });
}
