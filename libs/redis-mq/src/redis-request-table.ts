// Mirrors the blk-mq request pool (`struct blk_mq_tags` + `rq->state`, `rq->ref`,
// `rq->deadline`) kept in Redis, so every service of the cluster shares one request table.
//
// Layout (keys from `KeySchema`, all in the disk's hash slot):
//   tags:meta       hash  the tag space's shape; exists exactly while the table exists
//   tags:slots      hash  slot index -> `gen:state:refs:status:hctx` (tag-space-layout.ts)
//   tags:free       zset  free slot indexes scored by index; alloc takes the lowest first
//   tags:deadlines  zset  slot index of every IN_FLIGHT request, scored by deadline ms
//   tags:stats      hash  counters of refused ops, for metrics
//
// Invariants (those of request-table.ts, held by Lua atomicity — every mutation is one
// script run, so no other client ever sees a half-applied batch):
//   - A slot index is in `tags:free` exactly when its slot is IDLE.
//   - A slot index is in `tags:deadlines` exactly when its slot is IN_FLIGHT.
//   - A live (non-IDLE) slot has refs >= 1; the drop of the last reference recycles it.
//   - Every refusal (negative OpResult) is counted in `tags:stats` and changes nothing else.
//   - With `applyAndNotify`, a notice is pushed exactly for each end the batch accepted.
//
// Cost (command-count.spec.ts measures it): `alloc` is one EVALSHA running six commands
// (HGET, ZRANGE, ZREMRANGEBYSCORE, HMGET, HSET, HINCRBY; one more HINCRBY when short),
// whatever the count. `apply` is one EVALSHA running one HMGET and one HSET, at most two
// ZADD, one ZREM, one RPUSH and one HINCRBY per counter that moved, whatever the batch
// size (per 1000 distinct slots).

import type { Redis } from 'ioredis';
import {
  BlkStatus,
  RqState,
  type OpResult,
  type RequestTable,
  type RequestToken,
  type SlotView,
  type TableOp,
  type TagSpaceConfig,
} from '#blk-mq';
import { type BatchQueueKeys, KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptArg, type ScriptRunner } from './lua-scripts';
import { checkReply, scriptError, ScriptCode } from './script-errors';
import { TagSpaceLayout, metaArgs, parseMeta, parseSlotRecord, type SlotRecord } from './tag-space-layout';

/**
 * What a disk's table did and refused, kept in Redis (`tags:stats`) so every service
 * reports the same numbers. Same fields as `InProcRequestTable.counters`, plus `dropEnded`.
 */
export interface TableCounters {
  /** Requests allocated (IDLE -> ALLOCATED). */
  readonly allocated: number;
  /** Slots that went back to IDLE. */
  readonly recycled: number;
  /** Allocations that got fewer tags than asked for. */
  readonly allocShort: number;
  /** Ops refused with STALE: old generation, IDLE slot, another hctx's tag, or no such slot. */
  readonly staleRejected: number;
  /** `end` refused with ALREADY_COMPLETE. */
  readonly doubleEnds: number;
  /** Ops refused with BAD_STATE. */
  readonly badState: number;
  /** Ops refused with NO_REFERENCE. */
  readonly noReference: number;
  /** Requests ended with IOERR because their last reference dropped before they ended. */
  readonly dropEnded: number;
}

/** A request for `allocAndQueue`: what the batch message carries, and its payload. */
export interface QueuedRequest {
  readonly op: number;
  readonly sector: number;
  readonly bytes: number;
  readonly flags: number;
  /** WRITE data, staged under the request's data field; omitted for none. */
  readonly payload?: Buffer;
}

export interface RedisRequestTableOptions {
  /** Key namespace; defaults to no prefix. */
  readonly keys?: KeySchema;
}

/** Op codes of `applyOps-6.lua`. */
const OP_CODE = { start: 1, requeue: 2, end: 3, endDrop: 4, ref: 5, drop: 6 } as const;

/** Largest `blk_status_t` value. */
const MAX_STATUS = 255;

