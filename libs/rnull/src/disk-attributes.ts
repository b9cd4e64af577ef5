// Mirrors null_blk's configfs attributes (`struct nullb_device`): the value type of a
// disk's attributes, and their validation and change rules, read from the one attribute
// table (`attribute-table.ts`: names, defaults, ranges, the "busy while powered" rule).
import { BlkStatus, ConfigError } from '#blk-mq';
import { ATTRIBUTE_TABLE, type AttributeSpec } from './attribute-table';
import { applyBadBlocksCommand } from './bad-blocks';
import { formatFaultConfig, parseFaultConfig } from './fault-inject';
import { IrqMode } from './irq-mode';
import { zoneShapeOf } from './zoned/zone-geometry';

export { IrqMode } from './irq-mode';

/** Every attribute of a disk, in camelCase; `ATTRIBUTE_NAMES` gives null_blk's names. */
export interface DiskAttributes {
  /** Capacity in MiB. */
  size: number;
  blocksize: number;
  submitQueues: number;
  hwQueueDepth: number;
  irqmode: IrqMode;
  completionNsec: number;
  memoryBacked: boolean;
  discard: boolean;
  fua: boolean;
  /**
   * One tag bitmap for all hctxs of this disk (null_blk's `shared_tag_bitmap`,
   * BLK_MQ_F_TAG_HCTX_SHARED): `hw_queue_depth` tags in all, not per hctx.
   */
  sharedTagBitmap: boolean;
  rotational: boolean;
  pollQueues: number;
  timeoutMs: number;
  recycle: 'on-drop' | 'inline';
  /** Bandwidth cap in MiB/s (null_blk's byte budget refilled every 20 ms); 0 for none. */
  mbps: number;
  /** Largest request in 512-byte sectors (`max_hw_sectors`); the engine rounds it down to `blocksize`. */
  maxSectors: number;
  /**
   * The bad sector list as `badblocks_show` prints it ("START LENGTH" lines, '' for
   * none). In `changes` (`applyAttributes`) it is one write of the configfs file
   * instead: "+START-END" sets, "-START-END" clears (inclusive sectors); a value equal
   * to the current list is no change, as for every attribute.
   */
  badblocks: string;
  /** A bad range clears after the first IO that hits it. */
  badblocksOnce: boolean;
  /** An IO that hits a bad range transfers the whole blocks before its first bad sector. */
  badblocksPartialIo: boolean;
  /**
   * Fault injection, null_blk's module parameters of the same names:
   * "<interval>,<probability>,<space>,<times>" (lib/fault-inject.c), '' for none; stored
   * in that canonical form. `timeout`: the chosen requests never complete (the request
   * timeout ends them); `requeue`: the driver answers RESOURCE; `init_hctx`: an hctx
   * fails to initialise at power on or when `submit_queues` grows.
   */
  timeout: string;
  requeue: string;
  initHctx: string;
  /**
   * The write-back cache in front of the page store, in MiB (null_blk's `cache_size`);
   * 0 for none. With a cache, writes without FUA land in it, FLUSH writes it back, and
   * power off drops what it still holds (DESIGN I13); FUA and the volatile write cache
   * are advertised only when it is > 0, as null_blk sets BLK_FEAT_WRITE_CACHE (and
   * BLK_FEAT_FUA when `fua`) only then.
   */
  cacheSize: number;
  /**
   * Take tags from the one tag set shared by every disk that sets it (null_blk's
   * `shared_tags`, its module-wide `tag_set`), each active disk at most
   * max(ceil(depth / active disks), 4) of a pool (blk-mq's `hctx_may_queue`; DESIGN I15).
   */
  sharedTags: boolean;
  /**
   * null_blk's zoned mode and its zone attributes (sizes in MiB, as its configfs files):
   * the zone shape is `zoneShapeOf` of them, checked with every change (DESIGN I17).
   */
  zoned: boolean;
  zoneSize: number;
  zoneCapacity: number;
  zoneNrConv: number;
  zoneMaxOpen: number;
  zoneMaxActive: number;
  zoneAppendMaxSectors: number;
  zoneFull: boolean;
}

