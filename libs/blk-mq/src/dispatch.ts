// Mirrors blk_mq_dispatch_rq_list() as blk_mq_flush_plug_list() drives it: hands one batch
// of one hctx to the driver (`queueRqs`, or `queueRq` one by one) and acts on the verdicts.

import { BlkStatus, isRequeueStatus } from './blk-status';
import type { Hctx } from './hctx';
import { Operations, defaultQueueRqs, isThenable } from './operations';
import type { Request } from './request';

/** Reports a driver exception; `rq` is the request it concerns, `all` the batch when unknown. */
export type DriverErrorReport<T> = (rq: Request<T> | undefined, err: unknown, where: string, all?: readonly Request<T>[]) => void;

/**
 * Dispatches batches.
 *
 * Invariants: every request of a batch gets exactly one verdict: OK (the driver owns
 * it), requeued (RESOURCE / DEV_RESOURCE), or ended with the driver's error status (IOERR
 * when the driver threw or answered nonsense). A request that already ended is left alone:
 * one that ended before its batch was handed over (`Engine.failAll` on a plugged or
 * requeued request) is not offered to the driver at all.
 */
export class Dispatcher<T, H> {
  constructor(
    private readonly ops: Operations<T, H>,
    private readonly report: DriverErrorReport<T>,
  ) {}

  /** Hands `rqs` to the driver; verdicts apply synchronously unless the driver is async. */
  dispatch(hctx: Hctx<H>, batch: Request<T>[]): void {
    const rqs = batch.some((rq) => rq.ended) ? batch.filter((rq) => !rq.ended) : batch;
    if (rqs.length === 0) return;
    hctx.counters.batches += 1;
    hctx.counters.dispatched += rqs.length;
    let res: readonly BlkStatus[] | Promise<readonly BlkStatus[]>;
    try {
      res = this.ops.queueRqs
        ? this.ops.queueRqs(hctx, rqs)
        : defaultQueueRqs(this.ops, hctx, rqs, (rq, e) => this.report(rq, e, rq ? 'queueRq' : 'commitRqs'));
    } catch (e) {
      this.report(undefined, e, 'queueRqs', rqs);
      res = rqs.map(() => BlkStatus.IOERR);
    }
    if (!isThenable(res)) return this.apply(rqs, res);
    Promise.resolve(res).then(
      (st) => this.apply(rqs, st),
      (e) => {
        this.report(undefined, e, 'queueRqs', rqs);
        this.apply(
          rqs,
          rqs.map(() => BlkStatus.IOERR),
        );
      },
    );
  }

  /** OK leaves the request to the driver; RESOURCE / DEV_RESOURCE requeue it; anything else ends it. */
  private apply(rqs: readonly Request<T>[], statuses: readonly BlkStatus[]): void {
    if (!Array.isArray(statuses) || statuses.length !== rqs.length) {
      const got = Array.isArray(statuses) ? statuses.length : String(statuses);
      this.report(undefined, new TypeError(`queueRqs returned ${got} statuses for ${rqs.length} requests`), 'queueRqs', rqs);
      statuses = rqs.map(() => BlkStatus.IOERR);
    }
    rqs.forEach((rq, i) => {
      const s = statuses[i];
      if (s === BlkStatus.OK || rq.ended) return;
      if (isRequeueStatus(s)) {
        try {
          rq.requeue();
        } catch (e) {
          this.report(rq, e, 'requeue');
          rq.tryEnd(BlkStatus.IOERR);
        }
        return;
      }
      rq.tryEnd(typeof s === 'number' && BlkStatus[s] !== undefined ? s : BlkStatus.IOERR);
    });
  }
}
