// Mirrors the liveness of a tag set's user (a `struct request_queue` holding tags of a
// `blk_mq_tag_set`): owner epochs of a disk with leases, and the tag budget they hold
// (DESIGN §3). A dispatch instance registers an epoch per disk, renews it well within its
// lease, and unregisters it on a clean shutdown; the budget and completion list of an
// instance that died come back when a live owner renews after its lease ran out (I3).
//
// Keys (`KeySchema`, the disk's hash slot): `epoch` counter, `owners` zset (epoch ->
// lease expiry ms), `tags:budget` hash (`used:<pool>`, `held:<epoch>:<pool>`), `cq:<epoch>`.
//
// Contracts:
//   - `register` returns a fresh epoch, already alive.
//   - `renew` returns alive=false once the epoch was reclaimed (or unregistered): the
//     caller has lost every request it held in Redis and must register a new epoch; the
//     epoch is never re-added.
//   - `renew` reclaims every other owner whose lease ran out, atomically per run
//     (`renewOwner-3.lua`): budget given back, held fields and completion list deleted.
//   - `unregister` gives the epoch's budget back and deletes its completion list now.
import type { Redis } from 'ioredis';
import { KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptRunner } from './lua-scripts';

/** Tags of one pool held by all owners together. */
export interface PoolBudget {
  readonly pool: number;
  readonly used: number;
}

export interface RenewResult {
  /** False when the epoch was not alive any more: stop using it. */
  readonly alive: boolean;
  /** Epochs of other owners reclaimed by this run (and, for `unregister`, the caller's). */
  readonly reclaimed: number[];
}

export class OwnerRegistry {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /** A new owner epoch of `disk`, alive until `leaseMs` from now. */
  async register(disk: string, leaseMs: number): Promise<number> {
    checkLease(leaseMs);
    const keys = [this.keys.ownerEpoch(checkDiskName(disk)), this.keys.owners(disk)];
    return Number(await this.scripts.run('registerOwner', keys, [Date.now() + leaseMs]));
  }

  /** Extends the lease of `epoch` to `leaseMs` from now and reclaims expired owners. */
  async renew(disk: string, epoch: number, leaseMs: number): Promise<RenewResult> {
    checkLease(leaseMs);
    return this.run(disk, epoch, leaseMs, false);
  }

  /** A clean shutdown: gives back every tag `epoch` holds and removes it (and reclaims expired owners). */
  async unregister(disk: string, epoch: number): Promise<RenewResult> {
    return this.run(disk, epoch, 0, true);
  }

  /** `used` per pool (pools that never held a tag are absent), for tests and metrics. */
  async budget(disk: string): Promise<PoolBudget[]> {
    const all = await this.redis.hgetall(this.keys.tagBudget(checkDiskName(disk)));
    const pools: PoolBudget[] = [];
    for (const [field, value] of Object.entries(all)) {
      const m = /^used:(\d+)$/.exec(field);
      if (m) pools.push({ pool: Number(m[1]), used: Number(value) });
    }
    return pools.sort((a, b) => a.pool - b.pool);
  }

  /** Live owner epochs of `disk` with their lease expiry (ms). */
  async owners(disk: string): Promise<{ epoch: number; expiryMs: number }[]> {
    const flat = await this.redis.zrange(this.keys.owners(checkDiskName(disk)), '0', '-1', 'WITHSCORES');
    const out: { epoch: number; expiryMs: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ epoch: Number(flat[i]), expiryMs: Number(flat[i + 1]) });
    return out;
  }

  private async run(disk: string, epoch: number, leaseMs: number, leave: boolean): Promise<RenewResult> {
    checkDiskName(disk);
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`${disk}: bad owner epoch ${epoch}`);
    const keys = [this.keys.owners(disk), this.keys.tagBudget(disk), this.keys.completionList(disk, epoch)];
    const args = [epoch, Date.now(), leaseMs, this.keys.completionListPrefix(disk), leave ? 1 : 0];
    const [alive, ...reclaimed] = (await this.scripts.run('renewOwner', keys, args)) as number[];
    return { alive: alive === 1, reclaimed };
  }
}

function checkLease(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) throw new RangeError(`bad owner lease ${leaseMs} ms: want an integer > 0`);
}
