// Per-IO increments of a labelled Prometheus counter, tallied in process and added to the
// counter when it is read. prom-client's `inc(labels, n)` builds a hash string of the label
// object on every call; three such calls per IO on dispatch (requests and bytes ended, NBD
// commands) with their label strings cost it about 3 % of its CPU under 4 KiB IO at queue
// depth 32 (docs/bench/v2-hooks/). A tally slot is found by two Map lookups on values the
// caller already has (a string and a small integer), with nothing allocated once the slot
// exists; the label object is built once per slot and scrape.
import type { Counter, LabelValues } from 'prom-client';

/** One labelled series' increments since the last flush. */
interface TallySlot {
  n: number;
}

/**
 * Contract:
 *   - `add(outer, inner, n)` is `counter.inc(labelsOf(outer, inner), n)`, deferred: the sum
 *     reaches the counter at the next `flush()`; a counter built with
 *     `collect: () => tally.flush()` is therefore exact whenever it is read (a scrape,
 *     `get()`, `registry.metrics()`).
 *   - `labelsOf` maps a key pair to its labels; it must be a pure function of the pair.
 *   - `n` is finite and not negative, as for `inc`.
 */
export class CounterTally<L extends string> {
  private readonly slots = new Map<string, Map<number, TallySlot>>();

  constructor(
    private readonly counter: Counter<L>,
    private readonly labelsOf: (outer: string, inner: number) => LabelValues<L>,
  ) {}

  add(outer: string, inner: number, n = 1): void {
    let byInner = this.slots.get(outer);
    if (!byInner) this.slots.set(outer, (byInner = new Map()));
    const slot = byInner.get(inner);
    if (slot) slot.n += n;
    else byInner.set(inner, { n });
  }

  /** Adds every tallied increment to the counter. Slots stay for reuse, at zero. */
  flush(): void {
    for (const [outer, byInner] of this.slots) {
      for (const [inner, slot] of byInner) {
        if (slot.n === 0) continue;
        this.counter.inc(this.labelsOf(outer, inner), slot.n);
        slot.n = 0;
      }
    }
  }
}
