// Mirrors the cluster's RemoteDriver in miniature: `queueRqs` starts every request, then
// "pushes" the batch asynchronously to a driver in another process, which takes only as
// many as its budget allows (the rest get RESOURCE). The far side is a RAM store whose end
// records the test delivers through `Engine.endRemote`, like the owner's completion list.

import { PAGE_SIZE, SECTOR_SIZE } from '../bio';
import { BlkStatus } from '../blk-status';
import type { Hctx } from '../hctx';
import type { Operations } from '../operations';
import { ReqOp } from '../req-op';
import type { Request } from '../request';
import type { RequestRef } from '../request-ref';
import type { RequestToken } from '../request-table';

/** One request as the far side received it (the batch record, with a write's payload). */
export interface PushedRequest {
  readonly token: RequestToken;
  readonly op: ReqOp;
  readonly sector: number;
  readonly bytes: number;
  readonly payload?: Uint8Array;
}

/** What `Engine.endRemote` takes: one end record. */
export interface EndRecord {
  readonly token: RequestToken;
  readonly status: BlkStatus;
  readonly data?: Uint8Array;
}

/**
 * A remote driver with a far-side store of 4 KiB pages (tests use 4 KiB-aligned IO).
 *
 * Invariants: every request offered is started before the push; `pushed` holds exactly the
 * requests answered OK whose end record was not yet taken (`takeEnds`); a request answered
 * RESOURCE never reached the far side.
 */
export class FakeRemoteDriver implements Operations {
  /** Requests the far side took, oldest first. */
  readonly pushed: PushedRequest[] = [];
  /** Batches offered (sizes), in order. */
  readonly batches: number[] = [];
  /** Requests the far side takes per batch; the rest are refused with RESOURCE. */
  budget = Number.MAX_SAFE_INTEGER;
  /** Delay of the push's reply, ms. */
  pushMs = 1;
  /** When true, takes an extra reference on every request it starts (kept in `refs`). */
  holdRefs = false;
  readonly refs: RequestRef[] = [];
  private readonly store = new Map<number, Uint8Array>();

  async queueRqs(_hctx: Hctx, rqs: readonly Request[]): Promise<BlkStatus[]> {
    this.batches.push(rqs.length);
    for (const rq of rqs) {
      rq.start();
      if (this.holdRefs) this.refs.push(rq.ref());
    }
    const took = Math.min(this.budget, rqs.length);
    // The push lands on the far side now; its reply reaches us after `pushMs`, so an end
    // record may come back before queueRqs resolves.
    for (const rq of rqs.slice(0, took)) {
      const payload =
        rq.op === ReqOp.WRITE
          ? concat(
              rq.bios.map((b) => b.data!),
              rq.bytes,
            )
          : undefined;
      this.pushed.push({ token: rq.token, op: rq.op, sector: rq.sector, bytes: rq.bytes, payload });
    }
    await new Promise((r) => setTimeout(r, this.pushMs));
    return rqs.map((_, i) => (i < took ? BlkStatus.OK : BlkStatus.RESOURCE));
  }

  queueRq(): BlkStatus {
    throw new Error('FakeRemoteDriver takes batches only');
  }

  commitRqs(): void {}

  complete(rq: Request): void {
    rq.tryEnd(BlkStatus.OK);
  }

  /** Runs the first `n` pushed requests on the far side and returns their end records. */
  takeEnds(n = this.pushed.length): EndRecord[] {
    return this.pushed.splice(0, n).map((p) => {
      const pos = p.sector * SECTOR_SIZE;
      if (p.op === ReqOp.WRITE) {
        for (let at = 0; at < p.bytes; at += PAGE_SIZE) this.store.set(pos + at, p.payload!.slice(at, at + PAGE_SIZE));
        return { token: p.token, status: BlkStatus.OK };
      }
      if (p.op === ReqOp.READ) {
        const data = new Uint8Array(p.bytes);
        for (let at = 0; at < p.bytes; at += PAGE_SIZE) {
          const page = this.store.get(pos + at);
          if (page) data.set(page.subarray(0, Math.min(PAGE_SIZE, p.bytes - at)), at);
        }
        return { token: p.token, status: BlkStatus.OK, data };
      }
      return { token: p.token, status: BlkStatus.OK };
    });
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
