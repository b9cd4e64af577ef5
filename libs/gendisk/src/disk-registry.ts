// Mirrors null_blk's configfs directory (`/sys/kernel/config/nullb/`): the set of disks,
// their attributes and power, kept in Redis, with lifecycle events for the other services.
import type { Redis } from 'ioredis';
import type { KeySchema } from '#redis-mq';
import { zoneNo } from '#blk-mq';
import { applyAttributes, capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes, zoneShapeOf } from '#rnull';
import { DiskBusyError, DiskExistsError, DiskNotFoundError, InvalidArgumentError, KeyedSerial } from '#service-kit';
import { checkDiskLimits, DEFAULT_DISK_LIMITS, type DiskLimits } from './disk-limits';
import { checkDiskName, type DiskRecord } from './disk-record';
import { HctxInitFaults } from './hctx-init-faults';
import { FREEZE_MARGIN_MS, FREEZE_POLL_MS, freezeDeadlines, TagSpaceBusyError, thawed } from './queue-freeze';

/** The `serial` key of what spans every disk (no disk is named ''). */
const REGISTRY_WIDE = '';

/** A change to a disk, published on `keys.diskEvents()` after it is stored. */
export interface DiskEvent {
  readonly type: 'created' | 'configured' | 'powered' | 'deleted';
  readonly disk: string;
  /** The record as stored (JSON), on every event but 'deleted': readers apply it as it arrives (I16). */
  readonly record?: string;
}

/**
 * The hooks that act on a disk's data when its power changes or it is deleted, so the
 * registry itself stays free of request-table and page-store details.
 */
export interface DiskLifecycle {
  /** Before a disk is marked powered: lay out its tag space for `attributes`. */
  powerOn(record: DiskRecord): Promise<void>;
  /** After a disk is marked powered off: drop its write-back cache (cache_size, DESIGN I13). */
  powerOff(record: DiskRecord): Promise<void>;
  /**
   * Before attributes change on a powered disk (submit_queues): re-lay the tag space.
   * Throws DiskBusyError while an owner still holds a tag of the old one (the registry
   * retries while the disk is frozen, I14).
   */
  reshape(record: DiskRecord, next: DiskAttributes): Promise<void>;
  /** After a disk is removed: free its pages and tag space. */
  destroy(name: string): Promise<void>;
  /**
   * zone_readonly / zone_offline of a powered zoned disk: the zone holding `sector`
   * becomes `cond` (again: EMPTY), in the zone table every driver reads (I17).
   */
  setZoneCondition(record: DiskRecord, sector: number, cond: ZoneAdminCondition): Promise<void>;
}

/** What null_blk's zone_readonly and zone_offline configfs files set. */
export type ZoneAdminCondition = 'READ_ONLY' | 'OFFLINE';

/**
 * Invariants:
 *   - Writes go through one gendisk process; per-disk changes are serialised by `lock`.
 *   - A stored record is always valid (`applyAttributes` accepted it).
 *   - An event is published only after the change it names is stored.
 *   - A power on, or a submit_queues increase, asks `init_hctx` (`HctxInitFaults`) for
 *     every hctx it sets up before it changes anything: an injected fault leaves the
 *     disk as it was (powered off; the old submit_queues; DESIGN I11).
 *   - A submit_queues change of a powered disk stores the record frozen, and stores it
 *     thawed (new shape, or the old one when the owners did not drain) before `configure`
 *     returns or throws; a record stays frozen past its deadline only when gendisk died
 *     (readers then treat it as thawed, I14).
 *   - The disks never pass `limits` (MAX_DISKS, MAX_TOTAL_SIZE_MIB): a create or a size
 *     change checks and stores under one registry-wide lock (RESOURCE_EXHAUSTED else).
 */
