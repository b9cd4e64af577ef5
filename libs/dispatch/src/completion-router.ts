// Mirrors the completion side of `blk_mq_complete_request` as the owner sees it: the end
// messages pushed onto this instance's completion lists (`cq:<epoch>`, one per disk it
// owns) are popped in batches and each end record ends the request it names (DESIGN §3).
import type { Redis } from 'ioredis';
import { decodeEnds, isRedisCluster, type KeySchema } from '#redis-mq';
import type { DiskQueue } from './disk-queue';

/** How long one blocking pop waits before it looks at the list of queues again, s. */
const BLOCK_SECONDS = 0.1;
/** End messages taken per pop. */
const BATCH = 1024;

/**
 * Invariants:
 *   - One pop loop per group of lists on a connection of its own (it blocks). On one Redis
 *     that is one loop over every list; on a Redis Cluster, where one BLMPOP may name keys
 *     of one hash slot only, one loop per disk (a disk's keys share its slot, I7), each on
 *     a duplicate of the blocking connection, started and ended as disks come and go.
 *   - An end message goes to the queue whose epoch's list it came from, and nowhere else:
 *     an epoch names one queue of one disk for its whole life.
 *   - A malformed message is counted and dropped; it cannot stop the loop (I5).
 */
export class CompletionRouter {
  private running = false;
  private loop?: Promise<void>;
  /** Per-disk pop loops on a Redis Cluster, by disk. */
  private readonly slotLoops = new Map<string, { stop: () => void; done: Promise<void> }>();
  /** Loops of disks that went away, until they ended (`stop()` waits for them too). */
  private readonly draining = new Set<Promise<void>>();
  /** Messages that did not decode. */
  malformed = 0;

  constructor(
    private readonly blocking: Redis,
    private readonly keys: KeySchema,
    /** Every queue that may still receive ends: current, predecessors, retired. */
    private readonly queues: () => DiskQueue[],
    private readonly onMalformed: (err: unknown) => void = () => undefined,
    /** After a message's ends were applied; `sentAtMs` is when its sender made it. */
    private readonly onApplied: (q: DiskQueue, sentAtMs: number) => void = () => undefined,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = isRedisCluster(this.blocking) ? this.runPerDisk() : this.popLoop(this.blocking, () => this.queues());
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Pops the lists of `queues()` on `conn` while the router runs and `alive()` holds. */
  private async popLoop(conn: Redis, queues: () => DiskQueue[], alive: () => boolean = () => true): Promise<void> {
    while (this.running && alive()) {
      const byKey = new Map<string, DiskQueue>();
      for (const q of queues()) if (q.lease.epoch > 0) byKey.set(this.keys.completionList(q.name, q.lease.epoch), q);
      if (byKey.size === 0) {
        await new Promise((r) => setTimeout(r, BLOCK_SECONDS * 1000));
        continue;
      }
      let reply: [Buffer, Buffer[]] | null;
      try {
        reply = (await conn.blmpopBuffer(BLOCK_SECONDS, byKey.size, ...byKey.keys(), 'LEFT', 'COUNT', BATCH)) as [Buffer, Buffer[]] | null;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!reply) continue;
      const q = byKey.get(reply[0].toString());
      if (!q) continue;
      for (const m of reply[1]) this.deliver(q, m);
    }
  }

  /** Redis Cluster: keeps one `popLoop` per disk that has queues, each on its own connection. */
  private async runPerDisk(): Promise<void> {
    while (this.running) {
      const disks = new Set(this.queues().map((q) => q.name));
      for (const disk of disks) {
        if (this.slotLoops.has(disk)) continue;
        const conn = this.blocking.duplicate();
        conn.on('error', () => undefined);
        let alive = true;
        const done = this.popLoop(
          conn,
          () => this.queues().filter((q) => q.name === disk),
          () => alive,
        ).finally(() => conn.disconnect());
        this.slotLoops.set(disk, { stop: () => (alive = false), done });
      }
      for (const [disk, loop] of this.slotLoops) {
        if (disks.has(disk)) continue;
        loop.stop();
        this.slotLoops.delete(disk);
      }
      await new Promise((r) => setTimeout(r, BLOCK_SECONDS * 1000));
    }
    const loops = [...this.slotLoops.values()];
    this.slotLoops.clear();
    for (const l of loops) l.stop();
    await Promise.all([...loops.map((l) => l.done), ...this.draining]);
  }

  private deliver(q: DiskQueue, message: Buffer): void {
    let decoded: ReturnType<typeof decodeEnds>;
    try {
      decoded = decodeEnds(message);
    } catch (err) {
      this.malformed += 1;
      this.onMalformed(err);
      return;
    }
    const { header, ends, data } = decoded;
    ends.forEach((e, i) => q.endRemote({ hctx: header.hctx, tag: e.tag, gen: e.gen }, e.status, data[i], e.sector));
    this.onApplied(q, header.atMs);
  }
}
