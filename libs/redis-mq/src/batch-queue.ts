// Mirrors a hardware queue's dispatch list (`blk_mq_hw_ctx->dispatch`) kept in Redis: a
// reliable queue of batches that any worker process may take, under a lease, so that the
// batches of a worker that died are delivered again.
//
// Layout (keys from `KeySchema.hctxQueue` / `sharedQueue`, one hash slot):
//   wait    list  messages not yet taken, oldest first
//   leased  zset  taken messages, scored by lease expiry (ms since the epoch)
//   marker  zset  one member while `wait` may hold messages: idle workers block on it
//
// A message is `<id> <body>`; the id is unique per push, so equal bodies stay apart.
//
// Invariants (Lua atomicity: push, claim and reclaim are one script run each):
//   - A message is in exactly one of `wait` or `leased` until it is acked.
//   - `marker` is set after every push and after a claim that left `wait` non-empty: a
//     worker that found `wait` empty and then blocks on the marker misses no message.
//   - A leased message whose lease ran out goes back to `wait` on the next reclaim:
//     delivery is at least once. Consumers must be idempotent (the request table is: a
//     batch delivered twice is refused as stale or already started the second time).
//
// Cost per batch: push 1 EVALSHA (HSET when it stages payloads, RPUSH, ZADD); claim 1
// EVALSHA for up to `max` batches (LPOP, ZADD, LLEN), sent behind the idle worker's
// BZPOPMIN so a wake-up costs no extra round trip; ack 1 ZREM for every batch acked in
// the same tick. Leases are renewed per worker, not per batch (`renew`).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BatchQueueKeys } from './key-schema';
import { scriptsFor, type ScriptRunner } from './lua-scripts';
import { sendTogether } from './send-together';

/** Random part of every message id of this process. */
const NONCE = randomBytes(4).toString('hex');
let nextId = 0;

/** A fresh message id: `<id> <body>` is a message of any batch queue. */
export function newMessageId(): string {
  return `${NONCE}.${(nextId++).toString(36)}`;
}

/** A message as taken: `raw` acks or renews it, `body` is what was pushed. */
export interface TakenMessage {
  readonly raw: string;
  readonly body: string;
}

/** Job counts in the states of BullMQ's `getJobCounts`, for the queue-depth gauge. */
export type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed', number>;

export class BatchQueue {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    /** Name in metrics and logs, e.g. `rq.rnullb0.0`, `softirq`. */
    readonly name: string,
    readonly keys: BatchQueueKeys,
  ) {
    this.scripts = scriptsFor(redis);
  }

  /**
   * Appends `body`; with `staged`, first writes its field/value pairs into the hash
   * `staged.key`, which must be in the queue's hash slot (the disk's request data).
   */
  async push(body: string, staged?: { key: string; pairs: (string | Buffer)[] }): Promise<void> {
    const raw = `${newMessageId()} ${body}`;
    const args = staged?.pairs.length ? [raw, ...staged.pairs] : [raw];
    await this.scripts.run('pushBatch', [this.keys.wait, this.keys.marker, staged?.key ?? this.keys.wait], args);
  }

  /** Takes up to `max` messages, oldest first, leased until `leaseMs` from now. */
  async claim(max: number, leaseMs: number): Promise<TakenMessage[]> {
    if (max <= 0) return [];
    const raws = (await this.scripts.run('claimBatches', [this.keys.wait, this.keys.leased, this.keys.marker], [Date.now() + leaseMs, max])) as string[];
    return raws.map((raw) => ({ raw, body: raw.slice(raw.indexOf(' ') + 1) }));
  }

  /** Done with these messages: they are never delivered again (unless reclaimed before). */
  async ack(raws: readonly string[]): Promise<void> {
    if (raws.length) await this.redis.zrem(this.keys.leased, ...raws);
  }

  /** Extends the leases of messages still held; one that was reclaimed meanwhile stays in `wait`. */
  async renew(raws: readonly string[], leaseMs: number): Promise<void> {
    if (raws.length === 0) return;
    const expiry = Date.now() + leaseMs;
    const args: (string | number)[] = [];
    for (const raw of raws) args.push(expiry, raw);
    await this.redis.zadd(this.keys.leased, 'XX', ...args);
  }

  /** Puts up to `limit` messages whose lease ran out back in `wait`; returns how many. */
  async reclaim(limit = 1000): Promise<number> {
    return (await this.scripts.run('reclaimLeases', [this.keys.wait, this.keys.leased, this.keys.marker], [Date.now(), limit])) as number;
  }

  /** Waits (on `blocking`, a connection of its own) until the marker is set or `timeoutS` passed. */
  async waitForWork(blocking: Redis, timeoutS: number): Promise<void> {
    await blocking.bzpopmin(this.keys.marker, timeoutS);
  }

  /**
   * `waitForWork` then `claim`, in one round trip: both go to `blocking` in one write,
   * and Redis runs the claim the moment the blocking pop returns (a connection's commands
   * run in order). The claim's lease is counted from when it was sent, so it is longer by
   * `timeoutS`: a crash then delays redelivery by at most that much.
   */
  async waitAndClaim(blocking: Redis, max: number, leaseMs: number, timeoutS: number): Promise<TakenMessage[]> {
    if (max <= 0) return [];
    const expiry = Date.now() + leaseMs + Math.ceil(timeoutS * 1000);
    const [, raws] = await sendTogether(blocking, () =>
      Promise.all([
        blocking.bzpopmin(this.keys.marker, timeoutS),
        scriptsFor(blocking).run('claimBatches', [this.keys.wait, this.keys.leased, this.keys.marker], [expiry, max]) as Promise<string[]>,
      ]),
    );
    return raws.map((raw) => ({ raw, body: raw.slice(raw.indexOf(' ') + 1) }));
  }

  /** Waiting and leased messages, in BullMQ's state names (the others are always 0). */
  async getJobCounts(): Promise<QueueCounts> {
    const [waiting, active] = await Promise.all([this.redis.llen(this.keys.wait), this.redis.zcard(this.keys.leased)]);
    return { waiting, active, delayed: 0, prioritized: 0, failed: 0 };
  }
}
