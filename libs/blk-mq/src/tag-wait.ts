// Mirrors the sbitmap wait queues of blk_mq_get_tag(): a submitter that finds no free tag
// sleeps until one is freed and never fails for lack of tags. Unlike the kernel's single
// FIFO, waiters take turns by client (blk-mq's fair tag sharing, per submitter).

import type { InProcRequestTable } from './inproc-request-table';
import { type RequestToken, tagPoolOf } from './request-table';

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

/** The waiters of one tag pool: one FIFO per client, and the clients with waiters in turn order. */
class PoolWaiters {
  readonly byClient = new Map<number, Fifo<Waiter>>();
  /** Clients with at least one waiter, each once; the head is served next. */
  readonly turns = new Fifo<number>();
  length = 0;

  push(client: number, w: Waiter): void {
    let q = this.byClient.get(client);
    if (!q) {
      this.byClient.set(client, (q = new Fifo()));
      this.turns.push(client);
    }
    q.push(w);
    this.length += 1;
  }

  /** The waiter served next: the oldest of the client whose turn it is. */
  peek(): Waiter | undefined {
    const client = this.turns.peek();
    return client === undefined ? undefined : this.byClient.get(client)!.peek();
  }

  /** Removes `peek()`'s waiter; its client goes to the back of the turns if it still waits. */
  shift(): void {
    const client = this.turns.shift()!;
    const q = this.byClient.get(client)!;
    q.shift();
    this.length -= 1;
    if (q.length > 0) this.turns.push(client);
    else this.byClient.delete(client);
  }
}

/**
 * Tag waiters, one set per tag pool (one pool when tags are shared). Waiters of a pool are
 * served round robin between clients and FIFO within one client, so a client with
 * thousands of queued requests cannot starve another client's single one.
 *
 * Invariants:
 *   - a new submitter never overtakes a waiter of its pool (it waits whenever anyone
 *     does), so in particular never one of its own client;
 *   - within one client, tags are granted in the order `acquire` was called;
 *   - a client with waiters gets at most one tag before every other client that was
 *     waiting got one (a client that starts waiting joins the back of the turns).
 */
export class TagWaitQueue {
  /** `acquire` calls that had to wait. */
  waits = 0;
  private readonly pools = new Map<number, PoolWaiters>();

  constructor(private readonly table: InProcRequestTable) {}

  /** Submitters waiting now. */
  get waiting(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.length;
    return n;
  }

  /**
   * Grants a tag of `hctx`'s pool to `grant` for `client`: now if one is free and nobody
   * of the pool waits, else later, in its client's turn.
   */
  acquire(hctx: number, client: number, grant: Grant): void {
    const p = this.poolOf(hctx);
    if (p.length === 0) {
      const [token] = this.table.allocSync(hctx, 1);
      if (token) return grant(token);
    }
    this.waits += 1;
    p.push(client, { hctx, grant });
  }

  /** Grants freed tags of `hctx`'s pool to waiters, in turn order, while tags last. */
  wake(hctx: number): void {
    const p = this.poolOf(hctx);
    while (p.length > 0) {
      const w = p.peek()!;
      const [token] = this.table.allocSync(w.hctx, 1);
      if (!token) return;
      p.shift();
      w.grant(token);
    }
  }

  private poolOf(hctx: number): PoolWaiters {
    const pool = tagPoolOf(this.table.config, hctx);
    let p = this.pools.get(pool);
    if (!p) this.pools.set(pool, (p = new PoolWaiters()));
    return p;
  }
}
