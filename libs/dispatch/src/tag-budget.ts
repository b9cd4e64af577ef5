// Mirrors a per-hctx cache of driver tags in front of a shared tag set (the kernel's
// `hctx_may_queue` share of a shared sbitmap): this dispatch instance's share of a disk's
// Redis tag budget (`tags:budget`, DESIGN §3) when its driver runs in this process
// (`LocalDriver`), or of the shared tag set with shared_tags (both placements, I15). A
// batch takes budget only for what the share does not already cover, so under steady
// load most batches cost no Redis round trip for their tags.
import { tagPoolCount, tagPoolOf, type TagSpaceConfig } from '#blk-mq';
import { type BatchSubmitter, type BudgetRelease, OwnerGoneError } from '#redis-mq';
import type { OwnerLease } from './owner-lease';

/**
 * Where the units come from: one Redis step that gives back `releases` and takes up to
 * `want` of `pool` for this owner, resolving what it took; it throws `OwnerGoneError` once
 * the owner's holding was reclaimed.
 */
export interface TagSource {
  take(pool: number, want: number, releases: readonly BudgetRelease[]): Promise<number>;
}

/** The disk's own budget (`takeBudget-3.lua`, in the disk's slot). */
export function diskTagSource(submitter: BatchSubmitter, disk: string, lease: OwnerLease): TagSource {
  return { take: (pool, want, releases) => submitter.takeBudget(disk, lease.epoch, pool, want, releases) };
}

/** How long budget this instance holds but does not use is kept before it goes back, ms. */
export const SPARE_BUDGET_HOLD_MS = 20;

/**
 * Invariants:
 *   - Per pool, `covered` (tags of this owner that hold a unit of budget) never exceeds
 *     `held` (units this owner holds in Redis), so the owners of a disk together never
 *     run more than `hw_queue_depth` requests of one pool (I1).
 *   - A tag is marked covered synchronously, before any await: two batches in flight at
 *     once never count the same spare unit.
 *   - Spare units (held, not covered) go back to Redis at most `SPARE_BUDGET_HOLD_MS`
 *     after a tag was freed, so another instance waiting for budget gets it.
 *   - Nothing is sent once the owner lease is lost: its budget was reclaimed whole (I3).
 */
export class TagBudget {
  private readonly held: number[];
  private readonly covered: Set<number>[];
  private releaseTimer?: NodeJS.Timeout;

  constructor(
    private readonly tagSpace: TagSpaceConfig,
    private readonly source: TagSource,
    private readonly lease: OwnerLease,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    const pools = tagPoolCount(tagSpace);
    this.held = new Array<number>(pools).fill(0);
    this.covered = Array.from({ length: pools }, () => new Set<number>());
  }

  /**
   * Covers the tags of a batch on `hctx`, in order; resolves how many of them (a prefix)
   * hold budget now. Throws `OwnerGoneError` when the lease is gone (the caller loses it).
   */
  async cover(hctx: number, tags: readonly number[]): Promise<number> {
    const pool = tagPoolOf(this.tagSpace, hctx);
    const set = this.covered[pool];
    // A requeued request keeps its tag, and its tag keeps its unit.
    let i = 0;
    for (let spare = this.held[pool] - set.size; i < tags.length; i++) {
      if (set.has(tags[i])) continue;
      if (spare === 0) break;
      set.add(tags[i]);
      spare -= 1;
    }
    if (i === tags.length) return i;
    const want = tags.slice(i).filter((t) => !set.has(t)).length;
    const k = await this.source.take(pool, want, []);
    this.held[pool] += k;
    let taken = 0;
    for (; i < tags.length; i++) {
      if (set.has(tags[i])) continue;
      if (taken === k) break;
      set.add(tags[i]);
      taken += 1;
    }
    return i;
  }

  /** The engine's table freed `tag` of `hctx`: its unit stays held, spare, for a while. */
  tagFreed(hctx: number, tag: number): void {
    if (!this.covered[tagPoolOf(this.tagSpace, hctx)].delete(tag)) return;
    if (!this.releaseTimer) {
      this.releaseTimer = setTimeout(() => void this.releaseSpare(), SPARE_BUDGET_HOLD_MS);
      this.releaseTimer.unref();
    }
  }

  /** Stops the release timer. The lease's unregister (or reclaim) gives the whole budget back. */
  close(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  private async releaseSpare(): Promise<void> {
    this.releaseTimer = undefined;
    if (!this.lease.alive) return;
    const releases: [number, number][] = [];
    this.held.forEach((h, pool) => {
      const spare = h - this.covered[pool].size;
      if (spare > 0) releases.push([pool, spare]);
    });
    if (releases.length === 0) return;
    // Units leave `held` before the await: a batch meanwhile takes fresh budget instead.
    for (const [pool, n] of releases) this.held[pool] -= n;
    try {
      await this.source.take(0, 0, releases);
    } catch (err) {
      if (err instanceof OwnerGoneError) return this.lease.lose();
      // Redis away: whether the release applied is unknown. Counting the units as held
      // again could let this owner run over depth if it did apply, and sending it again
      // could give back units in use; so they stay with this epoch in Redis, unused,
      // until its lease ends (I1 over a short-lived leak).
      this.onError(err);
    }
  }
}