/** Each attribute's default (`ATTRIBUTE_TABLE`; DESIGN section 5 says where they come from). */
export const DEFAULT_ATTRIBUTES: Readonly<DiskAttributes> = Object.freeze(
  Object.fromEntries(ATTRIBUTE_TABLE.map((a) => [a.key, a.default])) as unknown as DiskAttributes,
);

/** null_blk's configfs name of each attribute: what users type and errors say. */
export const ATTRIBUTE_NAMES: Readonly<Record<keyof DiskAttributes, string>> = Object.freeze(
  Object.fromEntries(ATTRIBUTE_TABLE.map((a) => [a.key, a.name])) as Record<keyof DiskAttributes, string>,
);

/**
 * The fault_attr attributes. Set when the disk is created or while it is powered off,
 * never while powered (EBUSY): null_blk reads its module parameters once, at load
 * (mode 0444), and every driver copy's counters start from the value it powered on with.
 */
export const FAULT_ATTRIBUTES: ReadonlySet<keyof DiskAttributes> = new Set(keysWhere((a) => a.type === 'fault'));

/** Attributes that may change while the disk is powered (the table's `live`). */
export const LIVE_ATTRIBUTES: ReadonlySet<keyof DiskAttributes> = new Set(keysWhere((a) => a.live));

/** The keys of the table's rows that satisfy `pick`, in table order. */
export function keysWhere(pick: (a: AttributeSpec) => boolean): (keyof DiskAttributes)[] {
  return ATTRIBUTE_TABLE.filter(pick).map((a) => a.key);
}

/** A rejected attribute value or change; `field` is null_blk's attribute name. */
export class AttributeError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** `busy`: refused because the disk is powered (the kernel's EBUSY). */
    readonly kind: 'invalid' | 'busy' = 'invalid',
  ) {
    super(`${field}: ${message}`);
    this.name = 'AttributeError';
  }
}

const SPECS: ReadonlyMap<keyof DiskAttributes, AttributeSpec> = new Map(ATTRIBUTE_TABLE.map((a) => [a.key, a]));

/** Checks one attribute value against its row of the table; throws `AttributeError` naming the field. */
export function validateAttribute<K extends keyof DiskAttributes>(key: K, value: DiskAttributes[K]): void {
  const spec = SPECS.get(key);
  if (!spec) throw new AttributeError(String(key), 'unknown attribute');
  const name = spec.name;
  switch (spec.type) {
    case 'integer':
    case 'power-of-two': {
      const [min, max] = spec.range!;
      if (spec.type === 'power-of-two') {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max || (value & (value - 1)) !== 0) {
          throw new AttributeError(name, `must be a power of two in ${min}..${max}, got ${String(value)}`);
        }
        return;
      }
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new AttributeError(name, `must be a whole number, got ${String(value)}`);
      }
      if (value < min || value > max) throw new AttributeError(name, `must be in ${min}..${max}, got ${value}`);
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new AttributeError(name, `must be 0 or 1, got ${String(value)}`);
      return;
    case 'irqmode':
      if (!(value === IrqMode.None || value === IrqMode.Soft || value === IrqMode.Timer)) {
        throw new AttributeError(name, `must be 0 (none), 1 (softirq) or 2 (timer), got ${String(value)}`);
      }
      return;
    case 'recycle':
      if (value !== 'on-drop' && value !== 'inline') {
        throw new AttributeError(name, `must be "on-drop" or "inline", got ${JSON.stringify(value)}`);
      }
      return;
    case 'fault':
      canonicalFault(name, value);
      return;
    case 'badblocks':
      if (typeof value !== 'string') {
        throw new AttributeError(name, `must be a "+START-END" or "-START-END" string, got ${String(value)}`);
      }
      return;
  }
}

