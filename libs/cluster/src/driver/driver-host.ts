// Mirrors the driver side of blk-mq for one disk in a worker process: it turns a batch
// from an hctx queue into `Request`s, runs the driver's `queueRqs` (rnull service) or
// `complete` (completion service), and applies what the driver did to the Redis table.
import {
  BlkStatus,
  defaultQueueRqs,
  formatToken,
  Hctx,
  isRequeueStatus,
  OpResult,
  type Operations,
  Request,
  type RequestHost,
  type RequestToken,
  type TableOp,
} from '#blk-mq';
import { type RedisRequestTable, sendTogether } from '#redis-mq';
import type { DiskRecord } from '../disk-record';
import { type EndBatch, type EndWire, nowMsPrecise, type RqBatch, type RqWire } from '../rq-batch';
import type { Telemetry } from '../service-logger';
import { JournalTable } from './journal-table';

/** Where a batch's follow-up work goes: the completion queues and the hctx queue again. */
export interface DriverHostSinks {
  softirq(batch: EndBatch): Promise<void>;
  timer(batch: EndBatch): Promise<void>;
  /** Requests the driver refused with RESOURCE: dispatched again after a short delay. */
  requeue(batch: RqBatch): Promise<void>;
}

/**
 * Work a driver's backing may send right behind a batch's `start`, on the same Redis
 * connection, so Redis runs it right after the start and both take one round trip. It
 * must hold the start contract itself: touch only requests the table holds in flight
 * (gated in the same atomic step), since it runs before the host saw the start results.
 */
export interface BatchPrefetch {
  /** Called right after the batch's start was sent; the returned function drops what is left. */
  prepare(hctx: number, rqs: readonly RqWire[]): () => void;
}

/** What the host counted, for metrics and tests. */
export interface DriverHostCounters {
  batches: number;
  requests: number;
  /** Requests of a delivered batch that were no longer live (redelivery after a crash). */
  staleStarts: number;
  /** Ends the Redis table refused: stale or double (e.g. a completion after a timeout). */
  refusedEnds: number;
  requeued: number;
}

/** The per-batch `RequestHost`: a journal, and what the driver asked for. */
class BatchContext implements RequestHost<void> {
  readonly table: JournalTable;
  readonly softirq: EndWire[] = [];
  readonly timers = new Map<number, EndWire[]>();
  readonly requeued: Request<void>[] = [];

  constructor(
    disk: DiskRecord,
    readonly timeoutMs: number,
  ) {
    this.table = new JournalTable(disk.name, disk.attributes.recycle);
  }

  now(): number {
    return Date.now();
  }
  pduOf(): void {}
  onStart(): void {}
  onEnd(): void {}
  onComplete(rq: Request<void>): void {
    this.softirq.push([rq.token.hctx, rq.token.tag, rq.token.gen, BlkStatus.OK]);
  }
  onCompleteAfter(rq: Request<void>, nsec: number): void {
    const list = this.timers.get(nsec) ?? [];
    list.push([rq.token.hctx, rq.token.tag, rq.token.gen, BlkStatus.OK]);
    this.timers.set(nsec, list);
  }
  onRequeue(rq: Request<void>): void {
    this.requeued.push(rq);
  }
}

/**
 * Invariants:
 *   - The Redis table decides: a request runs in the driver only after the table accepted
 *     its `start` (or found it started: a redelivered batch); an end counts only if the
 *     table accepted it, and then its notice is pushed in the same atomic step. What a
 *     `BatchPrefetch` sends before the start results are known is gated on them in Redis.
 *   - The driver's reference travels with the request: ended here, or handed to the
 *     completion service inside a softirq / timer batch, which ends it.
 */
export class DriverHost {
  readonly counters: DriverHostCounters = { batches: 0, requests: 0, staleStarts: 0, refusedEnds: 0, requeued: 0 };

  constructor(
    public record: DiskRecord,
    private readonly table: RedisRequestTable,
    readonly driver: Operations<void>,
    private readonly sinks: DriverHostSinks,
    private readonly noticeKey: (replyTo: string) => string,
    private readonly tel: Telemetry = {},
    private readonly prefetch?: BatchPrefetch,
  ) {
    // Counters exist from the start (at 0), so "no requeues" is a series, not an absence.
    for (let h = 0; h < record.attributes.submitQueues; h++) tel.metrics?.requeues.inc({ disk: record.name, hctx: String(h) }, 0);
  }

  /** `blk_mq_dispatch_rq_list` for one batch of one hctx. */
  async queueBatch(batch: RqBatch): Promise<void> {
    this.counters.batches += 1;
    const { metrics } = this.tel;
    const hctxLabel = { disk: batch.disk, hctx: batch.hctx };
    if (metrics && batch.queuedAtMs !== undefined) {
      metrics.queueWait.observe(hctxLabel, Math.max(0, nowMsPrecise() - batch.queuedAtMs) / 1000);
    }
    const timeoutMs = this.record.attributes.timeoutMs;
    const deadlineMs = Date.now() + timeoutMs;
    const tokens: RequestToken[] = batch.rqs.map(([tag, gen]) => ({ hctx: batch.hctx, tag, gen }));
    const [starting, release] = sendTogether(this.table.redis, () => [
      this.table.apply(tokens.map((token) => ({ op: 'start', token, deadlineMs }))),
      this.prefetch?.prepare(batch.hctx, batch.rqs),
    ] as const);
    try {
      await this.runStarted(batch, tokens, await starting, timeoutMs);
    } finally {
      release?.();
    }
  }

