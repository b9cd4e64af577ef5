// Byte ranges of one connection held in arrival order: a read-modify-write of a partial
// block must not interleave with another command that changes the same block.

/** A held range; `release()` lets the next overlapping holder in (idempotent). */
export type ReleaseRange = () => void;

interface Holder {
  readonly start: bigint;
  readonly end: bigint;
  readonly released: Promise<void>;
}

/**
 * Invariants:
 *   - Two holders of overlapping ranges never hold at once; of two overlapping
 *     `acquire`s, the earlier one holds first (FIFO per overlap, no overtaking).
 *   - Ranges that do not overlap never wait for each other.
 *   - A released range is forgotten: the lock holds only what is in flight.
 */
export class BlockRangeLock {
  private readonly holders: Holder[] = [];

  /** Waits until every earlier overlapping range of [start, end) is released. */
  async acquire(start: bigint, end: bigint): Promise<ReleaseRange> {
    const before = this.holders.filter((o) => o.start < end && start < o.end).map((o) => o.released);
    let resolve!: () => void;
    const holder: Holder = { start, end, released: new Promise<void>((r) => (resolve = r)) };
    this.holders.push(holder);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.holders.splice(this.holders.indexOf(holder), 1);
      resolve();
    };
    if (before.length > 0) await Promise.all(before);
    return release;
  }

  /** Ranges held or waiting (tests). */
  get size(): number {
    return this.holders.length;
  }
}
