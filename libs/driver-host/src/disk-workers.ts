// Mirrors the per-gendisk set of kblockd work items a driver process runs: the workers of
// each disk, replaced whole when the disk's host changes and closed whole at shutdown.
// Shared by the rnull service (hctx workers) and the completion service.

/** Anything a disk's worker set holds: a batch worker, a BullMQ worker. */
export interface ClosableWorker {
  close(): Promise<void>;
}

/**
 * Invariants: a disk has at most one set; `replace` closes the old set (its running
 * batches finish) before the new one is recorded; `close` closes every set, and no set
 * starts after it (a `replace` still closing an old set when `close` came starts none:
 * its workers would outlive the process's shutdown).
 */
export class DiskWorkers<W extends ClosableWorker = ClosableWorker> {
  private readonly sets = new Map<string, W[]>();
  private closed = false;

  /** The disks that have workers now. */
  disks(): string[] {
    return [...this.sets.keys()];
  }

  /** Closes `disk`'s workers, then records what `start` makes (nothing when it returns undefined). */
  async replace(disk: string, start: () => W[] | undefined): Promise<void> {
    const old = this.sets.get(disk);
    this.sets.delete(disk);
    if (old) await Promise.all(old.map((w) => w.close()));
    if (this.closed) return;
    const next = start();
    if (next) this.sets.set(disk, next);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.sets.values()].flat();
    this.sets.clear();
    await Promise.all(all.map((w) => w.close()));
  }
}
