// Mirrors the naming of a gendisk's state (`struct gendisk` -> `blk_mq_tag_set`, the
// null_blk page xarray): the one module that builds every Redis key of rnull-cluster.
//
// Every key of a disk is `${prefix}blk:{${disk}}:…`. The braces are a Redis Cluster hash
// tag, so all keys of one disk hash to one slot and a Lua script may touch any of them.
//
// Invariants:
//   - No other module concatenates key strings; a key that is not built here does not exist.
//   - Disk names and prefixes never contain `{` or `}`, so the disk is always the hash tag.
//   - `diskPattern(disk)` matches exactly the keys built for that disk under this prefix.
//   - Cluster-wide keys carry no hash tag and never match a `diskPattern`.

import { checkDiskName as checkBlkDiskName } from '#blk-mq';

/** Characters that SCAN's MATCH treats as glob syntax. */
const GLOB_META = /[*?[\]\\]/g;

/**
 * Throws a `ConfigError` unless `disk` is a valid disk name (blk-mq's `checkDiskName`,
 * the one rule: 1..31 bytes of letters, digits, '.', '-', '_'); returns it.
 */
export function checkDiskName(disk: string): string {
  return checkBlkDiskName('disk', disk);
}

/** The three keys of one batch queue (`leased-queue.ts`), all in one hash slot. */
export interface BatchQueueKeys {
  /** List: messages not yet taken. */
  readonly wait: string;
  /** Sorted set: taken messages by lease expiry. */
  readonly leased: string;
  /** Sorted set: one member while `wait` may hold messages. */
  readonly marker: string;
}

function queueKeys(base: string): BatchQueueKeys {
  return { wait: `${base}wait`, leased: `${base}leased`, marker: `${base}marker` };
}

/** diskBase keeps at most this many disks' bases (names that passed the check); then it starts over. */
const DISK_BASES_KEPT = 4096;

export class KeySchema {
  private readonly diskBases = new Map<string, string>();

  /**
   * @param prefix prepended to every key (a namespace per deployment or per test). Must
   *   not contain `{` or `}`. Use it instead of the ioredis `keyPrefix` option, which does
   *   not apply to SCAN patterns.
   */
  constructor(readonly prefix: string = '') {
    if (/[{}]/.test(prefix)) {
      throw new RangeError(`bad key prefix ${JSON.stringify(prefix)}: braces would move the hash tag`);
    }
  }

  /** `${prefix}blk:{${disk}}:` — the start of every key of `disk`. */
  diskBase(disk: string): string {
    // Made and checked once per disk, not per key: the IO path builds several keys a batch.
    let base = this.diskBases.get(disk);
    if (base === undefined) {
      base = `${this.prefix}blk:{${checkDiskName(disk)}}:`;
      if (this.diskBases.size >= DISK_BASES_KEPT) this.diskBases.clear();
      this.diskBases.set(disk, base);
    }
    return base;
  }

  /** SCAN MATCH pattern for every key of `disk` under this prefix. */
  diskPattern(disk: string): string {
    return `${this.diskBase(disk).replace(GLOB_META, (c) => `\\${c}`)}*`;
  }

  /** SCAN MATCH pattern for every key under this prefix (tests clean up with it). */
  prefixPattern(): string {
    return `${this.prefix.replace(GLOB_META, (c) => `\\${c}`)}*`;
  }

  // ---- tag space (`struct blk_mq_tag_set`); the tags' state lives in each owner's engine ----

  /** Hash: the tag space's shape (`nr_hw_queues`, `queue_depth`, `shared_tag_bitmap`, `recycle`), `layOutTagSpace`. */
  tableMeta(disk: string): string {
    return `${this.diskBase(disk)}tags:meta`;
  }

  // ---- zoned mode (null_blk's `struct nullb_zone` array, DESIGN I17) ----

