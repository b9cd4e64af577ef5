// Mirrors the driver side of blk-mq for one disk in a worker process: it turns a batch
// message from an hctx queue into `Request`s, runs the driver's `queueRqs` (rnull service)
// or `complete` (completion service), and sends what the driver did back to the owner of
// the requests as one end message, in one fenced script run (`endBatch`, DESIGN §3, §6).
import {
  BlkStatus,
  defaultQueueRqs,
  formatToken,
  Hctx,
  type HwQueueControl,
  isRequeueStatus,
  ReqOp,
  Request,
  type RequestHost,
  type RequestToken,
  UNSTOPPABLE_QUEUE,
} from '#blk-mq';
import {
  decodeBatch,
  type EndRecord,
  type EndWriter,
  encodeBatch,
  encodeEnds,
  type Lease,
  MessageKind,
  type MessageHeader,
} from '#redis-mq';
import { nowMsPrecise, type Telemetry } from '#service-kit';
import type { DiskRecord, HostedDriver } from '#gendisk';
import { JournalTable } from './journal-table';

/** What a driver's data path needs to fence its page ops: the batch's lease and owner. */
export interface BatchFence {
  /** The lease member of the batch being run (`LeasedQueue`). */
  readonly member: Buffer;
  /** The queue it was leased from: its `leased` key. */
  readonly leasedKey: string;
  /** The owner epoch the batch came from. */
  readonly epoch: number;
}

/** Where a batch's follow-up work goes besides its `endBatch`. */
export interface DriverHostSink {
  /** Requests the driver refused with RESOURCE: back to the hctx queue, later. */
  requeue(disk: string, hctx: number, message: Buffer): Promise<void>;
  /** A second forward batch of one driver batch (timers with two delays). */
  forward(disk: string, queue: 'softirq' | 'timer', message: Buffer): Promise<void>;
}

/** What the host counted, for metrics and tests. */
export interface DriverHostCounters {
  batches: number;
  requests: number;
  /** Batches whose lease was lost before their end could be sent (delivered again). */
  leaseLost: number;
  /** Batches of an owner that died: nothing moved, nothing sent. */
  ownerGone: number;
  requeued: number;
}

/** One driver-side request: what the owner sent, and how it came to end. */
interface Carried {
  readonly rq: Request<void>;
  readonly op: number;
  /** Read data was copied out into the request data (memory-backed READ): its length. */
  hasData: boolean;
  readonly dataBytes: number;
  /** A forwarded ZONE_APPEND's landed sector (softirq / timer side); 0 otherwise. */
  readonly sector?: number;
}

/** The per-batch `RequestHost`: the references the driver holds, and what it asked for. */
class BatchContext implements RequestHost<void> {
  readonly table: JournalTable;
  readonly softirq: Request<void>[] = [];
  readonly timers = new Map<number, Request<void>[]>();
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
    this.softirq.push(rq);
  }
  onCompleteAfter(rq: Request<void>, nsec: number): void {
    const list = this.timers.get(nsec) ?? [];
    list.push(rq);
    this.timers.set(nsec, list);
  }
  onRequeue(rq: Request<void>): void {
    this.requeued.push(rq);
  }
}

function key(t: RequestToken): string {
  return `${t.tag}:${t.gen}`;
}

/**
 * Invariants:
 *   - The driver's reference travels with the request: the driver ends it here, or it
 *     is handed on inside a softirq / timer batch, whose worker ends it (I2: the owner
 *     refuses anything else).
 *   - A batch's ends and forwards are sent, and its lease acked, in one `endBatch` run
 *     that first checks the lease is still held: a batch whose lease ran out sends
 *     nothing and is delivered again (I3); a batch of a dead owner moves nothing (I4).
 */
export class DriverHost {
  readonly counters: DriverHostCounters = { batches: 0, requests: 0, leaseLost: 0, ownerGone: 0, requeued: 0 };
  /** This process's hardware queues of the disk, as the driver stops and starts them (`HctxWorkers`). */
  hwQueues: HwQueueControl = UNSTOPPABLE_QUEUE;

