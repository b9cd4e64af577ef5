// Mirrors the tunables of a `struct request_queue` (its sysfs queue attributes and
// blk-mq's constants) and the counters it keeps: what an `Engine` is built with and
// what it reports.

import type { Request } from './request';
import type { TickScheduler } from './plug';

/** `BLK_MQ_RESOURCE_DELAY`: retry delay after RESOURCE / DEV_RESOURCE, ms. */
export const RESOURCE_DELAY_MS = 3;

export interface EngineOptions {
  /** Retry delay for requeued requests, ms. Default `RESOURCE_DELAY_MS`. */
  readonly requeueDelayMs?: number;
  /** Timeout scan period, ms. Default a quarter of the timeout, 1..1000. */
  readonly timeoutScanMs?: number;
  /** Clock for deadlines, ms. Default `Date.now()`. */
  readonly now?: () => number;
  /** How plug flushes are scheduled. Default `setImmediate` (one batch per tick). */
  readonly tick?: TickScheduler;
  /**
   * Largest READ / WRITE one submission may move, bytes; bigger ones are refused (field
   * 'bytes'). Default `MAX_SUBMISSION_BYTES` (1 GiB).
   */
  readonly maxSubmissionBytes?: number;
  /**
   * The queue's `nomerges` attribute: true keeps every bio in a request of its own (no plug
   * merge). Default false: bios that continue the plug's last request join it.
   */
  readonly noMerges?: boolean;
  /** Told about every request the timeout handler ended (for logs and metrics). */
  readonly onTimeout?: (rq: Request<unknown>) => void;
  /** Told about every exception a driver method threw (the request gets IOERR). */
  readonly onDriverError?: (err: unknown, where: string, rq?: Request<unknown>) => void;
  /**
   * The hrtimer of `rq.completeAfter` (irqmode 2): resolves at `dueMs` (a `Date.now()`
   * time, fractional). Without it the engine arms `setTimeout`, good to a millisecond; a
   * service passes a finer timer (the cluster's `PreciseTimer`).
   */
  readonly completionTimer?: (dueMs: number) => Promise<void>;
}

/** What the engine did, for metrics. */
export interface EngineCounters {
  submitted: number;
  /** Submissions completed, by any status, including refused ones. */
  completed: number;
  /** Submissions completed with a status other than OK. */
  failed: number;
  /** Requests issued to hctxs (a split submission issues several). */
  requests: number;
  /** Bios back-merged into a plugged request instead of taking a tag. */
  merges: number;
  /** Requests that waited for a tag. */
  tagWaits: number;
  requeued: number;
  /** Calls of the driver's timeout handler (or the default). */
  timeouts: number;
  /** `complete()` calls whose request had already ended or been recycled. */
  lateCompletes: number;
  /** `endRemote` calls refused: old generation, already ended, not held by the driver. */
  staleEnds: number;
  driverErrors: number;
}
