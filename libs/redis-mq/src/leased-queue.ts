// Mirrors a hardware queue's dispatch list (`blk_mq_hw_ctx->dispatch`) kept in Redis, v2:
// a reliable queue of binary batch-codec messages that any worker may take under a lease
// of its own, so the batches of a worker that died are delivered again, and a worker
// whose lease ran out can no longer act on its batch (DESIGN §4, I4).
//
// Layout (keys from `KeySchema.hctxQueue` / `diskQueue`, one hash slot):
//   wait    list  messages not yet taken, oldest first
//   leased  zset  lease members `<claim token 8 bytes><message>`, scored by lease expiry
//   marker  zset  one member while `wait` may hold messages: idle workers block on it
//
// Invariants (Lua atomicity: push, claim and reclaim are one script run each):
//   - A message is in exactly one of `wait` or `leased` until it is acked.
//   - Each claim gives a message a fresh token: after a reclaim and a new claim, the old
//     member names nothing, so `ack`, `renew` and the fenced scripts of its old holder
//     (`runPageOps-4.lua`, `endBatch-6.lua`) do nothing.
//   - `marker` is set after every push, after a claim that left `wait` non-empty and after
//     a reclaim that moved anything: a worker blocked on it misses no message.
//   - Delivery is at least once; consumers must be idempotent (the owner refuses stale
//     and double ends, I2).
//   - Binary safe: messages are Buffers end to end (`ScriptRunner.runBuffer`).
//
// Cost per batch: push 1 EVALSHA (RPUSH, ZADD); claim 1 EVALSHA for up to `max` batches,
// sent behind the idle worker's BZPOPMIN so a wake-up costs no extra round trip; ack one
// ZREM for every batch acked together (or none: `endBatch` acks in its own run).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BatchQueueKeys } from './key-schema';
import { scriptsFor, type ScriptRunner } from './lua-scripts';
import { sendTogether } from './send-together';

/** Bytes of the claim token that opens every lease member. */
export const CLAIM_TOKEN_BYTES = 8;
/** Most messages one claim takes (the scripts' unpack limit). */
export const MAX_CLAIM = 1000;
/** How long a worker whose blocking connection was closed waits before it puts back the claim it may have lost, ms. */
const UNCLAIM_GRACE_MS = 50;

/** A leased message: `member` acks, renews and fences it; `body` is what was pushed. */
export interface Lease {
  readonly member: Buffer;
  readonly body: Buffer;
}

/** Messages waiting and leased (the queue-depth gauges). */
export interface LeasedQueueCounts {
  readonly waiting: number;
  readonly leased: number;
}

export class LeasedQueue {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    /** Name in metrics and logs, e.g. `rq.rnullb0.0`, `softirq.rnullb0`. */
    readonly name: string,
    readonly keys: BatchQueueKeys,
  ) {
    this.scripts = scriptsFor(redis);
  }

  /** Appends `msg` (any bytes) and sets the marker, in one script run. */
  async push(msg: Buffer): Promise<void> {
    if (!Buffer.isBuffer(msg)) throw new TypeError(`${this.name}: push wants a Buffer`);
    await this.scripts.run('pushMessage', [this.keys.wait, this.keys.marker], [msg]);
  }

  /** Takes up to `max` messages, oldest first, leased until `leaseMs` from now. */
  async claim(max: number, leaseMs: number): Promise<Lease[]> {
    if (max <= 0) return [];
    const reply = await this.scripts.runBuffer('claimLeases', this.claimKeys(), this.claimArgs(max, Date.now() + leaseMs));
    return toLeases(reply as Buffer[]);
  }

  /**
   * Blocks on the marker (on `blocking`, a connection of its own) for up to `timeoutS`,
   * then claims, in one socket write: Redis runs the claim the moment the pop returns. The
   * lease is counted from when it was sent, so it is longer by up to `timeoutS`.
   */
  async waitAndClaim(blocking: Redis, max: number, leaseMs: number, timeoutS: number): Promise<Lease[]> {
    if (max <= 0) return [];
    const args = this.claimArgs(max, Date.now() + leaseMs + Math.ceil(timeoutS * 1000));
    try {
      const [, reply] = await sendTogether(blocking, () =>
        Promise.all([blocking.bzpopmin(this.keys.marker, timeoutS), scriptsFor(blocking).runBuffer('claimLeases', this.claimKeys(), args)]),
      );
      return toLeases(reply as Buffer[]);
    } catch (err) {
      // A connection closed under the wait (a worker closing) may have lost the reply of
      // a claim that ran: put its messages back rather than leave them leased to nobody
      // until the lease runs out. Best effort: the lease still brings them back.
      if (blocking.status === 'end' || blocking.status === 'close') await this.unclaimAfterClose(args[2]);
      throw err;
    }
  }

  /**
   * Waits `UNCLAIM_GRACE_MS` for Redis to see the closed connection (after that it runs
   * nothing more of it), then puts back what the claim with `nonce` took.
   */
  private async unclaimAfterClose(nonce: Buffer): Promise<void> {
    await new Promise((r) => setTimeout(r, UNCLAIM_GRACE_MS));
    await this.scripts.run('unclaimLeases', this.claimKeys(), [nonce]).catch(() => undefined);
  }

  /** Done with these leases: their messages are never delivered again. Returns how many were held. */
  async ack(members: readonly Buffer[]): Promise<number> {
    return members.length ? this.redis.zrem(this.keys.leased, ...members) : 0;
  }

  /** Extends leases still held; a member that was reclaimed meanwhile is not re-added. */
  async renew(members: readonly Buffer[], leaseMs: number): Promise<void> {
    if (members.length === 0) return;
    const expiry = Date.now() + leaseMs;
    const args: (number | Buffer)[] = [];
    for (const m of members) args.push(expiry, m);
    await this.redis.zadd(this.keys.leased, 'XX', ...(args as (string | Buffer | number)[]));
  }

  /** Puts up to `limit` (<= MAX_CLAIM) expired messages back at the head of `wait`; returns how many. */
  async reclaim(limit = MAX_CLAIM): Promise<number> {
    const n = Math.max(1, Math.min(MAX_CLAIM, Math.floor(limit)));
    return (await this.scripts.run('reclaimExpired', this.claimKeys(), [Date.now(), n])) as number;
  }

  async counts(): Promise<LeasedQueueCounts> {
    const [waiting, leased] = await Promise.all([this.redis.llen(this.keys.wait), this.redis.zcard(this.keys.leased)]);
    return { waiting, leased };
  }

  /** `counts` in BullMQ's state names, for the queue-depth gauge (the other states are 0). */
  async getJobCounts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed', number>> {
    const { waiting, leased } = await this.counts();
    return { waiting, active: leased, delayed: 0, prioritized: 0, failed: 0 };
  }

  private claimKeys(): string[] {
    return [this.keys.wait, this.keys.leased, this.keys.marker];
  }

  private claimArgs(max: number, expiry: number): [number, number, Buffer] {
    if (!Number.isInteger(max) || max > MAX_CLAIM)
      throw new RangeError(`${this.name}: claim max ${max}: want an integer in 1..${MAX_CLAIM}`);
    return [expiry, max, randomBytes(CLAIM_TOKEN_BYTES - 2)];
  }
}

function toLeases(members: Buffer[]): Lease[] {
  return members.map((member) => ({ member, body: member.subarray(CLAIM_TOKEN_BYTES) }));
}