export class RedisRequestTable implements RequestTable {
  private readonly scripts: ScriptRunner;
  private readonly layout: TagSpaceLayout;
  private readonly keys: ReturnType<KeySchema['tableKeys']>;
  readonly config: TagSpaceConfig;

  private constructor(
    readonly redis: Redis,
    readonly disk: string,
    config: TagSpaceConfig,
    readonly keySchema: KeySchema,
  ) {
    this.layout = new TagSpaceLayout(disk, config);
    this.config = this.layout.config;
    this.scripts = scriptsFor(redis);
    this.keys = keySchema.tableKeys(disk);
  }

  /**
   * Lays out the table of `disk` (every slot IDLE and free, generation 0), or attaches to
   * an identical one. Throws `TableConfigMismatchError` when the disk has a table of
   * another shape.
   */
  static async create(
    redis: Redis,
    disk: string,
    config: TagSpaceConfig,
    options: RedisRequestTableOptions = {},
  ): Promise<RedisRequestTable> {
    return RedisRequestTable.layOut(redis, disk, config, options, 'create');
  }

  /**
   * Like `create`, but a table of another shape is replaced when every slot is IDLE, in
   * one atomic step (blk_mq_update_nr_hw_queues on a frozen queue). Generations carry
   * over, so tokens of the old table stay stale. Throws `TableBusyError` while any
   * request of the old table is live.
   */
  static async reshape(
    redis: Redis,
    disk: string,
    config: TagSpaceConfig,
    options: RedisRequestTableOptions = {},
  ): Promise<RedisRequestTable> {
    return RedisRequestTable.layOut(redis, disk, config, options, 'reshape');
  }

  /** `create` and `reshape`: one createTable-5.lua run, whose last argument picks the mode. */
  private static async layOut(
    redis: Redis,
    disk: string,
    config: TagSpaceConfig,
    options: RedisRequestTableOptions,
    mode: 'create' | 'reshape',
  ): Promise<RedisRequestTable> {
    const table = new RedisRequestTable(redis, checkDiskName(disk), config, options.keys ?? new KeySchema());
    checkReply('createTable', await table.scripts.run('createTable', table.keys, [...metaArgs(config), mode]), disk);
    return table;
  }

  /** Attaches to the existing table of `disk`; throws `TableNotFoundError` when there is none. */
  static async open(redis: Redis, disk: string, options: RedisRequestTableOptions = {}): Promise<RedisRequestTable> {
    const keys = options.keys ?? new KeySchema();
    const config = parseMeta(await redis.hgetall(keys.tableMeta(checkDiskName(disk))));
    if (!config) throw scriptError('open', ScriptCode.NoTable, disk);
    return new RedisRequestTable(redis, disk, config, keys);
  }

  /** Lowest free tags first. A `count` that is not a positive number takes nothing. */
  async alloc(hctx: number, count: number): Promise<RequestToken[]> {
    const [lo, hi] = this.layout.pool(hctx);
    const want = Number.isFinite(count) ? Math.max(0, Math.floor(count)) : 0;
    if (want === 0) return [];
    const [meta, free, slots, , stats] = this.keys;
    // Lua atomicity: no two callers can take the same free tag.
    const reply = await this.scripts.run('allocTags', [meta, free, slots, stats], [lo, hi, want, hctx]);
    const flat = checkReply<number[]>('allocTags', reply as number[], this.disk);
    const tokens: RequestToken[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      tokens.push({ hctx, tag: this.layout.tagOf(flat[i]), gen: flat[i + 1] });
    }
    return tokens;
  }

