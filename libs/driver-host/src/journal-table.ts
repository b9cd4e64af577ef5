// Mirrors, inside one worker, the slots of the requests of one batch: a local copy that
// `Request` objects act on synchronously, whose ops are journaled: the ends among them go
// back to the requests' owner as end records (the owner's table is the authority, I2).
import {
  applyOp,
  isCurrent,
  newSlot,
  OpResult,
  type RecycleMode,
  type RequestToken,
  RqState,
  type SlotRecord,
  type SlotView,
  type SyncRequestTable,
  type TableOp,
  viewOf,
} from '#blk-mq';

function slotKey(hctx: number, tag: number): string {
  return `${hctx}:${tag}`;
}

/**
 * Invariants:
 *   - Holds only the slots it was given; any other token is STALE here.
 *   - Every op that succeeded locally is in `journal`, in order; `take()` empties it.
 *   - Local results are provisional: the owner may refuse an end that succeeded here (the
 *     request timed out meanwhile); the owner counts such refusals.
 */
export class JournalTable implements SyncRequestTable {
  private readonly slots = new Map<string, SlotRecord>();
  private journal: TableOp[] = [];

  constructor(
    readonly disk: string,
    private readonly recycle: RecycleMode,
  ) {}

  /** Adds a request known to be IN_FLIGHT with the driver's reference (after `start`). */
  addInFlight(t: RequestToken): void {
    const s = newSlot(t.hctx, t.tag);
    s.gen = t.gen;
    s.state = RqState.InFlight;
    s.refs = 2;
    this.slots.set(slotKey(t.hctx, t.tag), s);
  }

  applySync(ops: readonly TableOp[]): OpResult[] {
    return ops.map((op) => {
      const s = this.slots.get(slotKey(op.token.hctx, op.token.tag));
      if (!s) return OpResult.Stale;
      const r = applyOp(s, op, this.recycle);
      // `start` again on a request started before the batch reached the driver: local only.
      if (r >= 0 && !(op.op === 'start' && r === OpResult.AlreadyStarted)) this.journal.push(op);
      return r;
    });
  }

  slotSync(hctx: number, tag: number): SlotView {
    return viewOf(this.slots.get(slotKey(hctx, tag)) ?? newSlot(hctx, tag));
  }

  isCurrent(t: RequestToken): boolean {
    const s = this.slots.get(slotKey(t.hctx, t.tag));
    return s !== undefined && isCurrent(s, t);
  }

  /** The journaled ops since the last call. */
  take(): TableOp[] {
    const j = this.journal;
    this.journal = [];
    return j;
  }
}
