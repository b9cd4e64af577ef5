// Mirrors the completion side of `blk_mq_complete_request` as the owner sees it: the end
// messages pushed onto this instance's completion lists (`cq:<epoch>`, one per disk it
// owns) are popped in batches and each end record ends the request it names (DESIGN §3).
import type { Redis } from 'ioredis';
import { decodeEnds, type KeySchema } from '#redis-mq';
import type { DiskQueue } from './disk-queue';

/** How long one blocking pop waits before it looks at the list of queues again, s. */
const BLOCK_SECONDS = 0.1;
/** End messages taken per pop. */
const BATCH = 1024;

/**
 * Invariants:
 *   - One pop loop per instance, on a connection of its own (it blocks).
 *   - An end message goes to the queue whose epoch's list it came from, and nowhere else:
 *     an epoch names one queue of one disk for its whole life.
 *   - A malformed message is counted and dropped; it cannot stop the loop (I5).
 */
export class CompletionRouter {
  private running = false;
  private loop?: Promise<void>;
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
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const byKey = new Map<string, DiskQueue>();
      for (const q of this.queues()) if (q.lease.epoch > 0) byKey.set(this.keys.completionList(q.name, q.lease.epoch), q);
      if (byKey.size === 0) {
        await new Promise((r) => setTimeout(r, BLOCK_SECONDS * 1000));
        continue;
      }
      let reply: [Buffer, Buffer[]] | null;
      try {
        reply = (await this.blocking.blmpopBuffer(BLOCK_SECONDS, byKey.size, ...byKey.keys(), 'LEFT', 'COUNT', BATCH)) as
          [Buffer, Buffer[]] | null;
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
    ends.forEach((e, i) => q.endRemote({ hctx: header.hctx, tag: e.tag, gen: e.gen }, e.status, data[i]));
    this.onApplied(q, header.atMs);
  }
}
