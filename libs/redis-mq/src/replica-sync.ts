// Mirrors a disk's volatile write cache flush (REQ_PREFLUSH / REQ_FUA): an acknowledged
// write is in the master's memory; a FLUSH (or FUA write) is acknowledged only once
// every write Redis took before it is on `replicas` replicas as well (`WAIT`), so a
// failover that promotes one of them keeps it (DESIGN I9).
import type { Redis } from 'ioredis';
import { BlkStatus } from '#blk-mq';
import type { KeySchema } from './key-schema';

export interface ReplicaSyncOptions {
  /** Replicas that must hold a write before a FLUSH succeeds; 0 = nothing to wait for (one Redis). */
  readonly replicas: number;
  /** How long a FLUSH waits for them, ms; fewer by then fails it. */
  readonly timeoutMs: number;
}

/** Runs of one `persist` while the slot keeps moving (a failover under way). */
const SLOT_MOVE_TRIES = 3;

/** How long a FLUSH waits for its replicas by default (`REDIS_FLUSH_TIMEOUT_MS`), ms. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 2000;

/** Nothing to wait for: one Redis without replicas (the default there). */
export const NO_REPLICA_WAIT: ReplicaSyncOptions = Object.freeze({ replicas: 0, timeoutMs: DEFAULT_FLUSH_TIMEOUT_MS });

/** A FLUSH whose writes did not reach enough replicas in time. */
export class NotPersistedError extends Error {
  constructor(
    readonly disk: string,
    readonly acked: number,
    readonly wanted: number,
    timeoutMs: number,
  ) {
    super(`${disk}: flush: writes reached ${acked} of ${wanted} replicas within ${timeoutMs} ms`);
    this.name = 'NotPersistedError';
  }
}

/**
 * Invariants:
 *   - `persist(disk)` resolves only when every write Redis applied in `disk`'s slot before
 *     the call is on `replicas` replicas. WAIT counts the writes of its own connection, so
 *     each run first writes `flushes` (a counter in the disk's slot) on that connection:
 *     the replication stream is one ordered stream per master, so the replicas that hold
 *     this write hold every write before it, whoever made it.
 *   - WAIT blocks its connection: runs go on a connection of their own, made at the first
 *     run, never on the one the IO uses. Runs on it are served one after another: while
 *     replicas are missing, each waits its whole timeout in turn.
 *   - After `close()` a run fails; it never opens a connection again.
 */
export class ReplicaSync {
  private conn?: Redis;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
    readonly opts: ReplicaSyncOptions,
  ) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 0) throw new RangeError(`replica count must be >= 0, got ${opts.replicas}`);
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1)
      throw new RangeError(`flush timeout must be >= 1 ms, got ${opts.timeoutMs}`);
  }

  /** Resolves when `disk`'s writes so far are on enough replicas; throws `NotPersistedError` otherwise. */
  async persist(disk: string): Promise<void> {
    if (this.opts.replicas === 0) return;
    if (this.closed) throw new Error(`${disk}: flush: the replica sync is closed`);
    if (!this.conn) {
      this.conn = this.redis.duplicate();
      this.conn.on('error', () => undefined);
    }
    const key = this.keys.flushCounter(disk);
    let replies: [Error | null, unknown][] | null = null;
    for (let attempt = 1; ; attempt++) {
      // A lone INCR first: it follows MOVED like any command, so this connection's slot
      // map is current; a pipeline on a stale map after a failover gets MOVED back instead.
      await this.conn.incr(key);
      replies = await this.conn.pipeline().incr(key).call('WAIT', this.opts.replicas, this.opts.timeoutMs).exec();
      const moved = (replies ?? []).some(([err]) => err && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(err.message));
      if (!moved || attempt >= SLOT_MOVE_TRIES) break;
    }
    for (const [err] of replies ?? []) if (err) throw err;
    const acked = Number(replies?.[1]?.[1] ?? 0);
    if (acked < this.opts.replicas) throw new NotPersistedError(disk, acked, this.opts.replicas, this.opts.timeoutMs);
  }

  /** `persist` as a request status for a backing: OK, or IOERR after telling `onError` why. */
  async persistStatus(disk: string, onError: (err: unknown) => void = () => undefined): Promise<BlkStatus> {
    try {
      await this.persist(disk);
      return BlkStatus.OK;
    } catch (err) {
      onError(err);
      return BlkStatus.IOERR;
    }
  }

  close(): void {
    this.closed = true;
    this.conn?.disconnect();
    this.conn = undefined;
  }
}
