// Mirrors `struct request_queue` + `blk_mq_submit_bio` / `blk_finish_plug` /
// `blk_mq_dispatch_rq_list` for one disk on one dispatch instance: requests are plugged
// per event-loop tick, merged, given tags, staged and sent to the hctx's batch queue as
// one batch; completion notices end them and drop the submitter's reference.
import type { Redis } from 'ioredis';
import { BlkStatus, formatToken, OpResult, type RequestToken, ReqOp } from '#blk-mq';
import { BatchQueue, type KeySchema, newMessageId, type RedisRequestTable } from '#redis-mq';
import type { DiskRecord } from '../disk-record';
import { dataField, nowMsPrecise, QueueNames } from '../rq-batch';
import type { Telemetry } from '../service-logger';
import type { IoRequest } from './io-request';

/** Retry delay for allocations that found no free tag (tags freed by another instance). */
const TAG_RETRY_MS = 2;

/** A completion notice as the router hands it over; a read's data rides with it. */
type Notice = { token: RequestToken; status: number; message?: string; data?: Buffer };

function key(t: RequestToken): string {
  return `${t.hctx}:${t.tag}:${t.gen}`;
}

/**
 * Invariants:
 *   - A request is in exactly one of: a plug list, a wait list, `pending` (holds a tag,
 *     the submitter's reference not yet dropped), or ended.
 *   - The submitter's reference is dropped only after the request ended here (its read
 *     data arrived with its notice); one that could not be dropped is retried.
 *   - Wait lists are FIFO: a request never overtakes an earlier one of the same hctx.
 */
export class DiskQueue {
  readonly pending = new Map<string, IoRequest>();
  private readonly plugs: IoRequest[][];
  private readonly waiting: IoRequest[][];
  private readonly allocating: boolean[];
  /** Per hctx: notices held back until the queueing run in flight has answered. */
  private early: Notice[][];
  private readonly queues: BatchQueue[];
  private flushScheduled = false;
  private retryTimer?: NodeJS.Timeout;
  /** Notices for requests this instance does not hold (stale or from before a restart). */
  unknownNotices = 0;
  /** Ended requests whose submitter reference could not be dropped yet (Redis away). */
  private readonly undropped: RequestToken[] = [];
  /**
   * The queue this one replaced when the tag space was reshaped, while it still holds
   * requests (a submission can reach it between gendisk's reshape and this instance's
   * event): their notices come here and are handed to it, so they still end.
   */
  predecessor?: DiskQueue;

  constructor(
    /** Replaced in place when attributes change without a new tag space. */
    public record: DiskRecord,
    readonly table: RedisRequestTable,
    redis: Redis,
    private readonly keys: KeySchema,
    private readonly instanceId: string,
    private readonly tel: Telemetry = {},
  ) {
    const n = table.config.nrHwQueues;
    this.plugs = Array.from({ length: n }, () => []);
    this.waiting = Array.from({ length: n }, () => []);
    this.allocating = Array.from({ length: n }, () => false);
    this.early = Array.from({ length: n }, () => []);
    this.queues = Array.from(
      { length: n },
      (_, h) => new BatchQueue(redis, QueueNames.hctx(record.name, h), keys.hctxQueue(record.name, h)),
    );
  }

  get name(): string {
    return this.record.name;
  }

  get nrHwQueues(): number {
    return this.queues.length;
  }

  /** Largest request in bytes (`max_sectors`). */
  get maxRequestBytes(): number {
    const bs = this.record.attributes.blocksize;
    return Math.max(bs, Math.floor((this.record.attributes.maxSectors * 512) / bs) * bs);
  }

  /** The hctx batch queues, for the queue-depth gauge. */
  get hctxQueues(): readonly BatchQueue[] {
    return this.queues;
  }

  /** Tags held here per hctx (requests whose submitter reference is not yet dropped). */
  tagsInUse(): number[] {
    const n = new Array<number>(this.queues.length).fill(0);
    for (const rq of this.pending.values()) n[rq.token!.hctx] += 1;
    return n;
  }

  /**
   * Ends `rq` for its bios and records it: every end of a request on this instance goes
   * through here. Failures are logged with the request's token when it holds one.
   */
  private finish(rq: IoRequest, hctx: number, status: BlkStatus, data: Buffer | undefined, message = ''): void {
    rq.end(status, data, message);
    const { metrics, log } = this.tel;
    metrics?.recordIo(this.name, hctx, rq.op, status, rq.bytes, Number(process.hrtime.bigint() - rq.queuedNs) / 1e9);
    if (status !== BlkStatus.OK && status !== BlkStatus.TIMEOUT && log) {
      const token = rq.token ? formatToken(this.name, rq.token) : undefined;
      log.error({ token, disk: this.name, hctx, status: BlkStatus[status] ?? status, op: ReqOp[rq.op] }, `io error: ${message}`);
    }
  }

  /** Requests that hold or wait for a tag here. */
  get inFlight(): number {
    return this.pending.size + this.waiting.reduce((n, w) => n + w.length, 0) + this.plugs.reduce((n, p) => n + p.length, 0);
  }