  /** Hash: the zone table of a zoned disk: its shape, counters and each changed zone (`include/zones.lua`). */
  zones(disk: string): string {
    return `${this.diskBase(disk)}zones`;
  }

  // ---- memory backing (the null_blk / rnull xarray of pages) ----

  /** Set: the page numbers of every stored page of `disk` (DESIGN I8). */
  pageIndex(disk: string): string {
    return `${this.diskBase(disk)}pages`;
  }

  /**
   * String-key prefix of the pages: page `p` (exactly 4096 bytes) is `pagePrefix + p` in
   * decimal (DESIGN I8). Only written pages exist. Lua scripts get the prefix and append
   * the number; `page` builds the same name in TypeScript.
   */
  pagePrefix(disk: string): string {
    return `${this.diskBase(disk)}page:`;
  }

  /** String key of page `p` of `disk` (`pagePrefix + p`). */
  page(disk: string, p: number): string {
    return `${this.pagePrefix(disk)}${p}`;
  }

  /** Set: the page numbers of the pages in the disk's write-back cache (`cache_size`, DESIGN I13). */
  cacheIndex(disk: string): string {
    return `${this.diskBase(disk)}cached`;
  }

  /**
   * String-key prefix of the cached pages: cached page `p` is `cachePrefix + p`, a whole
   * page as reads see it (DESIGN I13). Only the page scripts write them; power off deletes them.
   */
  cachePrefix(disk: string): string {
    return `${this.diskBase(disk)}cache:`;
  }

  /**
   * String-key prefix of one batch's staged write pages: page `j` (from 0) of op `op` waits
   * in `pageStage(disk, batch, op) + j` until the fenced script RENAMEs it into place (I8).
   * `batch` must be unique among the disk's batches in flight (owner epoch and a counter).
   */
  pageStage(disk: string, batch: string, op: number): string {
    return `${this.diskBase(disk)}stage:${batch}:${op}:`;
  }

  /**
   * String-key prefix of one batch's staged pages when the whole batch is staged writes
   * (moveStagedPages): page `p` waits in `stagedPagePrefix(disk, batch) + p` until the
   * fenced script RENAMEs it into place (I8). `batch` as for `pageStage`.
   */
  stagedPagePrefix(disk: string, batch: string): string {
    return `${this.diskBase(disk)}stage:${batch}:p`;
  }

  /**
   * String counter: FLUSHes of `disk` that waited for replicas. `ReplicaSync` writes it
   * before its WAIT, so the WAIT covers every earlier write of the slot (I9).
   */
  flushCounter(disk: string): string {
    return `${this.diskBase(disk)}flushes`;
  }

  /**
   * Hash: the disk's bandwidth budget for `mbps` (null_blk's `cur_bytes`): `tick`, the
   * tick it was last charged in, and `bytes`, what was left then (`takeBandwidth-1.lua`,
   * DESIGN I12). Exists only while an `mbps` disk moves data (it expires when idle).
   */
  bandwidthBudget(disk: string): string {
    return `${this.diskBase(disk)}bw`;
  }

  /** Hash: request-data field -> payload bytes, for copies that never pass through Node. */
  requestData(disk: string): string {
    return `${this.diskBase(disk)}rqdata`;
  }

  // ---- the shared tag set (null_blk's module-wide `tag_set` of shared_tags, DESIGN I15) ----

  /**
   * Hash: the one tag set of every disk with `shared_tags` (fields: `sharedTagSet.lua`).
   * Its hash tag `tagset:shared` holds a ':', which no disk name does, so it has a slot of
   * its own and no `diskPattern` matches it; scripts touch it alone (I7).
   */
  sharedTagSet(): string {
    return `${this.prefix}blk:{tagset:shared}:tags`;
  }

  // ---- cluster-wide (not of one disk: no hash tag) ----

  /** Hash: disk name -> JSON disk record (the configfs directory of null_blk). */
  diskRegistry(): string {
    return `${this.prefix}blk:disks`;
  }

