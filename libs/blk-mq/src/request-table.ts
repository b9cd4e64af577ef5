// Mirrors the blk-mq request pool (`struct blk_mq_tags` + `rq->state` + `rq->ref`): the
// lifetime of every request slot of one disk, shared by all services.
//
// A slot is (hctx, tag); with shared tags the tag alone names the slot (tags are unique
// across hctxs) and the slot remembers the hctx that took it. Each allocation bumps the slot's generation, so a request is
// named by the token `disk/hctx/tag#gen` and a stale token can never act on the request
// that reuses its tag.
//
// Invariants (DESIGN section 3) that every implementation must keep, and that the shared
// contract suite (`testing/request-table-contract.ts`) checks:
//   1. A tag is never reallocated while a reference to its previous generation is live
//      (recycle 'on-drop'). With recycle 'inline' the tag is freed at end; references
//      still held are then stale and `drop` on them is a no-op returning STALE.
//   2. A request ends at most once. `end` with an old generation returns STALE; `end` on
//      a COMPLETE request of the current generation returns ALREADY_COMPLETE. Neither
//      changes anything.
//   3. Once every reference is dropped (on-drop) or every request has ended (inline), every
//      slot is IDLE.
//
// Every operation is batched: one `apply` call takes an ordered list of ops and returns one
// result code per op, in order, as if they had run one after another with nothing in
// between (the Redis implementation relies on Lua atomicity for that).

/** Where a request slot is in its life. */
export enum RqState {
  /** Owned by the block layer; the tag is free. refs = 0. */
  Idle = 0,
  /** Tag taken by dispatch, not yet started by the driver. refs >= 1. */
  Allocated = 1,
  /** Started by the driver; the timeout clock runs. refs >= 2 on the normal path. */
  InFlight = 2,
  /** Ended with a status; waits for its last reference to drop. */
  Complete = 3,
}

/** How a completed request goes back to IDLE. */
export type RecycleMode = 'on-drop' | 'inline';

/** Names one generation of one request slot of a disk. */
export interface RequestToken {
  readonly hctx: number;
  readonly tag: number;
  readonly gen: number;
}

/** `disk/hctx/tag#gen`: the form used in logs and errors. */
export function formatToken(disk: string, t: RequestToken): string {
  return `${disk}/${t.hctx}/${t.tag}#${t.gen}`;
}

/** Parses `disk/hctx/tag#gen`; throws on anything else. */
export function parseToken(s: string): { disk: string; token: RequestToken } {
  const m = /^([^/]+)\/(\d+)\/(\d+)#(\d+)$/.exec(s);
  if (!m) throw new Error(`bad request token ${JSON.stringify(s)}: want disk/hctx/tag#gen`);
  return { disk: m[1], token: { hctx: Number(m[2]), tag: Number(m[3]), gen: Number(m[4]) } };
}

/**
 * Result of one op. Non-negative codes are success; negative codes are refusals that
 * changed nothing. `tableError()` in `request-errors.ts` maps them to typed errors.
 */
export enum OpResult {
  Ok = 0,
  /** `start` on a request of this generation that is already IN_FLIGHT: a redelivery.
   * The deadline is reset; no new reference is taken (the driver's one is reused). */
  AlreadyStarted = 1,
  /** `drop` released the last reference and the slot went back to IDLE. */
  Recycled = 2,
  /** The token's generation is not the slot's current one, or the slot is IDLE. */
  Stale = -1,
  /** `end` on a request of this generation that already ended. */
  AlreadyComplete = -2,
  /** The op does not apply in the slot's state (e.g. `start` on COMPLETE). */
  BadState = -3,
  /** `drop` with no reference left to drop. */
  NoReference = -4,
}