  /** The driver's part of `queueBatch`, once the table answered the batch's starts. */
  private async runStarted(batch: RqBatch, tokens: RequestToken[], started: OpResult[], timeoutMs: number): Promise<void> {
    const { log, metrics } = this.tel;
    const hctxLabel = { disk: batch.disk, hctx: batch.hctx };
    const ctx = new BatchContext(this.record, timeoutMs);
    const rqs: Request<void>[] = [];
    batch.rqs.forEach(([, , op, sector, bytes, flags], i) => {
      if (started[i] !== OpResult.Ok && started[i] !== OpResult.AlreadyStarted) {
        this.counters.staleStarts += 1;
        log?.warn({ token: formatToken(batch.disk, tokens[i]), result: started[i] }, 'start refused: request no longer live');
        return;
      }
      ctx.table.addInFlight(tokens[i]);
      rqs.push(new Request<void>({ token: tokens[i], op, flags, sector, bytes, bios: [] }, ctx));
    });
    this.counters.requests += rqs.length;
    if (rqs.length === 0) return;

    const hctx = new Hctx<unknown>(batch.hctx, this.record.attributes.submitQueues);
    const t0 = process.hrtime.bigint();
    const statuses = this.driver.queueRqs
      ? await this.driver.queueRqs(hctx, rqs)
      : await defaultQueueRqs(this.driver, hctx, rqs);
    metrics?.driverTime.observe(hctxLabel, Number(process.hrtime.bigint() - t0) / 1e9);
    rqs.forEach((rq, i) => {
      const s = statuses[i] ?? BlkStatus.IOERR;
      if (isRequeueStatus(s) && !rq.ended) rq.requeue();
      else if (s !== BlkStatus.OK && !rq.ended) rq.tryEnd(s);
    });
    await this.flush(ctx, batch.disk, batch.replyTo, batch.hctx);
  }

  /** The softirq / timer side: `Operations.complete` for each request of the batch. */
  async completeBatch(batch: EndBatch): Promise<void> {
    this.counters.batches += 1;
    const ctx = new BatchContext(this.record, this.record.attributes.timeoutMs);
    for (const [hctx, tag, gen] of batch.ends) {
      const token = { hctx, tag, gen };
      ctx.table.addInFlight(token);
      // Only `complete` runs here: op and range do not matter to it.
      const rq = new Request<void>({ token, op: 0, flags: 0, sector: 0, bytes: 0, bios: [] }, ctx);
      // The driver's reference travelled here with the batch: take it over (a local
      // AlreadyStarted, not sent to Redis), so the end below drops it.
      rq.start();
      this.driver.complete(rq);
    }
    this.counters.requests += batch.ends.length;
    await this.flush(ctx, batch.disk, batch.replyTo, -1);
  }

  /** Applies the journal (ends with their notices, requeues), then hands on the rest. */
  private async flush(ctx: BatchContext, disk: string, replyTo: string, hctx: number): Promise<void> {
    const ops: TableOp[] = ctx.table.take();
    if (ops.length) {
      const results = await this.table.applyAndNotify(ops, this.noticeKey(replyTo));
      const refused = ops.filter((o, i) => o.op === 'end' && results[i] < 0);
      this.counters.refusedEnds += refused.length;
      if (refused.length) this.tel.metrics?.staleEnds.inc({ disk, service: this.tel.metrics.service }, refused.length);
      refused.forEach((o) => {
        const result = results[ops.indexOf(o)];
        this.tel.log?.warn({ token: formatToken(disk, o.token), result: OpResult[result] ?? result }, 'end refused: stale or double');
      });
    }
    const work: Promise<void>[] = [];
    if (ctx.softirq.length) work.push(this.sinks.softirq({ disk, replyTo, ends: ctx.softirq }));
    for (const [nsec, ends] of ctx.timers) work.push(this.sinks.timer({ disk, replyTo, ends, dueMs: nowMsPrecise() + nsec / 1e6 }));
    if (ctx.requeued.length && hctx >= 0) {
      this.counters.requeued += ctx.requeued.length;
      this.tel.metrics?.requeues.inc({ disk, hctx }, ctx.requeued.length);
      const rqs = ctx.requeued.map((rq) => [rq.token.tag, rq.token.gen, rq.op, rq.sector, rq.bytes, rq.flags] as RqBatch['rqs'][number]);
      work.push(this.sinks.requeue({ disk, hctx, replyTo, rqs, queuedAtMs: nowMsPrecise() }));
    }
    await Promise.all(work);
  }
}
