// Mirrors the blk-mq core behind one `struct request_queue`: tag allocation with wait
// queues, plugging with back merges, dispatch to the driver, requeue, timeouts and
// completion to the submitter. Any `Operations` implementation runs on it; a driver in
// another process ends requests through `endRemote`.

import { BlkStatus } from './blk-status';
import { checkInt } from './config-check';
import { Dispatcher } from './dispatch';
import { Hctx } from './hctx';
import { HwQueueStops } from './hw-queue-stop';
import { InProcRequestTable } from './inproc-request-table';
import { Operations, TimeoutAction, defaultMapQueues, defaultTimeout } from './operations';
import { canBackMerge } from './merge';
import { Plug, nextTick } from './plug';
import { maxRequestBytes } from './queue-limits';
import { Request, RequestHost } from './request';
import { OpResult, RequestToken, RqState } from './request-table';
import { RequeueList } from './requeue-list';
import { Completion, DiskGeometry, PendingSubmission, Submission, prepareSubmission } from './submission';
import { MAX_SUBMISSION_BYTES } from './submission-check';
import { TagSet } from './tag-set';
import { TagWaitQueue } from './tag-wait';
import { TimeoutHandler } from './timeout-handler';
import type { Bio } from './bio';
import { EngineCounters, EngineOptions, RESOURCE_DELAY_MS } from './engine-options';
import { applyEndRecord } from './remote-end';
import { ZoneWritePlugs } from './zone-write-plug';

/** A live request and the submissions it carries a part of, one per bio (`rq.bios[i]` is `parts[i]`'s). */
interface Issued<T> {
  readonly rq: Request<T>;
  readonly parts: PendingSubmission[];
  /** The message the submissions get when the request fails. */
  error?: string;
  timeoutDone?: boolean;
}

/**
 * The engine of one disk.
 *
 * Invariants:
 *   - every submission settles exactly once; its tags are held by the submitter's
 *     reference until the engine has its completion (recycle 'on-drop');
 *   - `live` holds exactly the issued requests that have not ended, one per slot;
 *   - a request carries one bio per submission part (`Issued.parts`), so a request
 *     merged from several submissions reports its end to each of them;
 *   - a bio is merged only into a request still in the plug, never beyond
 *     `maxRequestBytes` or `limits.maxSegments`;
 *   - tag waiters never fail; per pool they are served round robin between clients,
 *     FIFO within one client (`TagWaitQueue`);
 *   - a batch (plug flush or retry) for an hctx the driver stopped (`hctx.queue`) waits on
 *     that hctx's dispatch list until the driver starts the queues again (`HwQueueStops`);
 *   - on a zoned disk at most one write per sequential zone is issued and not yet ended;
 *     the zone's other writes wait in its write plug, in submission order
 *     (`ZoneWritePlugs`, blk_zone_plug_bio; DESIGN I17).
 */
