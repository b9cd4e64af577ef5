// Mirrors `rq->state` (MQ_RQ_IDLE / MQ_RQ_IN_FLIGHT / MQ_RQ_COMPLETE) and `rq->ref` of one
// request slot: the one definition of every `TableOp` transition, used by the in-process
// table and by the driver host's per-batch journal; the contract suite holds it.

import { BlkStatus } from './blk-status';
import { OpResult, RecycleMode, RequestToken, RqState, TableOp } from './request-table';
import type { SlotView } from './request-table';

/**
 * The mutable state of one slot.
 *
 * Invariants (kept by `applyOp` and `allocSlot`):
 *   - `state === Idle` exactly when `refs === 0`;
 *   - `deadlineMs` is 0 unless `state === InFlight`;
 *   - `gen` only grows, by one per allocation.
 */
export interface SlotRecord {
  /** With shared tags: the hctx that took the slot last. */
  hctx: number;
  readonly tag: number;
  gen: number;
  state: RqState;
  refs: number;
  /** Status of the last end (kept after recycling, for tests and metrics). */
  status: number;
  deadlineMs: number;
}

export function newSlot(hctx: number, tag: number): SlotRecord {
  return { hctx, tag, gen: 0, state: RqState.Idle, refs: 0, status: BlkStatus.OK, deadlineMs: 0 };
}

/** A frozen copy, safe to hand out. */
export function viewOf(s: SlotRecord): SlotView {
  return Object.freeze({ ...s });
}

/** True when `t` names the live request in `s` (same hctx, tag and generation, not IDLE). */
export function isCurrent(s: SlotRecord, t: RequestToken): boolean {
  return s.state !== RqState.Idle && s.gen === t.gen && s.hctx === t.hctx && s.tag === t.tag;
}

/** IDLE -> ALLOCATED for `hctx`: gen += 1, refs = 1 (the submitter's). Caller ensures IDLE. */
export function allocSlot(s: SlotRecord, hctx: number): RequestToken {
  s.hctx = hctx;
  s.gen += 1;
  s.state = RqState.Allocated;
  s.refs = 1;
  s.deadlineMs = 0;
  return { hctx, tag: s.tag, gen: s.gen };
}

/**
 * Applies one op to the slot its token names. Returns `Recycled` exactly when the slot
 * went back to IDLE; a negative result changed nothing. Semantics are those of `TableOp`,
 * plus: `requeue` with fewer than 2 references returns NoReference (giving the driver's
 * reference back would leave the request without a holder).
 */
export function applyOp(s: SlotRecord, op: TableOp, recycle: RecycleMode): OpResult {
  if (!isCurrent(s, op.token)) return OpResult.Stale;
  switch (op.op) {
    case 'start':
      if (s.state === RqState.Allocated) {
        s.state = RqState.InFlight;
        s.refs += 1;
        s.deadlineMs = op.deadlineMs;
        return OpResult.Ok;
      }
      if (s.state === RqState.InFlight) {
        s.deadlineMs = op.deadlineMs;
        return OpResult.AlreadyStarted;
      }
      return OpResult.BadState;
    case 'requeue':
      if (s.state !== RqState.InFlight) return OpResult.BadState;
      if (s.refs < 2) return OpResult.NoReference;
      s.refs -= 1;
      s.state = RqState.Allocated;
      s.deadlineMs = 0;
      return OpResult.Ok;
    case 'end':
      if (s.state === RqState.Complete) return OpResult.AlreadyComplete;
      if (op.drop && s.refs < 1) return OpResult.NoReference;
      s.state = RqState.Complete;
      s.status = op.status;
      s.deadlineMs = 0;
      if (recycle === 'inline') return toIdle(s);
      return op.drop ? release(s) : OpResult.Ok;
    case 'ref':
      s.refs += 1;
      return OpResult.Ok;
    case 'drop':
      return release(s);
  }
}

/** refs -= 1; the last reference of an unended request ends it with IOERR, then recycles. */
function release(s: SlotRecord): OpResult {
  if (s.refs < 1) return OpResult.NoReference;
  s.refs -= 1;
  if (s.refs > 0) return OpResult.Ok;
  if (s.state !== RqState.Complete) s.status = BlkStatus.IOERR;
  return toIdle(s);
}

function toIdle(s: SlotRecord): OpResult {
  s.state = RqState.Idle;
  s.refs = 0;
  s.deadlineMs = 0;
  return OpResult.Recycled;
}
