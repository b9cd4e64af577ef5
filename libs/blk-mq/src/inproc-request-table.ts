// Mirrors `struct blk_mq_tags` with its requests for one disk: the tag allocator and the
// state of every request slot, in process. Async methods satisfy `RequestTable`; the
// `*Sync` variants are what the in-process engine and drivers call.

import { checkDiskName, checkInt, checkOneOf, checkBool } from './config-check';
import { allocSlot, applyOp, isCurrent, newSlot, SlotRecord, viewOf } from './request-state';
import {
  OpResult,
  RequestTable,
  RequestToken,
  RqState,
  SlotView,
  SyncRequestTable,
  TableOp,
  TagSpaceConfig,
  tagPoolCount,
  tagPoolOf,
} from './request-table';

/** What a table refused or did, for metrics. */
export interface TableCounters {
  /** Requests allocated (IDLE -> ALLOCATED). */
  allocated: number;
  /** Slots that went back to IDLE. */
  recycled: number;
  /** Allocations that got fewer tags than asked for. */
  allocShort: number;
  /** Ops refused with STALE (old generation or IDLE slot), by any op. */
  staleRejected: number;
  /** `end` refused with ALREADY_COMPLETE. */
  doubleEnds: number;
  /** Ops refused with BAD_STATE. */
  badState: number;
  /** Ops refused with NO_REFERENCE. */
  noReference: number;
}

/** Called after a batch that freed tags, once per freed tag. */
export type TagFreedListener = (hctx: number, tag: number) => void;

/** Largest tag space a table accepts (BLK_MQ_MAX_DEPTH and a generous hctx cap). */
export const MAX_QUEUE_DEPTH = 10240;
export const MAX_HW_QUEUES = 1024;

/**
 * The in-process `RequestTable`.
 *
 * Invariants:
 *   - a tag is on its pool's free list exactly when its slot is IDLE;
 *   - `live` holds exactly the slots that are not IDLE;
 *   - every op of a batch runs through `applyOp`, in order, with nothing in between;
 *   - tag-freed listeners run after the batch, never inside it.
 */
export class InProcRequestTable implements RequestTable, SyncRequestTable {
  readonly config: TagSpaceConfig;
  readonly counters: TableCounters = {
    allocated: 0,
    recycled: 0,
    allocShort: 0,
    staleRejected: 0,
    doubleEnds: 0,
    badState: 0,
    noReference: 0,
  };
  /** `slots[pool][tag]`; one pool when tags are shared, one per hctx otherwise. */
  private readonly slots: SlotRecord[][];
  /** Free tags per pool; popped from the end, so the most recently freed tag goes first. */
  private readonly free: number[][];
  private readonly live = new Set<SlotRecord>();
  private readonly listeners = new Set<TagFreedListener>();

  constructor(
    readonly disk: string,
    config: TagSpaceConfig,
  ) {
    checkDiskName('RequestTable.disk', disk);
    this.config = Object.freeze({
      nrHwQueues: checkInt('TagSpaceConfig.nrHwQueues', config.nrHwQueues, 1, MAX_HW_QUEUES),
      queueDepth: checkInt('TagSpaceConfig.queueDepth', config.queueDepth, 1, MAX_QUEUE_DEPTH),
      sharedTagBitmap: checkBool('TagSpaceConfig.sharedTagBitmap', config.sharedTagBitmap),
      recycle: checkOneOf('TagSpaceConfig.recycle', config.recycle, ['on-drop', 'inline'] as const),
    });
    const pools = tagPoolCount(this.config);
    const depth = this.config.queueDepth;
    this.slots = Array.from({ length: pools }, (_, p) => Array.from({ length: depth }, (_, t) => newSlot(p, t)));
    this.free = Array.from({ length: pools }, () => Array.from({ length: depth }, (_, i) => depth - 1 - i));
  }

  async alloc(hctx: number, count: number): Promise<RequestToken[]> {
    return this.allocSync(hctx, count);
  }

  async apply(ops: readonly TableOp[]): Promise<OpResult[]> {
    return this.applySync(ops);
  }

  async expired(nowMs: number, limit: number): Promise<RequestToken[]> {
    return this.expiredSync(nowMs, limit);
  }

