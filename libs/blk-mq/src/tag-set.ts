// Mirrors `struct blk_mq_tag_set` and Rust `kernel::block::mq::TagSet`: the shape of a
// disk's hardware queues and tags, validated once, shared by every disk built from it.

import { ConfigError, checkBool, checkInt, checkOneOf } from './config-check';
import { MAX_HW_QUEUES, MAX_QUEUE_DEPTH } from './inproc-request-table';
import type { RecycleMode, TagSpaceConfig } from './request-table';

/**
 * The request timeout of a queue whose tag set leaves `timeout` 0: block/blk-mq.c,
 * blk_mq_init_allocated_queue(), `blk_queue_rq_timeout(q, set->timeout ? set->timeout :
 * 30 * HZ)`. The kernel names no constant for it (BLK_DEFAULT_SG_TIMEOUT, 60 s, is SG_IO's
 * default, not the queue's). Rust's `TagSet::new` (rust/kernel/block/mq/tag_set.rs) leaves
 * `timeout` 0, so the seed's rnull runs with it; C null_blk sets `5 * HZ` instead
 * (null_init_tag_set() in drivers/block/null_blk/main.c), which would also end IO that
 * waits out a Redis failover (up to 20 s of retries) with TIMEOUT. The one owner of the
 * default: `TAG_SET_DEFAULTS` and rnull's `timeout_ms` attribute take it from here.
 */
export const DEFAULT_RQ_TIMEOUT_MS = 30_000;

/** null_blk's defaults (`submit_queues=1`, `hw_queue_depth=64`) and blk-mq's request timeout. */
export const TAG_SET_DEFAULTS = Object.freeze({
  nrHwQueues: 1,
  queueDepth: 64,
  sharedTagBitmap: false,
  recycle: 'on-drop' as RecycleMode,
  timeoutMs: DEFAULT_RQ_TIMEOUT_MS,
});

/** Largest request timeout accepted (a day); bigger values are almost surely unit mistakes. */
export const MAX_TIMEOUT_MS = 86_400_000;

export interface TagSetOptions {
  /** Hardware dispatch queues (`nr_hw_queues`, null_blk `submit_queues`), 1..1024. */
  readonly nrHwQueues?: number;
  /** Tags per hctx (`queue_depth`, null_blk `hw_queue_depth`), 1..10240. */
  readonly queueDepth?: number;
  /** One pool of `queueDepth` tags for all hctxs (BLK_MQ_F_TAG_HCTX_SHARED, `shared_tag_bitmap`). */
  readonly sharedTagBitmap?: boolean;
  /** 'on-drop': a slot recycles when its last reference drops; 'inline': at end. */
  readonly recycle?: RecycleMode;
  /** Request timeout (`set->timeout`), ms; the timeout handler acts on older IN_FLIGHT requests. */
  readonly timeoutMs?: number;
}

/**
 * A validated tag set.
 *
 * Invariants: every field is within its documented range; the object is immutable.
 */
export class TagSet {
  readonly nrHwQueues: number;
  readonly queueDepth: number;
  readonly sharedTagBitmap: boolean;
  readonly recycle: RecycleMode;
  readonly timeoutMs: number;

  /** Throws `ConfigError` naming `TagSet.<field>` for a value out of range. */
  constructor(opts: TagSetOptions = {}) {
    const o = { ...TAG_SET_DEFAULTS, ...stripUndefined(opts) };
    for (const k of Object.keys(opts)) {
      if (!(k in TAG_SET_DEFAULTS)) throw new ConfigError(`TagSet.${k}`, 'is not a tag set option', (opts as Record<string, unknown>)[k]);
    }
    this.nrHwQueues = checkInt('TagSet.nrHwQueues', o.nrHwQueues, 1, MAX_HW_QUEUES);
    this.queueDepth = checkInt('TagSet.queueDepth', o.queueDepth, 1, MAX_QUEUE_DEPTH);
    this.sharedTagBitmap = checkBool('TagSet.sharedTagBitmap', o.sharedTagBitmap);
    this.recycle = checkOneOf('TagSet.recycle', o.recycle, ['on-drop', 'inline'] as const);
    this.timeoutMs = checkInt('TagSet.timeoutMs', o.timeoutMs, 1, MAX_TIMEOUT_MS);
    Object.freeze(this);
  }

  /** The request-table shape of this tag set. */
  get config(): TagSpaceConfig {
    return { nrHwQueues: this.nrHwQueues, queueDepth: this.queueDepth, sharedTagBitmap: this.sharedTagBitmap, recycle: this.recycle };
  }

  /** Tags of the whole set: `queueDepth` when shared, `nrHwQueues * queueDepth` otherwise. */
  get totalTags(): number {
    return this.sharedTagBitmap ? this.queueDepth : this.nrHwQueues * this.queueDepth;
  }

  toString(): string {
    return `TagSet{${this.nrHwQueues} hctx x ${this.queueDepth} tags${this.sharedTagBitmap ? ' shared' : ''}, recycle ${this.recycle}, timeout ${this.timeoutMs} ms}`;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