  /**
   * `alloc` for the first requests of `rqs`, and those that got a tag go to `queue` as one
   * message `head + [[tag, gen, op, sector, bytes, flags], ...] + tail`, their payloads
   * staged in `dataKey` under `hctx:tag:gen`, in the same atomic step. Returns the tokens
   * of the first k requests (k may be 0: no free tag; the rest were not queued).
   * `queue` and `dataKey` must be keys of this disk (`KeySchema.hctxQueue`, `requestData`).
   */
  async allocAndQueue(
    hctx: number,
    rqs: readonly QueuedRequest[],
    queue: BatchQueueKeys,
    dataKey: string,
    head: string,
    tail: string,
  ): Promise<RequestToken[]> {
    const [lo, hi] = this.layout.pool(hctx);
    if (rqs.length === 0) return [];
    const args: ScriptArg[] = [lo, hi, hctx, head, tail, rqs.length];
    for (const r of rqs) {
      if (![r.op, r.sector, r.bytes, r.flags].every(Number.isSafeInteger)) throw new RangeError(`${this.disk}: bad queued request ${JSON.stringify(r)}`);
      args.push(r.op, r.sector, r.bytes, r.flags, r.payload ?? '');
    }
    const [meta, free, slots, , stats] = this.keys;
    // Lua atomicity: no two callers take the same free tag; the batch names only tags taken.
    const reply = await this.scripts.run('allocAndQueue', [meta, free, slots, stats, queue.wait, queue.marker, dataKey], args);
    const flat = checkReply<number[]>('allocAndQueue', reply as number[], this.disk);
    const tokens: RequestToken[] = [];
    for (let i = 0; i < flat.length; i += 2) tokens.push({ hctx, tag: this.layout.tagOf(flat[i]), gen: flat[i + 1] });
    return tokens;
  }

  /** The slot index `t` names (for page gates), or -1 when it names no slot here. */
  slotIndexOf(t: RequestToken): number {
    return this.layout.tokenIndexOrNone(t);
  }

  async apply(ops: readonly TableOp[]): Promise<OpResult[]> {
    return this.runOps(ops, undefined);
  }

  /**
   * `apply`, and every `end` the table accepts pushes the notice `hctx:tag:gen:status`
   * onto the list `noticeKey` (a key of this disk, `KeySchema.completionNotices`) in the
   * same atomic step: a request that ended is always announced, exactly once. A request
   * with read data (request-data field `hctx:tag:gen:r`) has it appended, after `|`, and
   * taken out of the request data: the notice carries it to the submitter.
   */
  async applyAndNotify(ops: readonly TableOp[], noticeKey: string): Promise<OpResult[]> {
    return this.runOps(ops, noticeKey);
  }

  /**
   * The submitter's `drop` of each token, and both its request-data fields (write
   * payload `hctx:tag:gen`, read data `hctx:tag:gen:r`) deleted, whatever the drop's
   * result, in one atomic step.
   */
  async dropAndFreeData(tokens: readonly RequestToken[]): Promise<OpResult[]> {
    if (tokens.length === 0) return [];
    const args: ScriptArg[] = [this.config.recycle === 'inline' ? 1 : 0, BlkStatus.IOERR, 2];
    for (const token of tokens) args.push(...this.encode({ op: 'drop', token }));
    const [, free, slots, deadlines, stats] = this.keys;
    // Lua atomicity: the drops and the data cleanup are one script run.
    return (await this.scripts.run('applyOps', [slots, free, deadlines, stats, stats, this.keySchema.requestData(this.disk)], args)) as OpResult[];
  }

