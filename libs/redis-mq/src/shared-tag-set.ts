// Mirrors null_blk's module-wide `tag_set` of `shared_tags` and blk-mq's fair sharing of
// a tag set between queues (`hctx_may_queue` with BLK_MQ_F_TAG_QUEUE_SHARED): the one tag
// set every disk with shared_tags draws from, a hash in its own hash slot
// (`KeySchema.sharedTagSet`), and the TypeScript face of its three scripts (DESIGN I15).
//
// Contracts:
//   - `join` (gendisk, power on) lays the shape out when no other disk is a member, else
//     throws `TagSetShapeError` naming the field that differs; `part` (power off) leaves.
//   - `take` gives back `releases`, then takes up to `want` of `pool` for one owner epoch
//     of one disk: never past `queue_depth` for the set, never past the disk's fair share
//     max(ceil(depth / active disks), 4) for the disk (its epochs together). Every call
//     (`want` = 0 too) renews the holder until `untilMs`; after that any call of any disk
//     reclaims what it holds (I3 in the shared slot) and fences it: its next call throws
//     `OwnerGoneError`.
//   - `leave` gives back everything one owner epoch holds (a clean shutdown).
//   - Each runs one script on the one key, so every call runs on a Redis Cluster (I7).
import type { Redis } from 'ioredis';
import type { TagSpaceConfig } from '#blk-mq';
import type { BudgetRelease } from './batch-submitter';
import { checkDiskName, KeySchema } from './key-schema';
import { scriptsFor, type ScriptArg, type ScriptRunner } from './lua-scripts';
import { checkReply, ScriptCode, TagSetShapeError } from './script-errors';
import { checkTagSpace } from './tag-space';

/**
 * A disk that asked for tags of a pool within this long counts as an active user of the
 * pool (blk-mq's `blk_mq_tag_busy` until the queue goes idle), ms.
 */
export const SHARED_TAGS_IDLE_MS = 3000;

/** The shared tag set as a test or a metric sees it. */
export interface SharedTagSetState {
  /** The shape's depth; 0 when it was never laid out. */
  readonly depth: number;
  /** Disks that are members (powered with shared_tags). */
  readonly members: string[];
  /** `used` per pool. */
  readonly used: number[];
  /** Tags held per disk (all its epochs and pools). */
  readonly heldByDisk: Record<string, number>;
}

export class SharedTagSet {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /**
   * `disk` joins the set with the shape `config`; 'laid out' when its shape became the
   * set's. Throws `TagSetShapeError` (detail: field, wanted, the set's) or `TableBusyError`.
   */
  async join(disk: string, config: TagSpaceConfig): Promise<'laid out' | 'joined'> {
    const c = checkTagSpace(config);
    const args = [checkDiskName(disk), 'join', Date.now(), c.nrHwQueues, c.queueDepth, c.sharedTagBitmap ? 1 : 0];
    const reply = await this.scripts.run('layOutSharedTags', [this.keys.sharedTagSet()], args);
    if (Array.isArray(reply) && reply[0] === ScriptCode.ShapeMismatch) {
      const [, field, wanted, have] = reply as [number, string, string, string];
      const message = `layOutSharedTags: ${disk}: the shared tag set has ${field} ${have}, the disk asks for ${wanted}`;
      throw new TagSetShapeError(ScriptCode.ShapeMismatch, 'layOutSharedTags', message, field, Number(wanted), Number(have));
    }
    return checkReply<number>('layOutSharedTags', reply as number, disk) === 1 ? 'laid out' : 'joined';
  }

  /** `disk` leaves the set (power off); resolves the members left. */
  async part(disk: string): Promise<number> {
    return Number(await this.scripts.run('layOutSharedTags', [this.keys.sharedTagSet()], [checkDiskName(disk), 'part', Date.now()]));
  }

  /** Gives back `releases` and takes up to `want` of `pool`; resolves what it took. */
  async take(
    disk: string,
    epoch: number,
    pool: number,
    want: number,
    releases: readonly BudgetRelease[],
    untilMs: number,
    idleMs = SHARED_TAGS_IDLE_MS,
  ): Promise<number> {
    const args: ScriptArg[] = [checkDiskName(disk), count('epoch', epoch), count('pool', pool), Date.now(), count('until', untilMs)];
    args.push(count('idleMs', idleMs), count('want', want), releases.length);
    for (const [p, c] of releases) args.push(count('release pool', p), count('release count', c));
    const reply = await this.scripts.run('takeSharedTags', [this.keys.sharedTagSet()], args);
    return checkReply<number>('takeSharedTags', reply as number, `${disk} epoch ${epoch}`);
  }

  /** Gives back every tag `epoch` of `disk` holds; resolves how many. */
  async leave(disk: string, epoch: number): Promise<number> {
    return Number(await this.scripts.run('leaveSharedTags', [this.keys.sharedTagSet()], [checkDiskName(disk), count('epoch', epoch)]));
  }

  /** The set's depth, members, used per pool and held per disk (one HGETALL). */
  async state(): Promise<SharedTagSetState> {
    const all = await this.redis.hgetall(this.keys.sharedTagSet());
    const members: string[] = [];
    const used: number[] = [];
    const heldByDisk: Record<string, number> = {};
    for (const [field, value] of Object.entries(all)) {
      const member = /^member:(.+)$/.exec(field);
      if (member) members.push(member[1]);
      const u = /^used:(\d+)$/.exec(field);
      if (u) used[Number(u[1])] = Number(value);
      const h = /^held:([^:]+):\d+:\d+$/.exec(field);
      if (h) heldByDisk[h[1]] = (heldByDisk[h[1]] ?? 0) + Number(value);
    }
    return { depth: Number(all.queue_depth ?? 0), members: members.sort(), used: Array.from(used, (u) => u ?? 0), heldByDisk };
  }
}

function count(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`shared tag set: bad ${what} ${n}: want an integer >= 0`);
  return n;
}
