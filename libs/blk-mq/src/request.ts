// Mirrors `struct request` and Rust `kernel::block::mq::Request<T>`: one generation of one
// tag as the driver sees it. Every state change goes through the request table, so a
// `Request` of an old generation can never act on the request that reuses its tag.

import { Bio, SECTOR_SHIFT, Segment } from './bio';
import { BlkStatus } from './blk-status';
import { ReqOp, reqFlagsName, reqOpName } from './req-op';
import { StaleRequestError, checkOpResult } from './request-errors';
import { RequestRef } from './request-ref';
import { OpResult, RequestToken, RqState, type SyncRequestTable, formatToken } from './request-table';

/** What a `Request` needs from the block layer that runs it (the engine). */
export interface RequestHost<T> {
  readonly table: SyncRequestTable;
  /** Request timeout; `start()` sets the deadline to `now() + timeoutMs`. */
  readonly timeoutMs: number;
  now(): number;
  /** The driver data of the request's slot (allocated once per tag, like the kernel's pdu). */
  pduOf(rq: Request<T>): T;
  /** After a successful `start()`. */
  onStart(rq: Request<T>): void;
  /** After the table accepted `end`, exactly once per generation. */
  onEnd(rq: Request<T>, status: BlkStatus): void;
  /** `complete()`: runs `Operations.complete(rq)` later, off the caller's stack. */
  onComplete(rq: Request<T>): void;
  /**
   * `completeAfter(nsec)` hands the request here instead of arming an in-process timer
   * when defined (a service whose timers live in another process). It then owns the
   * driver's reference until it ends the request.
   */
  onCompleteAfter?(rq: Request<T>, nsec: number): void;
  /**
   * The hrtimer `completeAfter` arms when the host keeps the request in process: resolves
   * at `dueMs` (a fractional `Date.now()` time). Without it, `setTimeout` (to a millisecond).
   */
  readonly completionTimer?: (dueMs: number) => Promise<void>;
  /** After `requeue()`: dispatch the request again later. */
  onRequeue(rq: Request<T>): void;
}

/** The first bio's shape; `bytes` grows with later back merges (`Request.backMerge`). */
export interface RequestInit {
  readonly token: RequestToken;
  readonly op: ReqOp;
  readonly flags: number;
  readonly sector: number;
  readonly bytes: number;
  readonly bios: readonly Bio[];
}

/**
 * One request. The driver calls `start()` when it takes the request, then exactly one of
 * `end(status)` / `tryEnd(status)` (directly, or from `Operations.complete` after
 * `complete()`), or `requeue()`.
 *
 * Invariants: the driver's reference is taken by `start()` and released by the `end` or
 * `requeue` that follows it, never twice; nothing here acts on a generation other than
 * `token.gen`.
 */
export class Request<T = unknown> {
  readonly token: RequestToken;
  readonly op: ReqOp;
  readonly flags: number;
  /** First 512-byte sector. */
  readonly sector: number;
  private byteCount: number;
  private segmentCount: number;
  private readonly bioList: Bio[];
  private driverRef = false;
  private hasEnded = false;
  private endStatus: BlkStatus | undefined;
  private landed: number | undefined;

  constructor(
    init: RequestInit,
    private readonly host: RequestHost<T>,
  ) {
    this.token = init.token;
    this.op = init.op;
    this.flags = init.flags;
    this.sector = init.sector;
    this.byteCount = init.bytes;
    this.bioList = [...init.bios];
    this.segmentCount = this.bioList.reduce((n, b) => n + b.segmentCount, 0);
  }

  /** `nr_phys_segments`: segments of all its bios (no two bios share one). */
  get nrPhysSegments(): number {
    return this.segmentCount;
  }

  /**
   * Length in bytes. Grows while the request sits in the plug, when bios are back-merged
   * into it (`backMerge`); fixed once the driver has it.
   */
  get bytes(): number {
    return this.byteCount;
  }

  /** The bios it carries, in disk order; a merged request carries bios of several submissions. */
  get bios(): readonly Bio[] {
    return this.bioList;
  }

  /**
   * `bio_attempt_back_merge`, for the block layer only: appends `bio`, which must start
   * where this request ends, before the request was handed to the driver. The caller
   * checked that it may merge (`canBackMerge`); here only the order is enforced.
   */
  backMerge(bio: Bio): void {
    if (this.driverRef || this.hasEnded) throw new Error(`${this.name}: back merge into a request the driver has or that ended`);
    if (bio.sector !== this.sector + this.sectors) {
      throw new RangeError(`${this.name}: back merge of a bio at sector ${bio.sector}, the request ends at ${this.sector + this.sectors}`);
    }
    this.bioList.push(bio);
    this.byteCount += bio.bytes;
    this.segmentCount += bio.segmentCount;
  }

  /** `disk/hctx/tag#gen`. */
  get name(): string {
    return formatToken(this.host.table.disk, this.token);
  }

  get sectors(): number {
    return this.bytes >> SECTOR_SHIFT;
  }

  /** The typed per-request driver data. Throws `StaleRequestError` once the tag was reused. */
  get pdu(): T {
    if (!this.isCurrent()) throw new StaleRequestError(OpResult.Stale, this.name, `${this.name}: pdu of a stale request`);
    return this.host.pduOf(this);
  }

  /** True while the table's slot holds this generation. */
  isCurrent(): boolean {
    return this.host.table.isCurrent(this.token);
  }

