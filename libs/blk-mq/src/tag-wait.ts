// Mirrors the sbitmap wait queues of blk_mq_get_tag(): a submitter that finds no free tag
// sleeps until one is freed, first come first served, and never fails for lack of tags.

import type { InProcRequestTable } from './inproc-request-table';
import type { RequestToken } from './request-table';

type Grant = (token: RequestToken) => void;

interface Waiter {
  readonly hctx: number;
  readonly grant: Grant;
}

/** A FIFO queue with O(1) push and shift. */
class Fifo<V> {
  private items: (V | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: V): void {
    this.items.push(v);
  }

  peek(): V | undefined {
    return this.items[this.head];
  }

  shift(): V | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

/**
 * Tag waiters, one queue per tag pool (one pool when tags are shared).
 *
 * Invariants: within a pool, tags are granted in the order `acquire` was called; a new
 * submitter never overtakes a waiter of its pool.
 */
export class TagWaitQueue {
  /** `acquire` calls that had to wait. */
  waits = 0;
  private readonly queues = new Map<number, Fifo<Waiter>>();

  constructor(private readonly table: InProcRequestTable) {}

  /** Submitters waiting now. */
  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Grants a tag of `hctx`'s pool to `grant`, now if one is free and nobody waits, else later. */
  acquire(hctx: number, grant: Grant): void {
    const q = this.queueOf(hctx);
    if (q.length === 0) {
      const [token] = this.table.allocSync(hctx, 1);
      if (token) return grant(token);
    }
    this.waits += 1;
    q.push({ hctx, grant });
  }

  /** Grants freed tags of `hctx`'s pool to waiters, oldest first, while tags last. */
  wake(hctx: number): void {
    const q = this.queueOf(hctx);
    while (q.length > 0) {
      const w = q.peek()!;
      const [token] = this.table.allocSync(w.hctx, 1);
      if (!token) return;
      q.shift();
      w.grant(token);
    }
  }

  private queueOf(hctx: number): Fifo<Waiter> {
    const pool = this.table.config.sharedTags ? 0 : hctx;
    let q = this.queues.get(pool);
    if (!q) this.queues.set(pool, (q = new Fifo()));
    return q;
  }
}
