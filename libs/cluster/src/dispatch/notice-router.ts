// Mirrors the completion side of `blk_mq_complete_request` as seen by the submitter:
// completion notices for this dispatch instance, popped in batches from each disk's
// notice list and handed to that disk's queue.
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import { parseNoticeBuffer } from '../rq-batch';
import type { DiskQueue } from './disk-queue';

/** How long one blocking pop waits before it looks at the disk list again. */
const BLOCK_SECONDS = 0.1;
/** Notices taken per pop. */
const BATCH = 1024;

/**
 * Invariants:
 *   - One pop loop per instance, on a connection of its own (it blocks).
 *   - A notice is handed, once, to the current queue of the disk whose list it came from.
 */
export class NoticeRouter {
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly blocking: Redis,
    private readonly keys: KeySchema,
    private readonly instanceId: string,
    private readonly disks: () => DiskQueue[],
    private readonly queueOf: (disk: string) => DiskQueue | undefined,
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
      const queues = this.disks();
      if (queues.length === 0) {
        await new Promise((r) => setTimeout(r, BLOCK_SECONDS * 1000));
        continue;
      }
      const byKey = new Map(queues.map((q) => [this.keys.completionNotices(q.name, this.instanceId), q.name]));
      let reply: [Buffer, Buffer[]] | null;
      try {
        // Buffers: a notice may carry read data.
        reply = (await this.blocking.blmpopBuffer(BLOCK_SECONDS, byKey.size, ...byKey.keys(), 'LEFT', 'COUNT', BATCH)) as [Buffer, Buffer[]] | null;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!reply) continue;
      const [listKey, items] = reply;
      // The queue of the disk as it is now: the one the key list was made from may have
      // been replaced while this pop was blocked.
      const q = this.queueOf(byKey.get(listKey.toString()) ?? '');
      if (!q) continue;
      const notices = items.map(parseNoticeBuffer).filter((n): n is NonNullable<typeof n> => n !== undefined);
      void q.complete(notices);
    }
  }
}