  async busy(): Promise<SlotView[]> {
    return this.busySync();
  }

  async slot(hctx: number, tag: number): Promise<SlotView> {
    return this.slotSync(hctx, tag);
  }

  /** `alloc`, synchronously. Throws RangeError for an hctx outside the tag set. */
  allocSync(hctx: number, count: number): RequestToken[] {
    const pool = this.poolOf(hctx);
    if (pool === undefined) throw new RangeError(`${this.disk}: hctx ${hctx} outside 0..${this.config.nrHwQueues - 1}`);
    const free = this.free[pool];
    const want = Number.isFinite(count) ? Math.max(0, Math.floor(count)) : 0;
    const n = Math.min(want, free.length);
    if (n < want) this.counters.allocShort += 1;
    const out: RequestToken[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.slots[pool][free.pop()!];
      out.push(allocSlot(s, hctx));
      this.live.add(s);
    }
    this.counters.allocated += n;
    return out;
  }

  /** `apply`, synchronously. */
  applySync(ops: readonly TableOp[]): OpResult[] {
    const results: OpResult[] = [];
    let freed: SlotRecord[] | undefined;
    for (const op of ops) {
      const s = this.slotOf(op.token.hctx, op.token.tag);
      const r = s ? applyOp(s, op, this.config.recycle) : OpResult.Stale;
      results.push(r);
      if (r === OpResult.Recycled) {
        this.live.delete(s!);
        this.free[this.poolOf(s!.hctx)!].push(s!.tag);
        this.counters.recycled += 1;
        (freed ??= []).push(s!);
      } else if (r < 0) {
        this.count(r);
      }
    }
    if (freed) for (const s of freed) for (const l of this.listeners) l(s.hctx, s.tag);
    return results;
  }

  /** `expired`, synchronously; earliest deadline first. */
  expiredSync(nowMs: number, limit: number): RequestToken[] {
    const due: SlotRecord[] = [];
    for (const s of this.live) if (s.state === RqState.InFlight && s.deadlineMs <= nowMs) due.push(s);
    due.sort((a, b) => a.deadlineMs - b.deadlineMs);
    return due.slice(0, Math.max(0, limit)).map((s) => ({ hctx: s.hctx, tag: s.tag, gen: s.gen }));
  }

  /** `busy`, synchronously. */
  busySync(): SlotView[] {
    return [...this.live].map(viewOf);
  }

  /** `slot`, synchronously. With shared tags `hctx` is ignored; the tag names the slot. */
  slotSync(hctx: number, tag: number): SlotView {
    const s = this.slotOf(hctx, tag);
    if (!s) throw new RangeError(`${this.disk}: no slot ${hctx}/${tag}`);
    return viewOf(s);
  }

  /** True while `token` names the live request of its slot (no copy, for hot paths). */
  isCurrent(token: RequestToken): boolean {
    const s = this.slotOf(token.hctx, token.tag);
    return s !== undefined && isCurrent(s, token);
  }

  /** Number of free tags `hctx` could allocate now. */
  freeTags(hctx: number): number {
    const pool = this.poolOf(hctx);
    return pool === undefined ? 0 : this.free[pool].length;
  }

  /** Number of slots that are not IDLE. */
  get busyCount(): number {
    return this.live.size;
  }

  /** Subscribes to freed tags; returns the unsubscribe function. */
  onTagFreed(listener: TagFreedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private poolOf(hctx: number): number | undefined {
    if (!Number.isInteger(hctx) || hctx < 0 || hctx >= this.config.nrHwQueues) return undefined;
    return tagPoolOf(this.config, hctx);
  }

  private slotOf(hctx: number, tag: number): SlotRecord | undefined {
    const pool = this.poolOf(hctx);
    return pool === undefined ? undefined : this.slots[pool][tag];
  }

  private count(r: OpResult): void {
    if (r === OpResult.Stale) this.counters.staleRejected += 1;
    else if (r === OpResult.AlreadyComplete) this.counters.doubleEnds += 1;
    else if (r === OpResult.BadState) this.counters.badState += 1;
    else if (r === OpResult.NoReference) this.counters.noReference += 1;
  }
}
