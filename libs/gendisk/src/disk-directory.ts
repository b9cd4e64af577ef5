// The read side of the disk registry that dispatch, rnull and completion follow: a local
// copy of every disk record, refreshed from the lifecycle events (like a driver watching
// `add_disk` / `del_gendisk`).
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import type { DiskEvent } from './disk-registry';
import { parseRecord } from './disk-registry';
import type { DiskRecord } from './disk-record';

/**
 * Invariants:
 *   - After `start()` resolves the copy holds every disk stored at that moment.
 *   - Every (re)subscription reloads the whole registry, so an event missed while the
 *     subscriber was disconnected is never missed for good.
 *   - 'change' fires with the disk's name after its record (or its removal) is applied.
 */
export class DiskDirectory extends EventEmitter<{ change: [disk: string, record: DiskRecord | undefined] }> {
  private readonly disks = new Map<string, DiskRecord>();

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: it enters subscriber mode. */
    private readonly subscriber: Redis,
    private readonly keys: KeySchema,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      let e: DiskEvent;
      try {
        e = JSON.parse(message) as DiskEvent;
      } catch {
        return;
      }
      void this.reloadOne(e.disk).catch(() => undefined);
    });
    this.subscriber.on('ready', () => void this.reloadAll().catch(() => undefined));
    await this.subscriber.subscribe(this.keys.diskEvents());
    await this.reloadAll();
  }

  get(name: string): DiskRecord | undefined {
    return this.disks.get(name);
  }

  all(): DiskRecord[] {
    return [...this.disks.values()];
  }

  async reloadOne(name: string): Promise<DiskRecord | undefined> {
    const json = await this.redis.hget(this.keys.diskRegistry(), name);
    const record = json ? parseRecord(json) : undefined;
    this.apply(name, record);
    return record;
  }

  private async reloadAll(): Promise<void> {
    const all = await this.redis.hgetall(this.keys.diskRegistry());
    const seen = new Set<string>();
    for (const json of Object.values(all)) {
      const r = parseRecord(json);
      seen.add(r.name);
      this.apply(r.name, r);
    }
    for (const name of [...this.disks.keys()]) if (!seen.has(name)) this.apply(name, undefined);
  }

  private apply(name: string, record: DiskRecord | undefined): void {
    const before = this.disks.get(name);
    if (record) this.disks.set(name, record);
    else this.disks.delete(name);
    if (JSON.stringify(before) !== JSON.stringify(record)) this.emit('change', name, record);
  }
}
