// Mirrors a request_queue's membership of a tag set shared between queues (null_blk's
// shared_tags, blk-mq's BLK_MQ_F_TAG_QUEUE_SHARED): one owner epoch's holding in the
// shared tag set (`SharedTagSet`, its own hash slot), the `TagSource` of a shared_tags
// disk's `TagBudget` in both placements (DESIGN I15).
import { type BudgetRelease, type SharedTagSet } from '#redis-mq';
import type { LeaseCompanion, OwnerLease } from './owner-lease';

/**
 * Invariants:
 *   - Every call sets the holding's `until` to two owner leases from now, so a holding
 *     whose owner renews (`renew`, with every `OwnerLease` renewal) is never reclaimed,
 *     and one whose owner died comes back to the set two leases after its last call (I3).
 *   - A reclaimed holding refuses every later call (`OwnerGoneError`): the owner loses its
 *     lease and its requests, as when its disk's slot reclaimed it.
 *   - A clean shutdown (`leave`) gives back everything the epoch holds at once.
 */
export class SharedTagShare implements LeaseCompanion {
  constructor(
    private readonly set: SharedTagSet,
    private readonly disk: string,
    private readonly lease: OwnerLease,
  ) {}

  take(pool: number, want: number, releases: readonly BudgetRelease[]): Promise<number> {
    return this.set.take(this.disk, this.lease.epoch, pool, want, releases, this.until());
  }

  async renew(): Promise<void> {
    await this.set.take(this.disk, this.lease.epoch, 0, 0, [], this.until());
  }

  async leave(): Promise<void> {
    await this.set.leave(this.disk, this.lease.epoch);
  }

  private until(): number {
    return Date.now() + 2 * this.lease.leaseMs;
  }
}