export class DiskRegistry {
  private readonly serial = new KeyedSerial();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySchema,
    private readonly lifecycle: DiskLifecycle,
    private readonly hctxFaults: HctxInitFaults = new HctxInitFaults(),
    private readonly limits: DiskLimits = DEFAULT_DISK_LIMITS,
  ) {}

  async list(): Promise<DiskRecord[]> {
    const all = await this.redis.hgetall(this.keys.diskRegistry());
    return Object.values(all)
      .map((json) => parseRecord(json))
      .sort((a, b) => a.index - b.index);
  }

  /** The disk, or undefined. */
  async find(name: string): Promise<DiskRecord | undefined> {
    const json = await this.redis.hget(this.keys.diskRegistry(), name);
    return json ? parseRecord(json) : undefined;
  }

  async get(name: string): Promise<DiskRecord> {
    const d = await this.find(name);
    if (!d) throw new DiskNotFoundError(name);
    return d;
  }

  async create(name: string, changes: Partial<DiskAttributes>, power: boolean): Promise<DiskRecord> {
    checkDiskName(name);
    return this.lock(name, async () => {
      const attributes = applyAttributes(DEFAULT_ATTRIBUTES, changes, false);
      if (await this.redis.hexists(this.keys.diskRegistry(), name)) throw new DiskExistsError(name);
      const record = await this.withinLimits(name, attributes.size, true, async () => {
        const index = (await this.redis.incr(this.keys.diskIndexCounter())) - 1;
        const created: DiskRecord = { name, attributes, power: false, index, rev: await this.nextRevision() };
        const added = await this.redis.hsetnx(this.keys.diskRegistry(), name, JSON.stringify(created));
        if (!added) throw new DiskExistsError(name);
        return created;
      });
      await this.publish('created', name, record);
      return power ? this.setPower(record, true) : record;
    });
  }

  async configure(name: string, changes: Partial<DiskAttributes>): Promise<DiskRecord> {
    return this.lock(name, async () => {
      const current = thawed(await this.get(name));
      const attributes = applyAttributes(current.attributes, changes, current.power);
      if (current.power && attributes.submitQueues !== current.attributes.submitQueues) {
        const [from, to] = [current.attributes.submitQueues, attributes.submitQueues];
        this.hctxFaults.check(name, attributes, from, to, `submit_queues change ${from} -> ${to}`);
        await this.frozenReshape(current, attributes, `submit_queues change ${from} -> ${to}`);
      }
      const store = () => this.store({ ...current, attributes });
      const record =
        attributes.size > current.attributes.size ? await this.withinLimits(name, attributes.size, false, store) : await store();
      await this.publish('configured', name, record);
      return record;
    });
  }

  /**
   * blk_mq_update_nr_hw_queues on a live disk (I14): stores the record frozen and tells
   * everyone, then re-lays the tag space as soon as no owner holds a tag of it. When the
   * owners have not drained by the deadline the disk thaws unchanged and the change fails
   * (FAILED_PRECONDITION). The caller stores the thawed record with `next`.
   */
  private async frozenReshape(current: DiskRecord, next: DiskAttributes, what: string): Promise<void> {
    const { giveUpAtMs, recordUntilMs } = freezeDeadlines(current.attributes);
    await this.publish('configured', current.name, await this.store({ ...current, frozenUntilMs: recordUntilMs }));
    for (;;) {
      try {
        await this.lifecycle.reshape(current, next);
        return;
      } catch (err) {
        if (!(err instanceof TagSpaceBusyError) || Date.now() >= giveUpAtMs) {
          await this.publish('configured', current.name, await this.store(current));
          if (err instanceof TagSpaceBusyError) {
            throw new DiskBusyError(
              `disk ${JSON.stringify(current.name)}: ${what}: requests in flight did not drain within ` +
                `${current.attributes.timeoutMs + FREEZE_MARGIN_MS} ms (timeout_ms + ${FREEZE_MARGIN_MS}); nothing changed`,
            );
          }
          throw err;
        }
        await new Promise((r) => setTimeout(r, FREEZE_POLL_MS));
      }
    }
  }

  async power(name: string, on: boolean): Promise<DiskRecord> {
    return this.lock(name, async () => this.setPower(thawed(await this.get(name)), on));
  }

  /**
   * Removes the disk and frees its data, like rmdir of its configfs directory: a powered
   * disk is powered off first (stored and published as `powered`, then `deleted`), as
   * null_blk's nullb_group_drop_item() runs null_del_dev() before dropping the item.
   */
  async delete(name: string): Promise<void> {
    return this.lock(name, async () => {
      await this.setPower(thawed(await this.get(name)), false);
      await this.redis.hdel(this.keys.diskRegistry(), name);
      await this.lifecycle.destroy(name);
      this.hctxFaults.forget(name);
      await this.publish('deleted', name);
    });
  }

  /**
   * null_blk's zone_cond_store (zone_readonly, zone_offline): the zone that holds `sector`
   * becomes `cond`, or EMPTY when it already is. Refused as null_blk refuses it (EINVAL:
   * INVALID_ARGUMENT): a disk that is not zoned, a sector past the end, a conventional zone;
   * a powered-off disk has no zones (FAILED_PRECONDITION).
   */
  async setZoneCondition(name: string, sector: number, cond: ZoneAdminCondition): Promise<void> {
    return this.lock(name, async () => {
      const d = await this.get(name);
      const a = d.attributes;
      if (!a.zoned) throw new InvalidArgumentError('name', `disk ${JSON.stringify(name)} is not zoned`);
      if (!d.power) throw new DiskBusyError(`disk ${JSON.stringify(name)} is powered off: its zones are laid out at power on`);
      const { shape } = zoneShapeOf(a);
      const zone = zoneNo(shape, sector);
      if (zone >= shape.nrZones) {
        throw new InvalidArgumentError('sector', `${sector} is past the last zone (capacity ${capacitySectors(a)} sectors)`);
      }
      if (zone < shape.nrConv) {
        throw new InvalidArgumentError('sector', `${sector} is in conventional zone ${zone}: its condition cannot change`);
      }
      await this.lifecycle.setZoneCondition(d, sector, cond);
    });
  }

  private async setPower(current: DiskRecord, on: boolean): Promise<DiskRecord> {
    if (current.power === on) return current;
    if (on) {
      this.hctxFaults.check(current.name, current.attributes, 0, current.attributes.submitQueues, 'power on');
      await this.lifecycle.powerOn(current);
    }
    const record = await this.store({ ...current, power: on });
    await this.publish('powered', current.name, record);
    if (!on) await this.lifecycle.powerOff(record);
    return record;
  }

  /**
   * Runs `store` (which stores disk `name` with `sizeMiB`) only when the registry's other
   * disks and it stay within `limits`; one run at a time across every disk.
   */
  private withinLimits<T>(name: string, sizeMiB: number, adding: boolean, store: () => Promise<T>): Promise<T> {
    return this.serial.run(REGISTRY_WIDE, async () => {
      const others = (await this.list()).filter((d) => d.name !== name).map((d) => d.attributes.size);
      checkDiskLimits(this.limits, others, sizeMiB, adding);
      return store();
    });
  }

  /** Stores `record` under a new revision (I16) and answers it as stored. */
  private async store(record: DiskRecord): Promise<DiskRecord> {
    const stored = { ...record, rev: await this.nextRevision() };
    await this.redis.hset(this.keys.diskRegistry(), record.name, JSON.stringify(stored));
    return stored;
  }

  /** Registry revisions increase across every disk and every store (I16). */
  private async nextRevision(): Promise<number> {
    return this.redis.incr(this.keys.diskRevisionCounter());
  }

  /** Tells every follower of the registry, with the record as stored (none once deleted, I16). */
  private async publish(type: DiskEvent['type'], disk: string, record?: DiskRecord): Promise<void> {
    const e: DiskEvent = { type, disk, ...(record ? { record: JSON.stringify(record) } : {}) };
    await this.redis.publish(this.keys.diskEvents(), JSON.stringify(e));
  }

  /** Runs `fn` after every earlier call for the same disk has settled. */
  private lock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.serial.run(name, fn);
  }
}

export function parseRecord(json: string): DiskRecord {
  const r = JSON.parse(json) as DiskRecord;
  return { ...r, attributes: { ...DEFAULT_ATTRIBUTES, ...renamedAttributes(r.attributes) } };
}

/**
 * A record stored before `shared_tags` was renamed `shared_tag_bitmap` (what it always
 * meant: one bitmap for the hctxs of one disk) carries `sharedTags` with that meaning
 * (and no `sharedTagBitmap`); today's `sharedTags` (the shared tag set, I15) was off then.
 */
function renamedAttributes(a: DiskAttributes & { sharedTags?: unknown }): DiskAttributes {
  if (a.sharedTagBitmap !== undefined || typeof a.sharedTags !== 'boolean') return a;
  const { sharedTags, ...rest } = a;
  return { ...rest, sharedTagBitmap: sharedTags, sharedTags: false };
}
