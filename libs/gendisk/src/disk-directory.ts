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
 *   - An event's record is applied as the event arrives, before any later input of this
 *     process is read (I16); the read-back that follows converges on the stored record.
 *   - A copy never goes back: a record of a lower revision than the one held is ignored,
 *     and a read that found no record removes the disk only when no event's record
 *     arrived while that read was on its way.
 *   - 'change' fires with the disk's name after its record (or its removal) is applied.
 */
export class DiskDirectory extends EventEmitter<{ change: [disk: string, record: DiskRecord | undefined] }> {
  private readonly disks = new Map<string, DiskRecord>();
  /** Per disk, how many event records were applied: a read sent before one may be stale. */
  private readonly arrivals = new Map<string, number>();

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
      if (typeof e?.disk !== 'string') return;
      if (typeof e.record === 'string') this.arrived(e.disk, e.record);
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

  /** Reads the disk's record back from the registry; answers the copy held after it. */
  async reloadOne(name: string): Promise<DiskRecord | undefined> {
    const sentAfter = this.arrivals.get(name) ?? 0;
    const json = await this.redis.hget(this.keys.diskRegistry(), name);
    this.readBack(name, json ? parseRecord(json) : undefined, sentAfter);
    return this.disks.get(name);
  }

  private async reloadAll(): Promise<void> {
    const sentAfter = new Map(this.arrivals);
    const all = await this.redis.hgetall(this.keys.diskRegistry());
    const seen = new Set<string>();
    for (const json of Object.values(all)) {
      const r = parseRecord(json);
      seen.add(r.name);
      this.readBack(r.name, r, sentAfter.get(r.name) ?? 0);
    }
    for (const name of [...this.disks.keys()]) if (!seen.has(name)) this.readBack(name, undefined, sentAfter.get(name) ?? 0);
  }

  /** An event's record (JSON as stored): applied now, unless an even later copy is held. */
  private arrived(name: string, json: string): void {
    let record: DiskRecord;
    try {
      record = parseRecord(json);
    } catch {
      return; // The read-back that follows brings the stored record.
    }
    this.arrivals.set(name, (this.arrivals.get(name) ?? 0) + 1);
    if (!isOlder(record, this.disks.get(name))) this.apply(name, record);
  }

  /** A read's answer; `sentAfter` is the number of event records applied when it was sent. */
  private readBack(name: string, record: DiskRecord | undefined, sentAfter: number): void {
    if (record ? isOlder(record, this.disks.get(name)) : (this.arrivals.get(name) ?? 0) !== sentAfter) return;
    this.apply(name, record);
  }

  private apply(name: string, record: DiskRecord | undefined): void {
    const before = this.disks.get(name);
    if (record) this.disks.set(name, record);
    else this.disks.delete(name);
    if (JSON.stringify(before) !== JSON.stringify(record)) this.emit('change', name, record);
  }
}

/** Whether `record` is an earlier revision than `held` (I16). */
function isOlder(record: DiskRecord, held: DiskRecord | undefined): boolean {
  return held !== undefined && (record.rev ?? 0) < (held.rev ?? 0);
}