  constructor(
    public record: DiskRecord,
    readonly driver: HostedDriver,
    private readonly ends: EndWriter,
    private readonly sink: DriverHostSink,
    private readonly tel: Telemetry = {},
  ) {
    // Counters exist from the start (at 0), so "no requeues" is a series, not an absence.
    for (let h = 0; h < record.attributes.submitQueues; h++) tel.metrics?.requeues.inc({ disk: record.name, hctx: String(h) }, 0);
  }

  /** `blk_mq_dispatch_rq_list` for one leased batch of hctx `hctx`'s queue. */
  async queueBatch(lease: Lease, leasedKey: string): Promise<void> {
    const { header, rqs: records } = decodeBatch(lease.body);
    this.counters.batches += 1;
    this.counters.requests += records.length;
    const { metrics } = this.tel;
    const hctxLabel = { disk: this.record.name, hctx: header.hctx };
    metrics?.queueWait.observe(hctxLabel, Math.max(0, nowMsPrecise() - header.atMs) / 1000);
    const ctx = new BatchContext(this.record, this.record.attributes.timeoutMs);
    const carried = new Map<string, Carried>();
    const rqs = records.map((r) => {
      const token = { hctx: header.hctx, tag: r.tag, gen: r.gen };
      ctx.table.addInFlight(token);
      const rq = new Request<void>({ token, op: r.op, flags: r.flags, sector: r.sector, bytes: r.bytes, bios: [] }, ctx);
      carried.set(key(token), { rq, op: r.op, hasData: false, dataBytes: r.bytes });
      return rq;
    });
    const fence: BatchFence = { member: lease.member, leasedKey, epoch: header.epoch };
    const hctx = new Hctx<BatchFence>(header.hctx, this.record.attributes.submitQueues, this.hwQueues);
    hctx.setDriverData(fence);
    const t0 = process.hrtime.bigint();
    let statuses: readonly BlkStatus[];
    try {
      statuses = this.driver.queueRqs ? await this.driver.queueRqs(hctx, rqs) : await defaultQueueRqs(this.driver, hctx, rqs);
    } catch (err) {
      this.tel.log?.error({ disk: this.record.name, err: (err as Error).message }, 'driver queueRqs threw; its requests end IOERR');
      statuses = rqs.map(() => BlkStatus.IOERR);
    }
    metrics?.driverTime.observe(hctxLabel, Number(process.hrtime.bigint() - t0) / 1e9);
    rqs.forEach((rq, i) => {
      const s = statuses[i] ?? BlkStatus.IOERR;
      if (isRequeueStatus(s) && !rq.ended) rq.requeue();
      else if (s !== BlkStatus.OK && !rq.ended) rq.tryEnd(s);
    });
    const readsCopiedOut = this.record.attributes.memoryBacked;
    for (const c of carried.values()) c.hasData = readsCopiedOut && c.op === ReqOp.READ;
    await this.requeue(header, ctx.requeued);
    await this.finish(header, fence, ctx, carried);
  }

  /** The softirq / timer side: `Operations.complete` for each request of a forwarded batch. */
  async completeBatch(lease: Lease, leasedKey: string, header: MessageHeader, ends: readonly EndRecord[]): Promise<void> {
    this.counters.batches += 1;
    this.counters.requests += ends.length;
    const ctx = new BatchContext(this.record, this.record.attributes.timeoutMs);
    const carried = new Map<string, Carried>();
    for (const e of ends) {
      const token = { hctx: header.hctx, tag: e.tag, gen: e.gen };
      ctx.table.addInFlight(token);
      // Only `complete` runs here: op and range do not matter to it.
      const rq = new Request<void>({ token, op: 0, flags: 0, sector: 0, bytes: 0, bios: [] }, ctx);
      carried.set(key(token), { rq, op: ReqOp.READ, hasData: e.hasData, dataBytes: e.dataBytes, sector: e.sector });
      try {
        this.driver.complete(rq);
      } catch (err) {
        this.tel.log?.error({ token: formatToken(this.record.name, token), err: (err as Error).message }, 'driver complete threw');
        rq.tryEnd(BlkStatus.IOERR);
      }
    }
    await this.finish(header, { member: lease.member, leasedKey, epoch: header.epoch }, ctx, carried);
  }

