// Mirrors a driver whose hardware completes only when told: requests are started and held
// until a test ends them, so tests decide every interleaving.

import { BlkStatus } from '../blk-status';
import type { Hctx } from '../hctx';
import type { Operations } from '../operations';
import type { Request } from '../request';

/**
 * Holds every request it takes. `verdict` may refuse a request (RESOURCE, IOERR, ...)
 * before it is started.
 *
 * Invariants: `held` lists started requests that this driver has not ended, oldest first.
 */
export class HoldDriver implements Operations {
  readonly held: Request[] = [];
  /** Every request offered to queueRq, in order, with the batch flag. */
  readonly seen: { rq: Request; isLast: boolean; hctx: number }[] = [];
  commits = 0;
  verdict: (rq: Request) => BlkStatus = () => BlkStatus.OK;

  queueRq(hctx: Hctx, rq: Request, isLast: boolean): BlkStatus {
    this.seen.push({ rq, isLast, hctx: hctx.index });
    const v = this.verdict(rq);
    if (v !== BlkStatus.OK) return v;
    rq.start();
    this.held.push(rq);
    return BlkStatus.OK;
  }

  commitRqs(): void {
    this.commits += 1;
  }

  complete(rq: Request): void {
    rq.end(BlkStatus.OK);
  }

  /** Ends the oldest `n` held requests with `status`. */
  endOldest(n = 1, status: BlkStatus = BlkStatus.OK): Request[] {
    const done = this.held.splice(0, n);
    for (const rq of done) rq.end(status);
    return done;
  }
}

/** Lets the plug flush (setImmediate) and promise callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
