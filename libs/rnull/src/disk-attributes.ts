// Mirrors null_blk's configfs attributes (`struct nullb_device`): the names, defaults,
// ranges and the "busy while powered" rule of every disk attribute.
import { BLK_SAFE_MAX_SECTORS, BlkStatus, DEFAULT_RQ_TIMEOUT_MS } from '#blk-mq';
import { applyBadBlocksCommand } from './bad-blocks';
import { MAX_MBPS } from './bandwidth-budget';
import { formatFaultConfig, parseFaultConfig } from './fault-inject';

/** Completion mode (`irqmode`): where a request's end is signalled. */
export enum IrqMode {
  /** End inline, from `queueRq` (NULL_IRQ_NONE). */
  None = 0,
  /** End from the softirq completion queue (NULL_IRQ_SOFTIRQ). */
  Soft = 1,
  /** End from a timer after `completionNsec` (NULL_IRQ_TIMER). */
  Timer = 2,
}

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
}

/**
 * Defaults: the seed's rnull where it has the attribute (memory_backed, blocksize, size,
 * irqmode, completion_nsec), null_blk elsewhere (DESIGN section 5). Two come from blk-mq,
 * which owns them: `timeout_ms` is blk-mq's request timeout (`DEFAULT_RQ_TIMEOUT_MS`, 30 s:
 * the seed's rnull leaves its tag set's timeout to blk-mq; C null_blk would set 5 s), and
 * `max_sectors` is BLK_SAFE_MAX_SECTORS (255), what the kernel gives null_blk and rnull
 * when `max_sectors` is not set.
 */
export const DEFAULT_ATTRIBUTES: Readonly<DiskAttributes> = Object.freeze({
  size: 4096,
  blocksize: 4096,
  submitQueues: 1,
  hwQueueDepth: 64,
  irqmode: IrqMode.None,
  completionNsec: 1_000_000,
  memoryBacked: true,
  discard: false,
  fua: true,
  sharedTagBitmap: false,
  rotational: false,
  pollQueues: 0,
  timeoutMs: DEFAULT_RQ_TIMEOUT_MS,
  recycle: 'on-drop',
  mbps: 0,
  maxSectors: BLK_SAFE_MAX_SECTORS,
  badblocks: '',
  badblocksOnce: false,
  badblocksPartialIo: false,
  timeout: '',
  requeue: '',
  initHctx: '',
});

/** null_blk's configfs name of each attribute: what users type and errors say. */
export const ATTRIBUTE_NAMES: Readonly<Record<keyof DiskAttributes, string>> = Object.freeze({
  size: 'size',
  blocksize: 'blocksize',
  submitQueues: 'submit_queues',
  hwQueueDepth: 'hw_queue_depth',
  irqmode: 'irqmode',
  completionNsec: 'completion_nsec',
  memoryBacked: 'memory_backed',
  discard: 'discard',
  fua: 'fua',
  sharedTagBitmap: 'shared_tag_bitmap',
  rotational: 'rotational',
  pollQueues: 'poll_queues',
  timeoutMs: 'timeout_ms',
  recycle: 'recycle',
  mbps: 'mbps',
  maxSectors: 'max_sectors',
  badblocks: 'badblocks',
  badblocksOnce: 'badblocks_once',
  badblocksPartialIo: 'badblocks_partial_io',
  timeout: 'timeout',
  requeue: 'requeue',
  initHctx: 'init_hctx',
});

/**
 * The fault_attr attributes. Set when the disk is created or while it is powered off,
 * never while powered (EBUSY): null_blk reads its module parameters once, at load
 * (mode 0444), and every driver copy's counters start from the value it powered on with.
 */
export const FAULT_ATTRIBUTES: ReadonlySet<keyof DiskAttributes> = new Set(['timeout', 'requeue', 'initHctx']);

/**
 * Attributes that may change while the disk is powered (null_blk: submit_queues and
 * poll_queues have an apply function; `badblocks` is its own configfs store, which never
 * checks power). badblocks_once and badblocks_partial_io are plain NULLB_DEVICE_ATTRs: EBUSY.
 */
export const LIVE_ATTRIBUTES: ReadonlySet<keyof DiskAttributes> = new Set(['submitQueues', 'pollQueues', 'badblocks']);

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

type Range = readonly [min: number, max: number];
const INTEGER_RANGES: Partial<Record<keyof DiskAttributes, Range>> = {
  size: [1, 1 << 22], // 4 TiB
  submitQueues: [1, 256],
  hwQueueDepth: [1, 4096],
  completionNsec: [0, 60e9],
  pollQueues: [0, 256],
  timeoutMs: [1, 3_600_000],
  mbps: [0, MAX_MBPS],
  maxSectors: [8, 1 << 16],
};

/** Checks one attribute value; throws `AttributeError` naming the field. */
export function validateAttribute<K extends keyof DiskAttributes>(key: K, value: DiskAttributes[K]): void {
  const name = ATTRIBUTE_NAMES[key];
  const range = INTEGER_RANGES[key];
  if (range) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new AttributeError(name, `must be a whole number, got ${String(value)}`);
    }
    if (value < range[0] || value > range[1]) {
      throw new AttributeError(name, `must be in ${range[0]}..${range[1]}, got ${value}`);
    }
  }
  if (key === 'blocksize') {
    const v = value as number;
    if (!Number.isInteger(v) || v < 512 || v > 4096 || (v & (v - 1)) !== 0) {
      throw new AttributeError(name, `must be a power of two in 512..4096, got ${v}`);
    }
  }
  if (key === 'irqmode' && !(value === 0 || value === 1 || value === 2)) {
    throw new AttributeError(name, `must be 0 (none), 1 (softirq) or 2 (timer), got ${String(value)}`);
  }
  if (key === 'recycle' && value !== 'on-drop' && value !== 'inline') {
    throw new AttributeError(name, `must be "on-drop" or "inline", got ${JSON.stringify(value)}`);
  }
  if (FAULT_ATTRIBUTES.has(key)) canonicalFault(name, value);
  if (key === 'badblocks' && typeof value !== 'string') {
    throw new AttributeError(name, `must be a "+START-END" or "-START-END" string, got ${String(value)}`);
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
  return next;
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

/** Capacity in 512-byte sectors. */
export function capacitySectors(a: Pick<DiskAttributes, 'size'>): number {
  return a.size * 2048;
}

/** `features`, like null_blk's configfs attribute: every attribute name this build accepts. */
export function features(): string[] {
  return Object.values(ATTRIBUTE_NAMES).concat('power', 'index');
}

/** The status a request gets on a disk that is not powered. */
export const POWERED_OFF_STATUS = BlkStatus.OFFLINE;