export class Engine<T = unknown, H = unknown> implements RequestHost<T> {
  readonly table: InProcRequestTable;
  readonly hctxs: readonly Hctx<H>[];
  readonly timeoutMs: number;
  /** Largest request (`maxRequestBytes` of the disk's limits): splits and merges stop there. */
  readonly maxRequestBytes: number;
  /** `EngineOptions.maxSubmissionBytes`, resolved. */
  readonly maxSubmissionBytes: number;
  readonly counters: EngineCounters = {
    submitted: 0,
    completed: 0,
    failed: 0,
    requests: 0,
    merges: 0,
    tagWaits: 0,
    requeued: 0,
    timeouts: 0,
    lateCompletes: 0,
    staleEnds: 0,
    driverErrors: 0,
  };
  private readonly live = new Map<number, Issued<T>>();
  private readonly pdus = new Map<number, T>();
  private readonly plug: Plug<Request<T>>;
  private readonly waits: TagWaitQueue;
  private readonly timeouts: TimeoutHandler;
  private readonly requeue: RequeueList<Request<T>>;
  /** The hctxs' stopped bits and dispatch lists (`Hctx.queue`): plug flushes and retries pass through them. */
  private readonly hwQueues: HwQueueStops<Request<T>>;
  private readonly clock: () => number;
  /** A zoned disk's zone write plugs. */
  private readonly zonePlugs: ZoneWritePlugs | undefined;
  private pendingCount = 0;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  /** Runs `initHctx` for every hctx; if one throws, the ones done get `exitHctx` and it rethrows. */
  constructor(
    readonly geometry: DiskGeometry,
    readonly tagSet: TagSet,
    private readonly ops: Operations<T, H>,
    private readonly opts: EngineOptions = {},
  ) {
    this.maxSubmissionBytes =
      opts.maxSubmissionBytes === undefined
        ? MAX_SUBMISSION_BYTES
        : checkInt('EngineOptions.maxSubmissionBytes', opts.maxSubmissionBytes, geometry.limits.logicalBlockSize, Number.MAX_SAFE_INTEGER);
    this.maxRequestBytes = maxRequestBytes(geometry.limits);
    this.zonePlugs = geometry.zones ? new ZoneWritePlugs(geometry.zones) : undefined;
    this.table = new InProcRequestTable(geometry.name, tagSet.config);
    this.completionTimer = opts.completionTimer;
    this.timeoutMs = tagSet.timeoutMs;
    this.clock = opts.now ?? (() => Date.now());
    const dispatcher = new Dispatcher(ops, (rq, e, where, all) => this.driverError(rq, e, where, all));
    this.hwQueues = new HwQueueStops<Request<T>>(tagSet.nrHwQueues, (hctx, batch) => dispatcher.dispatch(this.hctxs[hctx], batch));
    const hctxs = Array.from({ length: tagSet.nrHwQueues }, (_, i) => new Hctx<H>(i, tagSet.nrHwQueues, this.hwQueues));
    for (const h of hctxs) {
      try {
        h.setDriverData(ops.initHctx ? ops.initHctx(h.index) : (undefined as H));
      } catch (e) {
        for (const done of hctxs.slice(0, h.index)) ops.exitHctx?.(done);
        throw e;
      }
    }
    this.hctxs = hctxs;
    const dispatch = (hctx: number, batch: Request<T>[]) => this.hwQueues.dispatch(hctx, batch);
    this.plug = new Plug(dispatch, opts.tick ?? nextTick);
    this.requeue = new RequeueList(opts.requeueDelayMs ?? RESOURCE_DELAY_MS, dispatch);
    this.waits = new TagWaitQueue(this.table);
    const scanMs = opts.timeoutScanMs ?? Math.min(1000, Math.max(1, Math.floor(this.timeoutMs / 4)));
    this.timeouts = new TimeoutHandler(this.table, { scanMs, now: this.clock, onExpired: (t) => this.expired(t) });
    this.table.onTagFreed((hctx) => {
      this.waits.wake(hctx);
      if (this.table.busyCount === 0) this.timeouts.disarm();
      this.checkIdle();
    });
  }

  /** Submissions not yet completed. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Checks, splits and issues `sub`; resolves with its completion. Never rejects. */
  submit(sub: Submission): Promise<Completion> {
    this.counters.submitted += 1;
    if (this.closing) return Promise.resolve(this.refused({ status: BlkStatus.OFFLINE, error: `${this.geometry.name}: disk is deleted` }));
    const prep = prepareSubmission(sub, this.geometry, { maxSubmissionBytes: this.maxSubmissionBytes });
    if (prep.done) return Promise.resolve(this.refused(prep.done));
    let hctx: number;
    try {
      const cpu = sub.cpu ?? 0;
      hctx = this.ops.mapQueues ? this.ops.mapQueues(cpu, this.hctxs.length) : defaultMapQueues(cpu, this.hctxs.length);
    } catch (e) {
      this.driverError(undefined, e, 'mapQueues');
      return Promise.resolve(this.refused({ status: BlkStatus.IOERR, error: `driver mapQueues threw: ${message(e)}` }));
    }
    if (!Number.isInteger(hctx) || hctx < 0 || hctx >= this.hctxs.length) {
      return Promise.resolve(this.refused({ status: BlkStatus.IOERR, error: `driver mapQueues returned hctx ${hctx}` }));
    }
    const client = typeof sub.client === 'number' ? sub.client : (sub.cpu ?? 0);
    this.pendingCount += 1;
    return new Promise((resolve) => {
      const p = new PendingSubmission(prep.bios.length, prep.buffer, (c) => this.settle(c, resolve));
      for (const bio of prep.bios) {
        if (this.zonePlugs) this.zonePlugs.admit(bio, () => this.enter(hctx, client, bio, p));
        else this.enter(hctx, client, bio, p);
      }
    });
  }

  /** A bio joins a request in the plug, or takes a tag (waiting for one, FIFO per client). */
  private enter(hctx: number, client: number, bio: Bio, p: PendingSubmission): void {
    if (this.tryPlugMerge(hctx, bio, p)) return;
    const waitsBefore = this.waits.waits;
    this.waits.acquire(hctx, client, (token) => this.issue(token, bio, p));
    this.counters.tagWaits += this.waits.waits - waitsBefore;
  }