  private async runOps(ops: readonly TableOp[], noticeKey: string | undefined): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    const args: ScriptArg[] = [this.config.recycle === 'inline' ? 1 : 0, BlkStatus.IOERR, noticeKey ? 1 : 0];
    for (const op of ops) args.push(...this.encode(op));
    const [, free, slots, deadlines, stats] = this.keys;
    // Lua atomicity: the whole ordered batch, and its notices, is one script run.
    return (await this.scripts.run('applyOps', [slots, free, deadlines, stats, noticeKey ?? stats, this.keySchema.requestData(this.disk)], args)) as OpResult[];
  }

  async expired(nowMs: number, limit: number): Promise<RequestToken[]> {
    if (!Number.isFinite(nowMs)) throw new RangeError(`${this.disk}: bad nowMs ${nowMs}`);
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`${this.disk}: bad limit ${limit}`);
    if (limit === 0) return [];
    const [, , slots, deadlines] = this.keys;
    const flat = (await this.scripts.run('expiredRequests', [deadlines, slots], [nowMs, limit])) as number[];
    const tokens: RequestToken[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      tokens.push({ hctx: flat[i + 1], tag: this.layout.tagOf(flat[i]), gen: flat[i + 2] });
    }
    return tokens;
  }

  async busy(): Promise<SlotView[]> {
    const [, , slots, deadlines] = this.keys;
    const flat = (await this.scripts.run('busySlots', [slots, deadlines], [])) as string[];
    const views: { index: number; view: SlotView }[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const index = Number(flat[i]);
      views.push({ index, view: this.view(index, parseSlotRecord(flat[i + 1], 0), flat[i + 2]) });
    }
    return views.sort((a, b) => a.index - b.index).map((v) => v.view);
  }

  /** With shared tags `hctx` only has to be in range; the tag names the slot. */
  async slot(hctx: number, tag: number): Promise<SlotView> {
    const index = this.layout.slotIndex(hctx, tag);
    const [meta, , slots, deadlines] = this.keys;
    const reply = await this.scripts.run('readSlot', [slots, deadlines, meta], [index]);
    const [rec, deadline, base] = reply as [string, string, string];
    // A never-used slot belongs to its pool: hctx 0 with shared tags.
    return this.view(index, parseSlotRecord(rec, this.config.sharedTags ? 0 : hctx, Number(base)), deadline);
  }

  /** Refusal counters since the table was created. */
  async counters(): Promise<TableCounters> {
    const h = await this.redis.hgetall(this.keySchema.tableStats(this.disk));
    const n = (k: string) => Number(h[k] ?? 0);
    return {
      allocated: n('allocated'),
      recycled: n('recycled'),
      allocShort: n('alloc_short'),
      staleRejected: n('stale_rejected'),
      doubleEnds: n('double_ends'),
      badState: n('bad_state'),
      noReference: n('no_reference'),
      dropEnded: n('drop_ended'),
    };
  }

  /** Deletes every key of the table in one UNLINK; tokens of the disk become stale. */
  async destroy(): Promise<void> {
    await this.redis.unlink(...this.keys);
  }

  /**
   * Flat ARGV of one op (`applyOps-6.lua`): code, slot index, hctx, gen, arg, tag. A token
   * outside the tag space names no slot and is sent as index -1, which the script refuses
   * as STALE (as the in-process table does). A malformed op throws before anything runs.
   */
  private encode(op: TableOp): ScriptArg[] {
    const t = op.token;
    const index = this.layout.tokenIndexOrNone(t);
    const head = (code: number, arg: ScriptArg): ScriptArg[] =>
      index < 0 ? [code, -1, -1, -1, arg, -1] : [code, index, t.hctx, t.gen, arg, t.tag];
    switch (op.op) {
      case 'start':
        if (!Number.isFinite(op.deadlineMs)) throw new RangeError(`${this.disk}: bad deadlineMs ${op.deadlineMs}`);
        return head(OP_CODE.start, op.deadlineMs);
      case 'requeue':
        return head(OP_CODE.requeue, 0);
      case 'end':
        if (!Number.isInteger(op.status) || op.status < 0 || op.status > MAX_STATUS) {
          throw new RangeError(`${this.disk}: bad status ${op.status}: want an integer in 0..${MAX_STATUS}`);
        }
        return head(op.drop ? OP_CODE.endDrop : OP_CODE.end, op.status);
      case 'ref':
        return head(OP_CODE.ref, 0);
      case 'drop':
        return head(OP_CODE.drop, 0);
      default:
        throw new RangeError(`${this.disk}: unknown table op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }

  private view(index: number, r: SlotRecord, deadline: string): SlotView {
    return {
      hctx: r.hctx,
      tag: this.layout.tagOf(index),
      gen: r.gen,
      state: r.state,
      refs: r.refs,
      status: r.status,
      deadlineMs: r.state === RqState.InFlight && deadline !== '' ? Number(deadline) : 0,
    };
  }
}
