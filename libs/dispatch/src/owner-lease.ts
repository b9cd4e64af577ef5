// Mirrors nothing in the kernel, where the block layer cannot die apart from its driver:
// the liveness lease of one dispatch instance as the owner of one disk's requests
// (DESIGN §3). Its epoch names the owner on the wire; while the lease is renewed the
// owner's budget and completion list are its own, and when it lapses any other owner
// reclaims them (I3) and every page op of its batches is refused (I4).
import { OwnerGoneError, type OwnerRegistry } from '#redis-mq';

/**
 * What the owner holds outside its disk's hash slot (the shared tag set, I15): renewed
 * after each renewal of the lease, left on a clean shutdown. `renew` throws
 * `OwnerGoneError` when that holding was reclaimed: the lease is lost with it.
 */
export interface LeaseCompanion {
  renew(): Promise<void>;
  leave(): Promise<void>;
}

/**
 * Invariants:
 *   - `epoch` is set from `open()` on and never changes: a lost lease is never re-taken
 *     under the same epoch (the queue that held it is replaced, with a new epoch).
 *   - The lease is renewed every `leaseMs / 3`; each renewal also reclaims the owners of
 *     this disk whose lease expired.
 *   - `onLost` runs at most once, when a renewal finds the epoch gone (or an attached
 *     companion's holding reclaimed, I15).
 *   - Attached companions are renewed after each renewal that found the epoch alive, and
 *     leave before the epoch unregisters on a clean shutdown.
 */
export class OwnerLease {
  private epochValue = 0;
  private timer?: NodeJS.Timeout;
  private lost = false;
  private closed = false;
  private readonly companions: LeaseCompanion[] = [];

  constructor(
    private readonly owners: OwnerRegistry,
    readonly disk: string,
    readonly leaseMs: number,
    private readonly onLost: () => void,
    private readonly onReclaimed: (epochs: number[]) => void = () => undefined,
  ) {}

  /** The owner epoch; 0 before `open()`. */
  get epoch(): number {
    return this.epochValue;
  }

  get alive(): boolean {
    return this.epochValue > 0 && !this.lost && !this.closed;
  }

  /** Renews `c` with this lease from now on and makes it leave with it. */
  attach(c: LeaseCompanion): void {
    this.companions.push(c);
  }

  /** Registers a new epoch for this disk and starts renewing it. */
  async open(): Promise<number> {
    this.epochValue = await this.owners.register(this.disk, this.leaseMs);
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    return this.epochValue;
  }

  /** Renews now (also reclaims expired owners); a failure (Redis away) is retried next tick. */
  async renew(): Promise<void> {
    if (!this.alive) return;
    try {
      const { alive, reclaimed } = await this.owners.renew(this.disk, this.epochValue, this.leaseMs);
      if (reclaimed.length) this.onReclaimed(reclaimed);
      if (!alive) {
        if (!this.closed) this.lose();
        return;
      }
    } catch {
      // Redis away: the lease runs on; a renewal that comes too late finds it gone.
      return;
    }
    for (const c of this.companions) {
      try {
        await c.renew();
      } catch (err) {
        // I15: a holding the shared tag set reclaimed is this owner's death there too.
        if (err instanceof OwnerGoneError && !this.closed) return this.lose();
      }
    }
  }

  /** Called when Redis says the epoch is gone (a renewal, or a refused batch). */
  lose(): void {
    if (this.lost) return;
    this.lost = true;
    this.stopTimer();
    this.onLost();
  }

  /** Stops renewing; with `release`, gives the budget back at once (a clean shutdown). */
  async close(release: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    if (!release || this.epochValue === 0 || this.lost) return;
    for (const c of this.companions) await c.leave().catch(() => undefined);
    await this.owners.unregister(this.disk, this.epochValue).catch(() => undefined);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