  /** `blk_mq_submit_bio` into the current plug of `hctx`; flushed at the end of the tick. */
  submit(hctx: number, rqs: IoRequest[]): void {
    const plug = this.plugs[hctx % this.plugs.length];
    for (const rq of rqs) {
      const last = plug[plug.length - 1];
      if (last && last.canBackMerge(rq, this.maxRequestBytes)) {
        for (const p of rq.parts) last.add(p);
      } else {
        plug.push(rq);
      }
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** `blk_finish_plug`: every plugged request joins its hctx's wait list, then dispatch. */
  private flush(): void {
    this.flushScheduled = false;
    for (let h = 0; h < this.plugs.length; h++) {
      if (this.plugs[h].length === 0) continue;
      this.waiting[h].push(...this.plugs[h]);
      this.plugs[h] = [];
      void this.dispatch(h);
    }
  }

  /**
   * Gives tags to waiting requests of `hctx` (FIFO) and queues those that got one as one
   * batch, in one script run. One run per hctx at a time; requests plugged meanwhile go
   * in the next run, at once when this one got every tag it asked for.
   */
  private async dispatch(h: number): Promise<void> {
    if (this.allocating[h] || this.waiting[h].length === 0) return;
    this.allocating[h] = true;
    let again = false;
    try {
      const asked = this.waiting[h].slice();
      const head = `${newMessageId()} {"disk":${JSON.stringify(this.name)},"hctx":${h},"replyTo":${JSON.stringify(this.instanceId)},"queuedAtMs":${nowMsPrecise()},"rqs":[`;
      const tokens = await this.table.allocAndQueue(
        h,
        asked.map((rq) => ({ op: rq.op, sector: rq.sector, bytes: rq.bytes, flags: rq.flags, payload: rq.op === ReqOp.WRITE ? rq.payload() : undefined })),
        this.queues[h].keys,
        this.keys.requestData(this.name),
        head,
        ']}',
      );
      // Only this run takes from the head of the wait list, so its first k are `asked`'s.
      const batch = this.waiting[h].splice(0, tokens.length);
      batch.forEach((rq, i) => {
        rq.token = tokens[i];
        this.pending.set(key(tokens[i]), rq);
      });
      if (tokens.length < asked.length) this.scheduleRetry();
      else again = this.waiting[h].length > 0;
    } catch (err) {
      // Redis away: fail what waits here, so clients get an answer, not a hang.
      const failed = this.waiting[h].splice(0);
      for (const rq of failed) this.finish(rq, h, BlkStatus.IOERR, undefined, `dispatch: ${(err as Error).message}`);
    } finally {
      this.allocating[h] = false;
    }
    this.completeEarly(h);
    if (again) void this.dispatch(h);
  }

  /** Notices that arrived while the run that took their tags had not yet answered. */
  private completeEarly(h: number): void {
    const early = this.early[h];
    if (early.length === 0) return;
    this.early[h] = [];
    void this.complete(early);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (let h = 0; h < this.waiting.length; h++) void this.dispatch(h);
    }, TAG_RETRY_MS);
  }

  /** The request this instance holds under `t`, if any. */
  holds(t: RequestToken): boolean {
    return this.pending.has(key(t));
  }

  /**
   * Ends the requests named by completion notices and answers the clients at once (a
   * read's data came with its notice); then drops the submitter's references and frees
   * the requests' data in one script run, which gives the tags back.
   */
  async complete(notices: Notice[]): Promise<void> {
    const receivedAtNs = process.hrtime.bigint();
    const ended: IoRequest[] = [];
    const memoryBacked = this.record.attributes.memoryBacked;
    const forward: Notice[] = [];
    if (this.predecessor && this.predecessor.inFlight === 0) this.predecessor = undefined;
    for (const n of notices) {
      const rq = this.pending.get(key(n.token));
      if (!rq && this.predecessor?.holds(n.token)) {
        forward.push(n);
        continue;
      }
      if (!rq && this.allocating[n.token.hctx]) {
        // Its batch may be the one whose queueing reply is still on its way here.
        this.early[n.token.hctx].push(n);
        continue;
      }
      if (!rq) {
        this.unknownNotices += 1;
        this.tel.metrics?.staleEnds.inc({ disk: this.name, service: this.tel.metrics.service });
        this.tel.log?.warn({ token: formatToken(this.name, n.token), status: BlkStatus[n.status] ?? n.status }, 'notice for a request this instance does not hold');
        continue;
      }
      this.pending.delete(key(n.token));
      ended.push(rq);
      const hctx = n.token.hctx;
      if (rq.op === ReqOp.READ && n.status === BlkStatus.OK && memoryBacked && (!n.data || n.data.length !== rq.bytes)) {
        // A memory-backed read must bring its data (invariant 4): never answer zeros.
        this.finish(rq, hctx, BlkStatus.IOERR, undefined, `read data of ${dataField(n.token)} missing or short`);
      } else {
        this.finish(rq, hctx, n.status, rq.op === ReqOp.READ && memoryBacked ? n.data : undefined, n.message ?? '');
      }
    }
    if (forward.length) await this.predecessor!.complete(forward);
    if (ended.length === 0 && this.undropped.length === 0) return;
    // The answers leave first: the stream writes them in the next check phase (setImmediate),
    // and the drop waits for the one after, so its Redis write is not on the client's path.
    await new Promise<void>((r) => setImmediate(() => setImmediate(r)));
    const tokens = this.undropped.splice(0).concat(ended.map((rq) => rq.token!));
    try {
      const dropped = await this.table.dropAndFreeData(tokens);
      // Recycle lag: notice received here -> this drop recycled the tag (one value per batch).
      const lagSeconds = Number(process.hrtime.bigint() - receivedAtNs) / 1e9;
      for (const r of dropped) if (r === OpResult.Recycled) this.tel.metrics?.recycleLag.observe({ disk: this.name }, lagSeconds);
    } catch (err) {
      // Redis away: the clients have their answers; the tags come back with the next drop.
      this.undropped.push(...tokens);
      this.tel.log?.warn({ disk: this.name, requests: tokens.length, err: (err as Error).message }, 'dropping references failed; retried with the next completion');
      return;
    }
    // Tags came back: let waiting requests have them.
    for (let h = 0; h < this.waiting.length; h++) if (this.waiting[h].length) void this.dispatch(h);
  }

  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
