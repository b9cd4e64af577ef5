// Mirrors the run loop of a hardware queue (`blk_mq_run_hw_queue` on a kblockd worker):
// takes batches from one `LeasedQueue` under a lease and runs a handler on each, several
// at a time, in one worker process.
import type { Redis } from 'ioredis';
import { type Lease, type LeasedQueue, plugUntilNextTick } from '#redis-mq';

/** Longest blocking wait on the marker; also how often an idle worker reclaims leases. */
const IDLE_WAIT_S = 1;
/** Back-off after a Redis failure of the loop. */
const RETRY_MS = 200;

export interface BatchWorkerOptions {
  /** Batches run at once. */
  readonly concurrency: number;
  /** Lease of a taken batch: how soon the batches of a dead worker are delivered again. */
  readonly leaseMs: number;
  /** Called with a handler failure; the batch is delivered again once its lease runs out. */
  readonly onError?: (err: unknown) => void;
}

/** What a handler says it did with its lease. */
export type LeaseOutcome =
  /** The handler acked the lease itself (in the same atomic step as its effects: `endBatch`). */
  | 'acked'
  /** The message is not one the handler can ever run (malformed): the worker acks it. */
  | 'drop';

/**
 * Invariants:
 *   - At most `concurrency` batches of this worker run at once. A handler acks its lease
 *     in the same step as its effects, or asks the worker to drop the message; a batch
 *     whose handler threw is not acked: it is delivered again after its lease (the owner
 *     refuses ends it already applied, I2).
 *   - Every `leaseMs / 3` the leases of the running batches are renewed and expired leases
 *     of the queue are reclaimed, so a live worker keeps its batches and a dead one's come back.
 *   - `close()` takes no new batch and resolves once the running ones finished and were acked.
 *   - While paused (`pause()`, the hctx stopped: `blk_mq_stop_hw_queue`) no new batch is
 *     claimed; running ones finish; `resume()` or `close()` ends the pause.
 */
export class BatchWorker {
  private readonly running = new Map<Buffer, Promise<void>>();
  private readonly blocking: Redis;
  private readonly acks: Buffer[] = [];
  private ackScheduled = false;
  private stopped = false;
  private wake?: () => void;
  private pausedUntil?: { promise: Promise<void>; resume: () => void };
  private readonly loop: Promise<void>;
  private readonly leaseTimer: NodeJS.Timeout;

  constructor(
    private readonly queue: LeasedQueue,
    private readonly handler: (lease: Lease) => Promise<LeaseOutcome>,
    private readonly opts: BatchWorkerOptions,
  ) {
    this.blocking = queue.redis.duplicate();
    this.blocking.on('error', () => undefined);
    this.leaseTimer = setInterval(() => void this.tendLeases(), Math.max(100, opts.leaseMs / 3));
    this.leaseTimer.unref();
    this.loop = this.run();
  }

  get name(): string {
    return this.queue.name;
  }

  /** True while no new batch is claimed (`pause()` until `resume()`). */
  get paused(): boolean {
    return this.pausedUntil !== undefined;
  }

  /** Claims no new batch until `resume()`; running batches go on. */
  pause(): void {
    if (this.pausedUntil || this.stopped) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.pausedUntil = { promise, resume };
  }

  resume(): void {
    const p = this.pausedUntil;
    this.pausedUntil = undefined;
    p?.resume();
  }

  private async run(): Promise<void> {
    // After a claim that left room, the queue was empty: the next claim waits for a push.
    let idle = false;
    while (!this.stopped) {
      if (this.pausedUntil) {
        await this.pausedUntil.promise;
        continue;
      }
      const room = this.opts.concurrency - this.running.size;
      if (room <= 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      let taken: Lease[];
      try {
        taken = idle
          ? await this.queue.waitAndClaim(this.blocking, room, this.opts.leaseMs, IDLE_WAIT_S)
          : await this.queue.claim(room, this.opts.leaseMs);
      } catch {
        if (this.stopped) break;
        idle = false;
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      // Several batches at once: their first Redis commands (page ops, ends) leave in one write.
      if (taken.length > 1) plugUntilNextTick(this.queue.redis);
      for (const m of taken) this.start(m);
      idle = taken.length < room;
    }
  }

  private start(m: Lease): void {
    const done = (async () => {
      try {
        if ((await this.handler(m)) === 'drop') this.ack(m.member);
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.running.delete(m.member);
        this.wake?.();
        this.wake = undefined;
      }
    })();
    this.running.set(m.member, done);
  }

  /** Drops of one tick go out as one ZREM. */
  private ack(member: Buffer): void {
    this.acks.push(member);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const raws = this.acks.splice(0);
      // A lost ack only means one more (refused) delivery after the lease.
      void this.queue.ack(raws).catch(() => undefined);
    });
  }

  private async tendLeases(): Promise<void> {
    try {
      await Promise.all([this.queue.renew([...this.running.keys()], this.opts.leaseMs), this.queue.reclaim()]);
    } catch {
      // Redis away: the next tick tries again; leases are long enough for a few misses.
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.resume();
    this.wake?.();
    this.blocking.disconnect();
    await this.loop;
    await Promise.all(this.running.values());
    clearInterval(this.leaseTimer);
    const raws = this.acks.splice(0);
    await this.queue.ack(raws).catch(() => undefined);
  }
}