  /** The slot's state for this generation; IDLE once it was recycled. */
  get state(): RqState {
    return this.isCurrent() ? this.host.table.slotSync(this.token.hctx, this.token.tag).state : RqState.Idle;
  }

  /** True once this request ended through this object. */
  get ended(): boolean {
    return this.hasEnded;
  }

  /** The status it ended with, once ended. */
  get status(): BlkStatus | undefined {
    return this.endStatus;
  }

  /** A ZONE_APPEND's sector where its data landed, once the driver set it; undefined otherwise. */
  get landedSector(): number | undefined {
    return this.landed;
  }

  /**
   * null_zone_write's `rq->__sector = sector` for a zone append: where its data landed, set
   * by the driver before it ends the request OK (the block layer passes it to the bio,
   * blk_zone_append_update_request_bio). Only for ZONE_APPEND, before the end.
   */
  setLandedSector(sector: number): void {
    if (this.op !== ReqOp.ZONE_APPEND) throw new Error(`${this.name}: a landed sector is a ZONE_APPEND's, not ${reqOpName(this.op)}'s`);
    if (this.hasEnded) throw new Error(`${this.name}: landed sector set after the end`);
    if (!Number.isSafeInteger(sector) || sector < 0) throw new RangeError(`${this.name}: bad landed sector ${sector}`);
    this.landed = sector;
  }

  /** True while the driver holds the reference `start()` took. */
  get started(): boolean {
    return this.driverRef;
  }

  /** Every segment of every bio, in order. */
  *segments(): IterableIterator<Segment> {
    for (const bio of this.bios) yield* bio.segments();
  }

  /**
   * `blk_mq_start_request`: ALLOCATED -> IN_FLIGHT, the driver's reference is taken and
   * the timeout clock starts. Again on an IN_FLIGHT request it only resets the deadline.
   * Throws a `RequestTableError` when the request is stale or ended.
   */
  start(): void {
    const deadlineMs = this.host.now() + this.host.timeoutMs;
    const r = this.host.table.applySync([{ op: 'start', token: this.token, deadlineMs }])[0];
    checkOpResult(r, this, 'start');
    this.driverRef = true;
    this.host.onStart(this);
  }

  /**
   * `blk_mq_end_request`: ends the request with `status` and releases the driver's
   * reference. Throws `DoubleEndError` if it already ended and `StaleRequestError` if the
   * tag was recycled; a driver whose completion can race the timeout handler uses `tryEnd`.
   */
  end(status: BlkStatus = BlkStatus.OK): void {
    checkOpResult(this.tryEnd(status), this, 'end');
  }

  /** `end` that returns the table's result instead of throwing; refusals change nothing. */
  tryEnd(status: BlkStatus = BlkStatus.OK): OpResult {
    const r = this.host.table.applySync([{ op: 'end', token: this.token, status, drop: this.driverRef }])[0];
    if (r >= 0) {
      this.driverRef = false;
      this.hasEnded = true;
      this.endStatus = status;
      this.host.onEnd(this, status);
    }
    return r;
  }

  /**
   * `blk_mq_complete_request`: the block layer runs `Operations.complete(rq)` later, off
   * this call stack (the softirq of the kernel); that handler ends the request.
   */
  complete(): void {
    this.host.onComplete(this);
  }

  /**
   * Timer completion (null_blk irqmode=2, rnull's hrtimer): after `nsec` nanoseconds, at
   * the host's `completionTimer` (or the event loop's millisecond timers), the block layer runs
   * `Operations.complete(rq)` as after `complete()`. A reference is held until that has
   * run, so the slot cannot be recycled under the timer. Throws when the request is stale.
   */
  completeAfter(nsec: number): void {
    if (!Number.isFinite(nsec) || nsec < 0) throw new RangeError(`${this.name}: completeAfter needs nsec >= 0, got ${nsec}`);
    if (this.host.onCompleteAfter) return this.host.onCompleteAfter(this, nsec);
    const ref = this.ref();
    const fire = () => {
      this.host.onComplete(this);
      queueMicrotask(() => ref.drop());
    };
    const timer = this.host.completionTimer;
    if (timer) void timer(Date.now() + nsec / 1e6).then(fire);
    else setTimeout(fire, nsec / 1e6);
  }

  /**
   * `blk_mq_requeue_request`: gives back the driver's reference (IN_FLIGHT -> ALLOCATED)
   * and has the block layer dispatch the request again later. Throws when it ended.
   */
  requeue(): void {
    if (this.hasEnded) checkOpResult(OpResult.BadState, this.name, 'requeue');
    if (this.driverRef) {
      const r = this.host.table.applySync([{ op: 'requeue', token: this.token }])[0];
      checkOpResult(r, this.name, 'requeue');
      this.driverRef = false;
    } else if (!this.isCurrent()) {
      checkOpResult(OpResult.Stale, this.name, 'requeue');
    }
    this.host.onRequeue(this);
  }

  /** Takes a counted reference (`using ref = rq.ref()`); throws when the request is stale. */
  ref(): RequestRef<T> {
    const r = this.host.table.applySync([{ op: 'ref', token: this.token }])[0];
    checkOpResult(r, this, 'ref');
    return new RequestRef(this, this.host.table);
  }

  toString(): string {
    return `Request{${this.name} ${reqOpName(this.op)} sector ${this.sector}, ${this.bytes} B, ${reqFlagsName(this.flags)}}`;
  }
}
