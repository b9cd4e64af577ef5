// Mirrors null_add_dev / null_del_dev: what powering a disk on, reshaping it and deleting
// it do to its Redis state (the tag space shape and budget of libs/redis-mq, and its pages).
import type { Redis } from 'ioredis';
import type { TagSpaceConfig } from '#blk-mq';
import { destroyDisk, dropWriteCache, type KeySchema, layOutTagSpace, TableBusyError } from '#redis-mq';
import { type DiskAttributes, keysWhere } from '#rnull';
import { DiskBusyError } from '#service-kit';
import type { DiskLifecycle } from './disk-registry';
import type { DiskRecord } from './disk-record';

/** The tag space a disk's attributes ask for. */
export function tagSpaceOf(a: DiskAttributes): TagSpaceConfig {
  return { nrHwQueues: a.submitQueues, queueDepth: a.hwQueueDepth, sharedTagBitmap: a.sharedTagBitmap, recycle: a.recycle };
}

/** The attributes the tag space is made of (the table's `reshapes: 'tag space'`): a change of any of them re-lays it. */
export const TAG_SPACE_ATTRIBUTES: readonly (keyof DiskAttributes)[] = Object.freeze(keysWhere((a) => a.reshapes === 'tag space'));

/** True when `a` and `b` ask for the same tag space. */
export function sameTagSpace(a: DiskAttributes, b: DiskAttributes): boolean {
  return TAG_SPACE_ATTRIBUTES.every((k) => a[k] === b[k]);
}

export class RedisDiskLifecycle implements DiskLifecycle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
  ) {}

  /**
   * Lays out the tag space; an old table of another shape is replaced when it is idle.
   * Drops a write-back cache a late batch of the last power cycle may have left (I13).
   */
  async powerOn(record: DiskRecord): Promise<void> {
    await this.layout(record.name, tagSpaceOf(record.attributes));
    await dropWriteCache(this.redis, this.keys, record.name);
  }

  /** null_del_dev's null_free_device_storage(dev, true): what the cache held is lost (I13). */
  async powerOff(record: DiskRecord): Promise<void> {
    await dropWriteCache(this.redis, this.keys, record.name);
  }

  /** Re-lays the tag space of a frozen disk once no owner holds a tag or a lease (I14). */
  async reshape(record: DiskRecord, next: DiskAttributes): Promise<void> {
    await this.layout(record.name, tagSpaceOf(next), true);
  }

  async destroy(name: string): Promise<void> {
    await destroyDisk(this.redis, name, this.keys);
  }

  /** Lays out (or keeps) the tag space; one of another shape is replaced only while no
   * owner holds a tag of it (with `drained`, only while no owner is live at all). */
  private async layout(disk: string, config: TagSpaceConfig, drained = false): Promise<void> {
    try {
      await layOutTagSpace(this.redis, this.keys, disk, config, drained);
    } catch (err) {
      if (err instanceof TableBusyError) {
        throw new DiskBusyError(`disk ${JSON.stringify(disk)} has requests in flight; retry when it is idle`);
      }
      throw err;
    }
  }
}
