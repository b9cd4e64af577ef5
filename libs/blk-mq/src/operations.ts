// Mirrors `kernel::block::mq::Operations` (rust/kernel/block/mq/operations.rs) and
// `struct blk_mq_ops`: the vtable a driver implements, with the defaults blk-mq uses for
// the optional entries.

import { BlkStatus, isRequeueStatus } from './blk-status';
import type { Hctx } from './hctx';
import type { Request } from './request';

/** `enum blk_eh_timer_return`: what the driver's timeout handler did. */
export enum TimeoutAction {
  /** The request was ended (or will be ended) by the driver; the block layer does nothing more. */
  Done = 0,
  /** Give the request another full timeout period. */
  ResetTimer = 1,
}

/**
 * A block driver. `T` is the per-request driver data (`Request.pdu`), `H` the per-hctx
 * driver data (`Hctx.driverData`). Any method may throw: the engine ends the requests it
 * concerns with IOERR and a message naming the driver error.
 */
export interface Operations<T = unknown, H = unknown> {
  /**
   * Takes one request. Return OK once the driver owns it (it calls `rq.start()` and later
   * ends it), RESOURCE / DEV_RESOURCE to have it retried later, or an error status to end
   * it with that status. `isLast` says no further request follows in this batch: a driver
   * may ring its doorbell then, and otherwise waits for `commitRqs`.
   */
  queueRq(hctx: Hctx<H>, rq: Request<T>, isLast: boolean): BlkStatus | Promise<BlkStatus>;

  /** Rings the doorbell for requests queued without `isLast` (`commit_rqs`). */
  commitRqs(hctx: Hctx<H>): void | Promise<void>;

  /** Completion handler run after `rq.complete()`, off the completing call stack; ends `rq`. */
  complete(rq: Request<T>): void;

  /**
   * Takes a batch of one plug flush (`queue_rqs`), returning one status per request with
   * `queueRq`'s meaning. Default: `defaultQueueRqs` (queueRq for each, `isLast` on the
   * last, stop at the first RESOURCE / DEV_RESOURCE, then commitRqs once).
   *
   * May be async (a remote driver: start every request, push the batch to another
   * process, resolve with the verdicts). Contract for that case: a request answered
   * RESOURCE / DEV_RESOURCE after `rq.start()` is requeued with the driver's reference
   * given back (IN_FLIGHT -> ALLOCATED) and offered again after the requeue delay; a
   * request that ended before the promise resolved (its end record came back early through
   * `Engine.endRemote`, a timeout, `Engine.failAll`) keeps that end, whatever its verdict.
   */
  queueRqs?(hctx: Hctx<H>, rqs: readonly Request<T>[]): readonly BlkStatus[] | Promise<readonly BlkStatus[]>;

  /** An IN_FLIGHT request passed its deadline. Default: `defaultTimeout` (ends it with TIMEOUT). */
  timeout?(rq: Request<T>): TimeoutAction;

  /** Polls for completions on a poll queue; returns how many it found. Default: none, 0. */
  poll?(hctx: Hctx<H>): number;

  /** Creates the driver data of one hctx when the disk is built (`init_hctx`). Default: undefined. */
  initHctx?(index: number): H;

  /** Releases an hctx's driver data when the disk is deleted (`exit_hctx`). Default: nothing. */
  exitHctx?(hctx: Hctx<H>): void;

  /**
   * Maps a submitting "cpu" (client index) to an hctx index (`map_queues`).
   * Default: `defaultMapQueues`, cpu modulo nrHwQueues.
   */
  mapQueues?(cpu: number, nrHwQueues: number): number;

  /**
   * Creates the driver data of one tag, once, when the tag is first used
   * (`init_request`; Rust `new_request_data`). Default: undefined.
   */
  newRequestData?(hctx: number, tag: number): T;
}

/** Called by `defaultQueueRqs` when `queueRq` throws or returns a non-status (rq set), or `commitRqs` throws (rq undefined). */
export type DriverErrorSink<T> = (rq: Request<T> | undefined, err: unknown) => void;

function isThenable<V>(v: unknown): v is PromiseLike<V> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function asStatus<T>(rq: Request<T>, v: unknown, onError?: DriverErrorSink<T>): BlkStatus {
  if (typeof v === 'number' && BlkStatus[v] !== undefined) return v;
  onError?.(rq, new TypeError(`queueRq returned ${String(v)}, not a BlkStatus`));
  return BlkStatus.IOERR;
}

/**
 * blk_mq_dispatch_rq_list() over `queueRq`: each request in order, `isLast` on the last;
 * at the first RESOURCE / DEV_RESOURCE the rest are not offered and report RESOURCE;
 * then `commitRqs` once. Synchronous while the driver is; a thrown `queueRq` yields IOERR.
 */
export function defaultQueueRqs<T, H>(
  ops: Operations<T, H>,
  hctx: Hctx<H>,
  rqs: readonly Request<T>[],
  onError?: DriverErrorSink<T>,
): readonly BlkStatus[] | Promise<readonly BlkStatus[]> {
  const out: BlkStatus[] = [];
  const finish = (from: number): BlkStatus[] | Promise<BlkStatus[]> => {
    for (let j = from; j < rqs.length; j++) out.push(BlkStatus.RESOURCE);
    let c: void | Promise<void>;
    try {
      c = ops.commitRqs(hctx);
    } catch (e) {
      onError?.(undefined, e);
      return out;
    }
    return isThenable(c)
      ? Promise.resolve(c).then(
          () => out,
          (e) => (onError?.(undefined, e), out),
        )
      : out;
  };
  const run = (from: number): BlkStatus[] | Promise<BlkStatus[]> => {
    for (let i = from; i < rqs.length; i++) {
      const rq = rqs[i];
      let r: unknown;
      try {
        r = ops.queueRq(hctx, rq, i === rqs.length - 1);
      } catch (e) {
        onError?.(rq, e);
        r = BlkStatus.IOERR;
      }
      if (isThenable(r)) {
        return Promise.resolve(r).then(
          (v) => next(i, asStatus(rq, v, onError)),
          (e) => (onError?.(rq, e), next(i, BlkStatus.IOERR)),
        );
      }
      const s = asStatus(rq, r, onError);
      out.push(s);
      if (isRequeueStatus(s)) return finish(i + 1);
    }
    return finish(rqs.length);
  };
  const next = (i: number, s: BlkStatus): BlkStatus[] | Promise<BlkStatus[]> => {
    out.push(s);
    return isRequeueStatus(s) ? finish(i + 1) : run(i + 1);
  };
  return run(0);
}

/** The timeout default: ends the request with TIMEOUT (if it has not ended meanwhile). */
export function defaultTimeout<T>(rq: Request<T>): TimeoutAction {
  rq.tryEnd(BlkStatus.TIMEOUT);
  return TimeoutAction.Done;
}

/** The map_queues default: `cpu mod nrHwQueues` (negative and fractional cpus fold in). */
export function defaultMapQueues(cpu: number, nrHwQueues: number): number {
  const c = Number.isFinite(cpu) ? Math.trunc(cpu) : 0;
  return ((c % nrHwQueues) + nrHwQueues) % nrHwQueues;
}

export { isThenable };
