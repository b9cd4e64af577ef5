// Mirrors `ARef<Request<T>>` of rust/kernel/block/mq/request.rs (req_ref_inc_not_zero /
// req_ref_put_and_test): a counted reference that keeps a request's slot from recycling.

import { NoReferenceError, checkOpResult } from './request-errors';
import { OpResult, formatToken } from './request-table';
import type { SyncRequestTable } from './request-table';
import type { Request } from './request';

/**
 * One reference to one generation of a request. `using ref = rq.ref()` drops it at the end
 * of the scope.
 *
 * Invariants: a `RequestRef` releases its table reference at most once; while it is held
 * and the table recycles 'on-drop', the slot keeps this generation (DESIGN invariant 1).
 */
export class RequestRef<T = unknown> implements Disposable {
  private held = true;

  /** Constructed by `Request.ref()` after the table counted the reference. */
  constructor(
    readonly request: Request<T>,
    private readonly table: SyncRequestTable,
  ) {}

  /** False once dropped. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Releases the reference. Returns Ok, Recycled (this was the last reference), or Stale
   * (recycle 'inline' freed the slot at end; nothing to release). A second drop of the
   * same `RequestRef` throws `NoReferenceError` and changes nothing.
   */
  drop(): OpResult {
    if (!this.held) {
      const name = formatToken(this.table.disk, this.request.token);
      throw new NoReferenceError(OpResult.NoReference, name, `${name}: RequestRef dropped twice`);
    }
    this.held = false;
    const r = this.table.applySync([{ op: 'drop', token: this.request.token }])[0];
    return r === OpResult.Stale ? r : checkOpResult(r, this.request, 'drop');
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  toString(): string {
    return `RequestRef{${formatToken(this.table.disk, this.request.token)}${this.held ? '' : ' dropped'}}`;
  }
}
