// The messages that carry requests between services: dispatch -> rnull (a batch of
// requests for one hctx, the `queue_rqs` list), rnull -> completion (softirq and timer
// batches) and the completion notices back to dispatch.
import type { RequestToken } from '#blk-mq';

/** One request on the wire: [tag, gen, op (ReqOp), sector, bytes, flags]. */
export type RqWire = [tag: number, gen: number, op: number, sector: number, bytes: number, flags: number];

/** A batch of requests of one hctx, as a message of the hctx's batch queue. */
export interface RqBatch {
  readonly disk: string;
  readonly hctx: number;
  /** Dispatch instance that holds the client calls: where completion notices go. */
  readonly replyTo: string;
  readonly rqs: RqWire[];
  /** When the batch was added to the hctx queue (`nowMsPrecise`), for the queue-wait metric. */
  readonly queuedAtMs?: number;
}

/** One request to end later: [hctx, tag, gen, status]. */
export type EndWire = [hctx: number, tag: number, gen: number, status: number];

/** A batch of requests for the completion service (softirq now, timer at `dueMs`). */
export interface EndBatch {
  readonly disk: string;
  readonly replyTo: string;
  readonly ends: EndWire[];
  /** Timer mode: when to end them, in ms since the epoch with a fraction (sub-ms precision). */
  readonly dueMs?: number;
}

/** The request-data field that holds a request's write payload. */
export function dataField(t: RequestToken): string {
  return `${t.hctx}:${t.tag}:${t.gen}`;
}

/** The request-data field that receives a request's read data (it travels on with the notice). */
export function readDataField(t: RequestToken): string {
  return `${t.hctx}:${t.tag}:${t.gen}:r`;
}

/**
 * Queue names: the batch queues (`hctx`, `softirq`, `timer`) and the BullMQ queues of the
 * delayed requeue path (`requeue`). Disk names are [A-Za-z0-9._-], so `.` separates safely.
 */
export const QueueNames = {
  hctx: (disk: string, hctx: number) => `rq.${disk}.${hctx}`,
  requeue: (disk: string, hctx: number) => `requeue.${disk}.${hctx}`,
  softirq: 'softirq',
  timer: 'timer',
} as const;

/** A completion notice: `hctx:tag:gen:status`. */
export function formatNotice(t: RequestToken, status: number): string {
  return `${t.hctx}:${t.tag}:${t.gen}:${status}`;
}

export function parseNotice(s: string): { token: RequestToken; status: number } | undefined {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(s);
  if (!m) return undefined;
  return { token: { hctx: Number(m[1]), tag: Number(m[2]), gen: Number(m[3]) }, status: Number(m[4]) };
}

/** Longest `hctx:tag:gen:status` head of a notice. */
const MAX_NOTICE_HEAD = 80;
const BAR = 0x7c;

/** A notice as pushed: `hctx:tag:gen:status`, then `|` and the read data when it carries some. */
export function parseNoticeBuffer(b: Buffer): { token: RequestToken; status: number; data?: Buffer } | undefined {
  const bar = b.subarray(0, MAX_NOTICE_HEAD + 1).indexOf(BAR);
  const head = parseNotice(b.toString('latin1', 0, bar < 0 ? MAX_NOTICE_HEAD + 1 : bar));
  if (!head) return undefined;
  return bar < 0 ? head : { ...head, data: b.subarray(bar + 1) };
}

/** Current time in ms since the epoch with sub-millisecond precision. */
export function nowMsPrecise(): number {
  return performance.timeOrigin + performance.now();
}