/**
 * One step of a batch. Semantics (with `s` the slot named by `token`, all ops refused
 * with STALE when `token.gen !== s.gen` or `s.state === IDLE`, and with shared tags also
 * when `token.hctx` is not the hctx that took the slot):
 * - `start`:   ALLOCATED -> IN_FLIGHT, refs += 1 (the driver's), deadline = `deadlineMs`.
 *              IN_FLIGHT -> IN_FLIGHT, deadline reset, returns AlreadyStarted.
 *              COMPLETE -> BadState.
 * - `requeue`: IN_FLIGHT -> ALLOCATED, refs -= 1 (the driver gives its reference back).
 *              BadState unless IN_FLIGHT; NoReference (nothing changes) when refs < 2, since
 *              the reference given back would be the request's last.
 * - `end`:     ALLOCATED | IN_FLIGHT -> COMPLETE with `status`; COMPLETE -> AlreadyComplete.
 *              With `drop: true` the caller's reference is dropped in the same step.
 *              With recycle 'inline' the slot goes straight to IDLE (returns Recycled).
 * - `ref`:     refs += 1 on a live (non-IDLE) request.
 * - `drop`:    refs -= 1; at 0 on a COMPLETE request the slot becomes IDLE (Recycled).
 *              Dropping the last reference of a request that has not ended ends it with
 *              status `BlkStatus.IOERR` first, so no request is ever lost (invariant 3).
 */
export type TableOp =
  | { op: 'start'; token: RequestToken; deadlineMs: number }
  | { op: 'requeue'; token: RequestToken }
  | { op: 'end'; token: RequestToken; status: number; drop?: boolean }
  | { op: 'ref'; token: RequestToken }
  | { op: 'drop'; token: RequestToken };

/** A read-only view of one slot, for tests, metrics and the timeout handler. */
export interface SlotView {
  readonly hctx: number;
  readonly tag: number;
  readonly gen: number;
  readonly state: RqState;
  readonly refs: number;
  /** Status the request ended with; meaningful in COMPLETE. */
  readonly status: number;
  /** Absolute deadline in ms since the epoch; meaningful in IN_FLIGHT. */
  readonly deadlineMs: number;
}

/** Shape of a disk's tag space. */
export interface TagSpaceConfig {
  readonly nrHwQueues: number;
  readonly queueDepth: number;
  /** One pool of `queueDepth` tags shared by every hctx (BLK_MQ_F_TAG_HCTX_SHARED). */
  readonly sharedTagBitmap: boolean;
  readonly recycle: RecycleMode;
}

/** Tag pools of a tag space: one per hctx, or one shared by all (the one owner of this rule). */
export function tagPoolCount(config: Pick<TagSpaceConfig, 'nrHwQueues' | 'sharedTagBitmap'>): number {
  return config.sharedTagBitmap ? 1 : config.nrHwQueues;
}

/** The pool `hctx` takes its tags from. */
export function tagPoolOf(config: Pick<TagSpaceConfig, 'sharedTagBitmap'>, hctx: number): number {
  return config.sharedTagBitmap ? 0 : hctx;
}

/**
 * The request table of one disk. Implementation: `InProcRequestTable` (this library),
 * which the engine of every owner uses (docs/DESIGN.md §3).
 */
export interface RequestTable {
  readonly disk: string;
  readonly config: TagSpaceConfig;

  /**
   * Takes up to `count` free tags of `hctx` (IDLE -> ALLOCATED, gen += 1, refs = 1: the
   * submitter's). Returns fewer, possibly none, when tags run out; never blocks.
   * Generations start at 0, so a tag's first allocation has gen 1.
   */
  alloc(hctx: number, count: number): Promise<RequestToken[]>;

  /** Runs `ops` in order as one atomic step; one result per op. */
  apply(ops: readonly TableOp[]): Promise<OpResult[]>;

  /** IN_FLIGHT requests whose deadline is at or before `nowMs`, at most `limit`. */
  expired(nowMs: number, limit: number): Promise<RequestToken[]>;

  /** Every slot that is not IDLE. */
  busy(): Promise<SlotView[]>;

  /** The slot as it is now (IDLE slots included). */
  slot(hctx: number, tag: number): Promise<SlotView>;
}

/**
 * The synchronous face of a request table that a `Request` acts through: the in-process
 * table, or a service's per-batch journal whose ops are flushed to Redis afterwards.
 */
export interface SyncRequestTable {
  readonly disk: string;
  applySync(ops: readonly TableOp[]): OpResult[];
  slotSync(hctx: number, tag: number): SlotView;
  isCurrent(token: RequestToken): boolean;
}
