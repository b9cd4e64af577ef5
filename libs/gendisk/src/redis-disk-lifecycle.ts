// Mirrors null_add_dev / null_del_dev: what powering a disk on, reshaping it and deleting
// it do to its Redis state (the tag space shape and budget of libs/redis-mq, its place in
// the shared tag set with shared_tags, and its pages).
import type { Redis } from 'ioredis';
import type { TagSpaceConfig } from '#blk-mq';
import { BlkStatus } from '#blk-mq';
import {
  destroyDisk,
  dropWriteCache,
  type KeySchema,
  layOutTagSpace,
  SharedTagSet,
  TableBusyError,
  TagSetShapeError,
  ZoneTable,
} from '#redis-mq';
import { attributeSpec, type DiskAttributes, keysWhere, zoneShapeOf } from '#rnull';
import { DiskBusyError } from '#service-kit';
import type { DiskLifecycle, ZoneAdminCondition } from './disk-registry';
import type { DiskRecord } from './disk-record';
import { TagSpaceBusyError } from './queue-freeze';

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

/** The attribute behind each field of the shared tag set's shape (`layOutSharedTags-1.lua`). */
const SHAPE_ATTRIBUTES: Readonly<Record<string, keyof DiskAttributes>> = Object.freeze({
  nr_hw_queues: 'submitQueues',
  queue_depth: 'hwQueueDepth',
  shared_tag_bitmap: 'sharedTagBitmap',
});

export class RedisDiskLifecycle implements DiskLifecycle {
  private readonly sharedTags: SharedTagSet;
  private readonly zones: ZoneTable;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
  ) {
    this.sharedTags = new SharedTagSet(redis, keys);
    this.zones = new ZoneTable(redis, keys);
  }

  /**
   * Lays out the tag space; an old table of another shape is replaced when it is idle.
   * With shared_tags the disk first joins the shared tag set, whose shape must be its own
   * (I15). Drops a write-back cache a late batch of the last power cycle may have left (I13).
   * A zoned disk's zone table is laid out anew, as null_init_zoned_dev() does at every
   * power on (I17): every sequential zone EMPTY (FULL with zone_full), its data kept.
   */
  async powerOn(record: DiskRecord): Promise<void> {
    await this.layout(record.name, record.attributes);
    await dropWriteCache(this.redis, this.keys, record.name);
    if (record.attributes.zoned) await this.zones.layOut(record.name, zoneShapeOf(record.attributes).shape);
    else await this.zones.remove(record.name);
  }

  /**
   * null_del_dev's null_free_device_storage(dev, true): what the cache held is lost (I13);
   * with shared_tags the disk leaves the shared tag set (I15).
   */
  async powerOff(record: DiskRecord): Promise<void> {
    if (record.attributes.sharedTags) await this.sharedTags.part(record.name);
    await dropWriteCache(this.redis, this.keys, record.name);
    await this.zones.remove(record.name);
  }

  /** zone_cond_store through runZoneOps (no owner fences an administrative op, I17). */
  async setZoneCondition(record: DiskRecord, sector: number, cond: ZoneAdminCondition): Promise<void> {
    const a = record.attributes;
    const [r] = await this.zones.run(record.name, '', [{ kind: cond === 'READ_ONLY' ? 'RO' : 'OFF', sector, sectors: 0 }], a.memoryBacked);
    if (r.status !== BlkStatus.OK)
      throw new Error(`disk ${JSON.stringify(record.name)}: zone condition change at sector ${sector} failed (${BlkStatus[r.status]})`);
  }

  /** Re-lays the tag space of a frozen disk once no owner holds a tag or a lease (I14). */
  async reshape(record: DiskRecord, next: DiskAttributes): Promise<void> {
    await this.layout(record.name, next, true);
  }

  async destroy(name: string): Promise<void> {
    await destroyDisk(this.redis, name, this.keys);
  }

  /**
   * Lays out (or keeps) the tag space; one of another shape is replaced only while no
   * owner holds a tag of it (with `drained`, only while no owner is live at all: I14). A
   * shared_tags disk joins the shared tag set first; when its own layout then fails it
   * parts again, so a refused power on leaves no member behind.
   */
  private async layout(disk: string, a: DiskAttributes, drained = false): Promise<void> {
    const config = tagSpaceOf(a);
    try {
      if (a.sharedTags) await this.sharedTags.join(disk, config);
      try {
        await layOutTagSpace(this.redis, this.keys, disk, config, a.sharedTags ? 'shared' : 'own', drained);
      } catch (err) {
        if (a.sharedTags) await this.sharedTags.part(disk).catch(() => undefined);
        throw err;
      }
    } catch (err) {
      if (err instanceof TagSetShapeError) {
        const name = attributeSpec(SHAPE_ATTRIBUTES[err.field] ?? 'sharedTags').name;
        throw new DiskBusyError(
          `${name}: ${err.wanted} differs from the shared tag set's ${err.have}: every disk with shared_tags ` +
            `has the submit_queues, hw_queue_depth and shared_tag_bitmap of the first one powered on (power those off to change it)`,
        );
      }
      if (err instanceof TableBusyError) {
        throw new TagSpaceBusyError(`disk ${JSON.stringify(disk)} has requests in flight; retry when it is idle`);
      }
      throw err;
    }
  }
}