/**
 * The attributes after applying `changes` to `current`. Throws `AttributeError` when a
 * value is invalid, or with kind 'busy' when `powered` and a non-live attribute changes.
 */
export function applyAttributes(current: Readonly<DiskAttributes>, changes: Partial<DiskAttributes>, powered: boolean): DiskAttributes {
  const next: DiskAttributes = { ...current };
  for (const key of Object.keys(changes) as (keyof DiskAttributes)[]) {
    const value = changes[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_ATTRIBUTES, key)) throw new AttributeError(String(key), 'unknown attribute');
    validateAttribute(key, value);
    if (key === 'badblocks') {
      // A command; the current list itself (a copy of the record) is no change.
      if (value !== current.badblocks) next.badblocks = badBlocksAfter(next.badblocks, value as string);
      continue;
    }
    const stored = FAULT_ATTRIBUTES.has(key) ? canonicalFault(ATTRIBUTE_NAMES[key], value) : value;
    if (powered && !LIVE_ATTRIBUTES.has(key) && stored !== current[key]) {
      throw new AttributeError(ATTRIBUTE_NAMES[key], 'cannot change while the disk is powered on (EBUSY)', 'busy');
    }
    (next as unknown as Record<string, unknown>)[key] = stored;
  }
  if ((next.size * 1024 * 1024) % next.blocksize !== 0) {
    throw new AttributeError('size', `must be a multiple of blocksize ${next.blocksize}`);
  }
  if (next.zoned) checkZoned(next);
  return next;
}

/** null_init_zoned_dev's refusals for a zoned disk's attributes, as AttributeErrors naming the attribute. */
function checkZoned(a: DiskAttributes): void {
  try {
    zoneShapeOf(a);
  } catch (e) {
    if (e instanceof ConfigError) throw new AttributeError(e.field, `${e.reason}, got ${String(e.value)}`);
    throw e;
  }
}

/** The `badblocks` list after one write of its configfs file; errors name the attribute. */
function badBlocksAfter(shown: string, command: string): string {
  try {
    return applyBadBlocksCommand(shown, command);
  } catch (e) {
    if (e instanceof RangeError) throw new AttributeError(ATTRIBUTE_NAMES.badblocks, e.message);
    throw e;
  }
}

/** The canonical form of a fault_attr string; errors name the attribute. */
function canonicalFault(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new AttributeError(name, `must be a "<interval>,<probability>,<space>,<times>" string, got ${String(value)}`);
  }
  try {
    return formatFaultConfig(parseFaultConfig(value));
  } catch (e) {
    if (e instanceof RangeError) throw new AttributeError(name, e.message);
    throw e;
  }
}

/**
 * null_config_discard: DISCARD is offered when `discard` is set, except in zoned mode,
 * which ignores it. The one owner of that rule: queue limits, NBD's TRIM flag and the
 * block layer's refusal all ask here. Takes the wire's optional fields too.
 */
export function discardSupported(a: { readonly discard?: boolean; readonly zoned?: boolean }): boolean {
  return (a.discard ?? false) && !(a.zoned ?? false);
}

/** Capacity in 512-byte sectors. */
export function capacitySectors(a: Pick<DiskAttributes, 'size'>): number {
  return a.size * 2048;
}

/**
 * `features`, like null_blk's configfs attribute: the names of the attributes that have
 * behaviour in this build (the table's `behaviour`; one accepted and stored without effect,
 * such as `poll_queues`, is left out), and `power` and `index`.
 */
export function features(): string[] {
  return keysWhere((a) => a.behaviour)
    .map((k) => ATTRIBUTE_NAMES[k])
    .concat('power', 'index');
}

/** The status a request gets on a disk that is not powered. */
export const POWERED_OFF_STATUS = BlkStatus.OFFLINE;