  /**
   * Ends the live request named by exactly `token` (hctx, tag, gen) with `status`, for a
   * driver in another process whose end record came back as a message. The driver's
   * reference (taken by `start()`) is dropped with the end.
   *
   * - A READ ending OK must bring `data` of exactly `rq.bytes`; it is copied into the
   *   request's bios in order (a merged request spans several submissions' buffers).
   *   Missing or short data ends the request IOERR with a message that says so: a read
   *   never answers zeros it did not get (DESIGN I4).
   * - `message` becomes the submissions' `Completion.error` when `status` is not OK
   *   (unless an earlier driver error already set one).
   * - Refused, changing nothing and counted in `counters.staleEnds` (DESIGN I2): no live
   *   request has that token (Stale), its request already ended (AlreadyComplete; Stale
   *   once the slot recycled), or the driver does not hold it (BadState: in the plug or
   *   waiting for a requeue).
   */
  endRemote(
    token: RequestToken,
    status: BlkStatus,
    data?: Uint8Array,
    message?: string,
    readWithoutData: 'error' | 'zeros' = 'error',
    landedSector?: number,
  ): OpResult {
    const it = this.live.get(this.keyOf(token));
    const rq = it?.rq;
    if (!it || !rq || rq.token.hctx !== token.hctx || rq.token.tag !== token.tag || rq.token.gen !== token.gen) {
      this.counters.staleEnds += 1;
      return this.table.isCurrent(token) && this.table.slotSync(token.hctx, token.tag).state === RqState.Complete
        ? OpResult.AlreadyComplete
        : OpResult.Stale;
    }
    if (rq.ended) {
      this.counters.staleEnds += 1;
      return OpResult.AlreadyComplete;
    }
    if (!rq.started) {
      this.counters.staleEnds += 1;
      return OpResult.BadState;
    }
    const { status: st, message: why } = applyEndRecord(rq, status, data, message, readWithoutData, landedSector);
    if (st !== BlkStatus.OK && why) it.error ??= why;
    const r = rq.tryEnd(st);
    if (r < 0) this.counters.staleEnds += 1;
    return r;
  }

  /**
   * Ends every live request with `status` (not OK) and `message` through the same path as
   * `endRemote`, e.g. when the owner lost its lease: requests in flight, in the plug and
   * waiting for a requeue (those are not handed to the driver afterwards). Submissions
   * still waiting for a tag are not live and are issued as tags free up. Returns how many
   * requests it ended.
   */
  failAll(status: BlkStatus, message: string): number {
    if (status === BlkStatus.OK) throw new RangeError(`${this.geometry.name}: failAll needs a failure status, got OK`);
    let n = 0;
    for (const it of [...this.live.values()]) {
      if (it.rq.ended) continue;
      it.error ??= message;
      if (it.rq.tryEnd(status) >= 0) n += 1;
    }
    return n;
  }

  /** Requests waiting on a stopped hctx (`Hctx.queue.stopHwQueues`), for metrics and tests. */
  get stoppedWaiting(): number {
    return this.hwQueues.waiting;
  }

  /** Issued requests that have not ended (in the plug, at the driver, or requeued). */
  get liveRequests(): number {
    return this.live.size;
  }

  /** Tags not IDLE, per hctx (with shared tags: by the hctx that took them), for metrics. */
  tagsInUse(): number[] {
    const n = new Array<number>(this.hctxs.length).fill(0);
    for (const s of this.table.busySync()) n[s.hctx] += 1;
    return n;
  }

  /** Runs the driver's `poll` on one hctx, or all; returns the completions it reported. */
  poll(hctx?: number): number {
    if (!this.ops.poll) return 0;
    let n = 0;
    for (const h of hctx === undefined ? this.hctxs : [this.hctxs[hctx]]) {
      if (!h) throw new RangeError(`${this.geometry.name}: no hctx ${hctx}`);
      try {
        n += this.ops.poll(h);
      } catch (e) {
        this.driverError(undefined, e, 'poll');
      }
    }
    return n;
  }

  /** Resolves once no submission is pending and every tag is IDLE. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * What a process killed outright leaves: new submissions are refused, every timer stops
   * (timeouts, plug, requeue), and nothing pending ends. For tests of a dying owner.
   */
  abandon(): void {
    this.closing ??= new Promise<void>(() => undefined);
    this.timeouts.stop();
    this.plug.stop();
    this.requeue.stop();
  }