  /** One `endBatch` run: the ends, at most one forward batch (others pushed first), the ack. */
  private async finish(header: MessageHeader, fence: BatchFence, ctx: BatchContext, carried: Map<string, Carried>): Promise<void> {
    const ended: EndRecord[] = [];
    for (const op of ctx.table.take()) {
      if (op.op !== 'end') continue;
      const c = carried.get(key(op.token))!;
      const hasData = c.hasData && op.status === BlkStatus.OK;
      ended.push({
        tag: op.token.tag,
        gen: op.token.gen,
        status: op.status,
        hasData,
        dataBytes: hasData ? c.dataBytes : 0,
        sector: op.status === BlkStatus.OK ? landedSectorOf(c) : 0,
      });
    }
    const base = { hctx: header.hctx, epoch: header.epoch, seq: header.seq };
    const forwards: { queue: 'softirq' | 'timer'; message: Buffer }[] = [];
    const forwardRecords = (list: Request<void>[]): EndRecord[] =>
      list.map((rq) => {
        const c = carried.get(key(rq.token))!;
        return {
          tag: rq.token.tag,
          gen: rq.token.gen,
          status: BlkStatus.OK,
          hasData: c.hasData,
          dataBytes: c.hasData ? c.dataBytes : 0,
          sector: landedSectorOf(c),
        };
      });
    if (ctx.softirq.length)
      forwards.push({
        queue: 'softirq',
        message: encodeEnds(MessageKind.Softirq, { ...base, atMs: nowMsPrecise() }, forwardRecords(ctx.softirq)),
      });
    for (const [nsec, list] of ctx.timers) {
      forwards.push({
        queue: 'timer',
        message: encodeEnds(MessageKind.Timer, { ...base, atMs: nowMsPrecise() + nsec / 1e6 }, forwardRecords(list)),
      });
    }
    const end = ended.length ? encodeEnds(MessageKind.End, { ...base, atMs: nowMsPrecise() }, ended) : undefined;
    // Extra forward batches (a driver that used two timer delays in one batch) go first.
    for (const f of forwards.slice(1)) await this.sink.forward(this.record.name, f.queue, f.message);
    const result = await this.ends.endBatch({
      disk: this.record.name,
      leased: fence.leasedKey,
      member: fence.member,
      epoch: fence.epoch,
      end,
      forward: forwards[0],
    });
    if (result === 'leaseLost') {
      this.counters.leaseLost += 1;
      this.tel.log?.warn(
        { disk: this.record.name, hctx: header.hctx, epoch: header.epoch },
        'batch lease lost before its end was sent; it is delivered again',
      );
    } else if (result === 'ownerGone') {
      this.counters.ownerGone += 1;
    }
  }

  /** Requests the driver refused with RESOURCE: a batch of them goes back to the hctx queue later. */
  private async requeue(header: MessageHeader, requeued: Request<void>[]): Promise<void> {
    if (requeued.length === 0) return;
    this.counters.requeued += requeued.length;
    this.tel.metrics?.requeues.inc({ disk: this.record.name, hctx: header.hctx }, requeued.length);
    const message = encodeBatch(
      { hctx: header.hctx, epoch: header.epoch, seq: header.seq, atMs: nowMsPrecise() },
      requeued.map((rq) => ({ tag: rq.token.tag, gen: rq.token.gen, op: rq.op, flags: rq.flags, bytes: rq.bytes, sector: rq.sector })),
    );
    await this.sink.requeue(this.record.name, header.hctx, message);
  }
}

/** Where a carried request's zone append landed: set by its driver here, or carried from the batch that forwarded it; else 0. */
function landedSectorOf(c: Carried): number {
  return c.rq.landedSector ?? c.sector ?? 0;
}
