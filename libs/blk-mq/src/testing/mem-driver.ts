// Mirrors the rnull / null_blk memory-backed driver in miniature: a reference
// `Operations` implementation for tests, with null_blk's irqmodes and fault hooks.

import { PAGE_SIZE, SECTOR_SIZE } from '../bio';
import { BlkStatus, isRequeueStatus } from '../blk-status';
import type { Hctx } from '../hctx';
import type { Operations } from '../operations';
import { ReqOp } from '../req-op';
import type { Request } from '../request';

/** null_blk `irqmode`: 0 none (end inline), 1 softirq (`complete()`), 2 timer. */
export type CompletionMode = 'inline' | 'softirq' | 'timer';

/** What a fault hook may decide: a status to return or end with, or 'lose' (start, never end). */
export type Fault = BlkStatus | 'lose' | undefined;

export interface MemDriverOptions {
  readonly mode?: CompletionMode;
  /** Timer mode: delay before the end, ms (null_blk `completion_nsec` / 1e6). */
  readonly completionMs?: number;
  /** Asked for every request before it runs; RESOURCE / DEV_RESOURCE are returned unstarted. */
  readonly fault?: (rq: Request<MemPdu>) => Fault;
}

/** Per-request driver data: the status `complete()` ends with. */
export interface MemPdu {
  status: BlkStatus;
  /** Times this tag was queued, across generations. */
  uses: number;
}

/**
 * A sparse RAM disk of 4 KiB pages.
 *
 * Invariants: unwritten bytes read as zeros; a page exists only once written; a request
 * ends with the status of its transfer (or its fault), whatever the completion mode.
 */
export class MemDriver implements Operations<MemPdu> {
  readonly pages = new Map<number, Uint8Array>();
  readonly counters = { queued: 0, ended: 0, faults: 0, commits: 0 };

  constructor(readonly options: MemDriverOptions = {}) {}

  newRequestData(): MemPdu {
    return { status: BlkStatus.OK, uses: 0 };
  }

  queueRq(_hctx: Hctx, rq: Request<MemPdu>): BlkStatus {
    this.counters.queued += 1;
    const fault = this.options.fault?.(rq);
    if (fault !== undefined) this.counters.faults += 1;
    if (typeof fault === 'number' && isRequeueStatus(fault)) return fault;
    rq.start();
    rq.pdu.uses += 1;
    if (fault === 'lose') return BlkStatus.OK;
    const status = fault ?? this.transfer(rq);
    rq.pdu.status = status;
    switch (this.options.mode ?? 'inline') {
      case 'inline':
        this.end(rq, status);
        break;
      case 'softirq':
        rq.complete();
        break;
      case 'timer':
        rq.completeAfter((this.options.completionMs ?? 1) * 1e6);
        break;
    }
    return BlkStatus.OK;
  }

  commitRqs(): void {
    this.counters.commits += 1;
  }

  complete(rq: Request<MemPdu>): void {
    this.end(rq, rq.pdu.status);
  }

  /** Reads `bytes` at byte offset `pos` from the store. */
  read(pos: number, bytes: number): Uint8Array {
    const out = new Uint8Array(bytes);
    this.each(pos, bytes, (page, off, at, len) => {
      const p = this.pages.get(page);
      if (p) out.set(p.subarray(off, off + len), at);
    });
    return out;
  }

  /** Ends `rq` unless it ended meanwhile (timeout): the completion may race the timeout handler. */
  private end(rq: Request<MemPdu>, status: BlkStatus): void {
    if (rq.tryEnd(status) >= 0) this.counters.ended += 1;
  }

  private transfer(rq: Request<MemPdu>): BlkStatus {
    const pos = rq.sector * SECTOR_SIZE;
    switch (rq.op) {
      case ReqOp.WRITE:
        for (const seg of rq.segments()) this.write(seg.sector * SECTOR_SIZE, seg.data);
        return BlkStatus.OK;
      case ReqOp.READ:
        for (const seg of rq.segments()) seg.copyFromPage(this.read(seg.sector * SECTOR_SIZE, seg.bytes));
        return BlkStatus.OK;
      case ReqOp.DISCARD:
      case ReqOp.WRITE_ZEROES:
        this.each(pos, rq.bytes, (page, off, _at, len) => {
          const p = this.pages.get(page);
          if (!p) return;
          if (len === PAGE_SIZE) this.pages.delete(page);
          else p.fill(0, off, off + len);
        });
        return BlkStatus.OK;
      case ReqOp.FLUSH:
        return BlkStatus.OK;
      default:
        return BlkStatus.NOTSUPP; // not a zoned device
    }
  }

  private write(pos: number, data: Uint8Array): void {
    this.each(pos, data.length, (page, off, at, len) => {
      let p = this.pages.get(page);
      if (!p) this.pages.set(page, (p = new Uint8Array(PAGE_SIZE)));
      p.set(data.subarray(at, at + len), off);
    });
  }

  /** Walks `bytes` from byte `pos` page by page: (page, offset in page, offset in range, length). */
  private each(pos: number, bytes: number, fn: (page: number, off: number, at: number, len: number) => void): void {
    for (let at = 0; at < bytes;) {
      const page = Math.floor((pos + at) / PAGE_SIZE);
      const off = (pos + at) % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - off, bytes - at);
      fn(page, off, at, len);
      at += len;
    }
  }
}