  /** `del_gendisk`: refuses new submissions, drains, stops timers, runs `exitHctx`. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.drain().then(() => {
      this.timeouts.stop();
      this.plug.stop();
      this.requeue.stop();
      for (const h of this.hctxs) {
        try {
          this.ops.exitHctx?.(h);
        } catch (e) {
          this.driverError(undefined, e, 'exitHctx');
        }
      }
    });
    return this.closing;
  }

  // RequestHost: called by Request.

  readonly now = (): number => this.clock();

  pduOf(rq: Request<T>): T {
    const key = this.keyOf(rq.token);
    if (!this.pdus.has(key)) this.pdus.set(key, this.ops.newRequestData?.(rq.token.hctx, rq.token.tag) as T);
    return this.pdus.get(key)!;
  }

  onStart(): void {
    this.timeouts.arm();
  }

  onEnd(rq: Request<T>, status: BlkStatus): void {
    const key = this.keyOf(rq.token);
    const it = this.live.get(key);
    if (!it || it.rq !== rq) return;
    this.live.delete(key);
    if (this.table.config.recycle === 'on-drop') this.table.applySync([{ op: 'drop', token: rq.token }]);
    if (this.zonePlugs) for (const bio of rq.bios) this.zonePlugs.done(bio);
    for (const p of it.parts) p.ended(status, it.error, rq.landedSector);
  }

  /** `EngineOptions.completionTimer`: the timer of `rq.completeAfter` (RequestHost). */
  readonly completionTimer?: (dueMs: number) => Promise<void>;

  onComplete(rq: Request<T>): void {
    queueMicrotask(() => {
      if (rq.ended || !rq.isCurrent()) {
        this.counters.lateCompletes += 1;
        return;
      }
      try {
        this.ops.complete(rq);
      } catch (e) {
        this.driverError(rq, e, 'complete');
        rq.tryEnd(BlkStatus.IOERR);
      }
    });
  }

  onRequeue(rq: Request<T>): void {
    this.counters.requeued += 1;
    this.hctxs[rq.token.hctx].counters.requeued += 1;
    this.requeue.add(rq.token.hctx, rq);
  }

  private issue(token: RequestToken, bio: Bio, p: PendingSubmission): void {
    const rq = new Request<T>({ token, op: bio.op, flags: bio.flags, sector: bio.sector, bytes: bio.bytes, bios: [bio] }, this);
    this.live.set(this.keyOf(token), { rq, parts: [p] });
    this.counters.requests += 1;
    this.plug.add(token.hctx, rq);
  }

  /**
   * `blk_attempt_plug_merge`: joins `bio` to the last request plugged for `hctx` when it
   * continues it (`canBackMerge`). The request is in the plug, so the driver has not seen it.
   */
  private tryPlugMerge(hctx: number, bio: Bio, p: PendingSubmission): boolean {
    if (this.opts.noMerges) return false;
    const last = this.plug.last(hctx);
    if (!last || !canBackMerge(last, bio, this.geometry.limits)) return false;
    const it = this.live.get(this.keyOf(last.token));
    if (!it || it.rq !== last || last.started || last.ended) return false;
    last.backMerge(bio);
    it.parts.push(p);
    this.counters.merges += 1;
    return true;
  }

  private expired(token: RequestToken): void {
    const it = this.live.get(this.keyOf(token));
    if (!it || it.rq.token.gen !== token.gen || it.timeoutDone) return;
    const rq = it.rq;
    this.counters.timeouts += 1;
    let action: TimeoutAction;
    try {
      action = this.ops.timeout ? this.ops.timeout(rq) : defaultTimeout(rq);
    } catch (e) {
      this.driverError(rq, e, 'timeout');
      action = defaultTimeout(rq);
    }
    if (rq.ended) {
      this.opts.onTimeout?.(rq as Request<unknown>);
      return;
    }
    if (action === TimeoutAction.ResetTimer && rq.started) rq.start();
    else it.timeoutDone = true;
  }

  private settle(c: Completion, resolve: (c: Completion) => void): void {
    this.pendingCount -= 1;
    this.counters.completed += 1;
    if (c.status !== BlkStatus.OK) this.counters.failed += 1;
    resolve(c);
    this.checkIdle();
  }

  private refused(c: Completion): Completion {
    this.counters.completed += 1;
    this.counters.failed += c.status === BlkStatus.OK ? 0 : 1;
    return c;
  }

  private driverError(rq: Request<T> | undefined, e: unknown, where: string, all?: readonly Request<T>[]): void {
    this.counters.driverErrors += 1;
    this.opts.onDriverError?.(e, where, rq as Request<unknown> | undefined);
    for (const r of rq ? [rq] : (all ?? [])) {
      const it = this.live.get(this.keyOf(r.token));
      if (it && it.rq === r) it.error ??= `driver ${where} threw: ${message(e)}`;
    }
  }

  private isIdle(): boolean {
    return this.pendingCount === 0 && this.table.busyCount === 0;
  }

  private checkIdle(): void {
    if (!this.idleWaiters.length || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private keyOf(t: RequestToken): number {
    return this.table.config.sharedTagBitmap ? t.tag : t.hctx * this.table.config.queueDepth + t.tag;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