  /** String counter: the next disk `index`. */
  diskIndexCounter(): string {
    return `${this.prefix}blk:disks:index`;
  }

  /** String counter: the last registry revision (`DiskRecord.rev`, I16). */
  diskRevisionCounter(): string {
    return `${this.prefix}blk:disks:rev`;
  }

  /** Pub/sub channel of disk lifecycle events. */
  diskEvents(): string {
    return `${this.prefix}blk:events`;
  }

  /** BullMQ prefix of every queue (BullMQ builds its own keys under it). */
  queuePrefix(): string {
    return `${this.prefix}bull`;
  }

  /**
   * BullMQ queue name of `disk`'s delayed requeues. The disk's name is the hash tag, so
   * BullMQ's keys of the queue share the disk's slot (I7).
   */
  requeueQueueName(disk: string): string {
    return `requeue.{${checkDiskName(disk)}}`;
  }

  /** SCAN MATCH pattern for every BullMQ key of `disk`'s requeue queue. */
  requeuePattern(disk: string): string {
    return `${`${this.queuePrefix()}:${this.requeueQueueName(disk)}:`.replace(GLOB_META, (c) => `\\${c}`)}*`;
  }

  // ---- batch queues (`LeasedQueue`: the hctx dispatch lists and completion queues) ----
  /** Keys of the batch queue of hctx `hctx` of `disk`, in the disk's hash slot. */
  hctxQueue(disk: string, hctx: number): BatchQueueKeys {
    return queueKeys(`${this.diskBase(disk)}hctx:${hctx}:`);
  }
  /**
   * Keys of a cluster-wide batch queue (`softirq`, `timer`). The hash tag starts with `/`,
   * which no disk name holds, so no `diskPattern` matches them.
   */
  sharedQueue(name: string): BatchQueueKeys {
    if (!/^[a-z]+$/.test(name)) throw new RangeError(`bad queue name ${JSON.stringify(name)}`);
    return queueKeys(`${this.prefix}blk:{/${name}}:`);
  }
  /**
   * Keys of the disk's completion batch queue `kind` (v2: softirq or timer ends of the
   * disk, in the disk's hash slot so `endBatch-6.lua` can forward to it).
   */
  diskQueue(disk: string, kind: 'softirq' | 'timer'): BatchQueueKeys {
    if (kind !== 'softirq' && kind !== 'timer') throw new RangeError(`bad disk queue ${JSON.stringify(kind)}`);
    return queueKeys(`${this.diskBase(disk)}${kind}:`);
  }

  // ---- owners and tag budget (v2: the owner holds the request, DESIGN §3) ----

  /** Hash: `used:<pool>` tags held by all owners, `held:<epoch>:<pool>` by one owner. */
  tagBudget(disk: string): string {
    return `${this.diskBase(disk)}tags:budget`;
  }

  /** String counter: the last owner epoch handed out. */
  ownerEpoch(disk: string): string {
    return `${this.diskBase(disk)}epoch`;
  }

  /** Sorted set: live owner epochs, score = lease expiry in ms since the epoch. */
  owners(disk: string): string {
    return `${this.diskBase(disk)}owners`;
  }

  /**
   * List: end messages for owner `epoch`. Always `completionListPrefix(disk) + epoch`:
   * `renewOwner-3.lua` builds it that way for owners it reclaims.
   */
  completionList(disk: string, epoch: number): string {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`bad owner epoch ${epoch}`);
    return `${this.completionListPrefix(disk)}${epoch}`;
  }

  /** The start of every `completionList(disk, epoch)`. */
  completionListPrefix(disk: string): string {
    return `${this.diskBase(disk)}cq:`;
  }

  // ---- completion notices (blk_mq_complete_request -> the submitter) ----

  /** List: completion notices of `disk` for the dispatch instance `instance`. */
  completionNotices(disk: string, instance: string): string {
    return `${this.diskBase(disk)}cq:${instance}`;
  }
}
