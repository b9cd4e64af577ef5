// Mirrors the `struct badblocks` a null_blk device checks on its IO path
// (`null_handle_badblocks`), as one driver process's copy of the disk's `badblocks`
// list: followed from the registry, cleared in place by badblocks_once hits.
import { BadBlocks, type BadBlockHit } from './bad-blocks';

/**
 * One driver's copy of the bad-block list.
 *
 * Invariants:
 *   - It is the registry's list (`follow`), less the entries this copy cleared on a
 *     badblocks_once hit whose clear the registry may not hold yet ("pending").
 *   - A pending clear is kept until the registry's list no longer holds any of its
 *     sectors, or until the host says the clear it sent was answered (`settle`): from then
 *     on the registry's list is taken as it is (it holds the clear, or, if the send failed,
 *     keeps the range bad for every copy alike).
 */
export class BadBlockCopy {
  private table: BadBlocks;
  private shown: string;
  private readonly pending: [start: number, end: number][] = [];

  constructor(shown: string) {
    this.shown = shown;
    this.table = BadBlocks.fromShown(shown);
  }

  get empty(): boolean {
    return this.table.empty;
  }

  /** The copy as `badblocks_show` prints it. */
  show(): string {
    return this.table.show();
  }

  /** Takes the registry's list (`shown`, as the record holds it) when it changed. */
  follow(shown: string): void {
    if (shown === this.shown) return;
    this.shown = shown;
    this.table = BadBlocks.fromShown(shown);
    this.reapplyPending();
  }

  /** `badblocks_check`; with `once`, the hit entry is cleared here and kept pending. */
  check(sector: number, sectors: number, once: boolean): BadBlockHit | undefined {
    const hit = this.table.check(sector, sectors);
    if (hit && once) {
      const range: [number, number] = [hit.firstBad, hit.firstBad + hit.badSectors - 1];
      this.table.clear(...range);
      this.pending.push(range);
    }
    return hit;
  }

  /** The host's send of the clear of the entry at `firstBad` was answered (or failed). */
  settle(firstBad: number): void {
    const i = this.pending.findIndex(([s]) => s === firstBad);
    if (i >= 0) this.pending.splice(i, 1);
  }

  private reapplyPending(): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const [s, e] = this.pending[i];
      if (this.table.check(s, e - s + 1)) this.table.clear(s, e);
      else this.pending.splice(i, 1); // The registry holds the clear.
    }
  }
}
