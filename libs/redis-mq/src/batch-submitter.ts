// Mirrors `blk_mq_get_tags` + `queue_rqs` as one step: dispatch's TypeScript face of
// `queueBatch-6.lua`, which gives back freed tag budget, takes budget for the first k
// requests of a batch, and pushes those k (with their write payloads staged in `rqdata`)
// onto the hctx's leased batch queue, in one script run per batch (DESIGN §3, §6).
//
// Contracts:
//   - The caller owns the requests (its owner epoch, `OwnerRegistry`); a run for an epoch
//     that is not alive throws `OwnerGoneError` and changes nothing: the caller must stop
//     using that epoch (its budget is being or was reclaimed, I3).
//   - `queueBatch` returns k: the first k requests of the message were pushed; the rest
//     were not and hold no budget (the caller requeues them).
//   - Releases are per pool; a release of more than the epoch holds is clamped and counted
//     in `tags:budget` field `mismatch:release`, never taking another owner's budget.
//   - Budget is counted per pool: the hctx, or 0 with shared tags (the script checks).
import type { Redis } from 'ioredis';
import { decodeHeader, MessageKind, requestId } from './batch-codec';
import { KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptArg, type ScriptRunner } from './lua-scripts';
import { checkReply } from './script-errors';

/** `[pool, count]`: `count` tags of `pool` to give back. */
export type BudgetRelease = readonly [pool: number, count: number];

export interface QueueBatchInput {
  readonly disk: string;
  readonly epoch: number;
  /** The batch's budget pool: its hctx, or 0 with shared tags. */
  readonly pool: number;
  readonly releases: readonly BudgetRelease[];
  /** A batch-codec Batch message (`encodeBatch`) of this epoch. */
  readonly message: Buffer;
  /** One payload per WRITE record (op 1) of `message`, in record order. */
  readonly payloads: readonly Buffer[];
}

export class BatchSubmitter {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /**
   * Deletes the staged write payload of a request the owner gave up on (timed out), so a
   * batch delivered again later finds no payload and moves nothing (I4): its bytes must
   * not land over a write acknowledged since. Best effort: a run already under way wins.
   */
  async forgetPayload(disk: string, epoch: number, hctx: number, tag: number, gen: number): Promise<void> {
    await this.redis.hdel(this.keys.requestData(disk), requestId(epoch, hctx, tag, gen));
  }

  /** Releases, takes budget for and pushes the first k requests; returns k. */
  async queueBatch(input: QueueBatchInput): Promise<number> {
    const header = decodeHeader(input.message, [MessageKind.Batch]);
    return this.run(input.disk, input.epoch, input.pool, header.hctx, input.releases, input.message, input.payloads);
  }

  /**
   * `takeBudget-3.lua`: gives back `releases`, then takes up to `want` budget of `pool`
   * for `epoch` without pushing a batch (a driver in the owner's own process); returns
   * what it took. Same contracts as `queueBatch` for the owner and the releases.
   */
  async takeBudget(disk: string, epoch: number, pool: number, want: number, releases: readonly BudgetRelease[]): Promise<number> {
    checkDiskName(disk);
    const args: ScriptArg[] = [checkCount('epoch', epoch), checkCount('pool', pool), Date.now(), checkCount('want', want), releases.length];
    for (const [p, c] of releases) args.push(checkCount('release pool', p), checkCount('release count', c));
    const keys = [this.keys.tableMeta(disk), this.keys.tagBudget(disk), this.keys.owners(disk)];
    return checkReply<number>('takeBudget', (await this.scripts.run('takeBudget', keys, args)) as number, `${disk} epoch ${epoch}`);
  }

  /** A release-only run: gives back `releases` of `epoch` without pushing anything. */
  async release(disk: string, epoch: number, releases: readonly BudgetRelease[]): Promise<void> {
    if (releases.length) await this.run(disk, epoch, 0, 0, releases, '', []);
  }

  private async run(
    disk: string,
    epoch: number,
    pool: number,
    hctx: number,
    releases: readonly BudgetRelease[],
    message: Buffer | '',
    payloads: readonly Buffer[],
  ): Promise<number> {
    checkDiskName(disk);
    checkCount('epoch', epoch);
    checkCount('pool', pool);
    const queue = this.keys.hctxQueue(disk, hctx);
    const args: ScriptArg[] = [epoch, pool, Date.now(), releases.length];
    for (const [p, c] of releases) args.push(checkCount('release pool', p), checkCount('release count', c));
    args.push(message, ...payloads);
    const keys = [
      this.keys.tableMeta(disk),
      this.keys.tagBudget(disk),
      this.keys.owners(disk),
      queue.wait,
      queue.marker,
      this.keys.requestData(disk),
    ];
    return checkReply<number>('queueBatch', (await this.scripts.run('queueBatch', keys, args)) as number, `${disk} epoch ${epoch}`);
  }
}

function checkCount(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`queueBatch: bad ${what} ${n}: want an integer >= 0`);
  return n;
}
