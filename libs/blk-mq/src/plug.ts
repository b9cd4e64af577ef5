// Mirrors `struct blk_plug` (blk_start_plug / blk_finish_plug): requests gathered while a
// submitter runs, here one event-loop tick, then handed to the driver as one batch per hctx.

/** Schedules `fn` after the current tick; returns a canceller. */
export type TickScheduler = (fn: () => void) => () => void;

/** `setImmediate`: runs after the I/O callbacks of this tick, so one tick is one batch. */
export const nextTick: TickScheduler = (fn) => {
  const h = setImmediate(fn);
  return () => clearImmediate(h);
};

/**
 * A plug.
 *
 * Invariants: a request is in at most one list; a flush hands each hctx's list to the
 * flusher exactly once, in submission order; at most one flush is scheduled at a time.
 */
export class Plug<R> {
  private lists = new Map<number, R[]>();
  private count = 0;
  private cancel: (() => void) | undefined;

  constructor(
    /** Receives one batch per hctx, hctxs in ascending order. */
    private readonly flusher: (hctx: number, batch: R[]) => void,
    private readonly schedule: TickScheduler = nextTick,
  ) {}

  /** Requests waiting for the flush. */
  get size(): number {
    return this.count;
  }

  /** Plugs `rq` for `hctx`; the flush runs on the next tick. */
  add(hctx: number, rq: R): void {
    let list = this.lists.get(hctx);
    if (!list) this.lists.set(hctx, (list = []));
    list.push(rq);
    this.count += 1;
    this.cancel ??= this.schedule(() => {
      this.cancel = undefined;
      this.flush();
    });
  }

  /** The last request plugged for `hctx`, not yet flushed: the candidate for a back merge. */
  last(hctx: number): R | undefined {
    const list = this.lists.get(hctx);
    return list?.[list.length - 1];
  }

  /** Hands every plugged request to the flusher now. */
  flush(): void {
    if (this.cancel) {
      this.cancel();
      this.cancel = undefined;
    }
    const lists = this.lists;
    this.lists = new Map();
    this.count = 0;
    for (const hctx of [...lists.keys()].sort((a, b) => a - b)) this.flusher(hctx, lists.get(hctx)!);
  }

  /** Drops the scheduled flush; plugged requests stay until the next `flush()`. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
