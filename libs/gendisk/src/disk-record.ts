// Mirrors `struct nullb_device` as stored in the registry: a disk's name, attributes,
// power and index, plus its conversions to and from the wire's `blk.v1.Disk`.
import { ConfigError, checkDiskName as checkBlkDiskName } from '#blk-mq';
import { capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import { InvalidArgumentError, wireInteger } from '#service-kit';

export interface DiskRecord {
  readonly name: string;
  readonly attributes: DiskAttributes;
  readonly power: boolean;
  /** Creation order, like null_blk's `index`. */
  readonly index: number;
  /**
   * Set while gendisk changes `submit_queues` under IO (DESIGN I14): until this wall-clock
   * time (ms) dispatch holds new submissions back and drains; absent otherwise.
   */
  readonly frozenUntilMs?: number;
  /**
   * The registry revision of this copy: every store takes a new, higher one (across all
   * disks), so a process that sees two copies keeps the later (I16). Absent on records
   * stored before revisions (taken as 0).
   */
  readonly rev?: number;
}

/** Wire attributes with every field optional (64-bit fields as string or bigint). */
export interface WireAttributes {
  size?: string | bigint | number;
  blocksize?: number;
  submitQueues?: number;
  hwQueueDepth?: number;
  irqmode?: number;
  completionNsec?: string | bigint | number;
  memoryBacked?: boolean;
  discard?: boolean;
  fua?: boolean;
  sharedTagBitmap?: boolean;
  rotational?: boolean;
  pollQueues?: number;
  timeoutMs?: number;
  recycle?: string;
  mbps?: number;
  maxSectors?: number;
  badblocks?: string;
  badblocksOnce?: boolean;
  badblocksPartialIo?: boolean;
  timeout?: string;
  requeue?: string;
  initHctx?: string;
  cacheSize?: number;
  sharedTags?: boolean;
}

/**
 * blk-mq's disk-name rule (`checkDiskName` of `#blk-mq`, 1..31 bytes of letters, digits,
 * '.', '-', '_'), refused as INVALID_ARGUMENT on the field `name`.
 */
export function checkDiskName(name: unknown): string {
  try {
    return checkBlkDiskName('name', name);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidArgumentError('name', e.reason);
    throw e;
  }
}

/** The attributes a wire message sets; unset fields are absent. */
export function attributesFromWire(w: WireAttributes | undefined): Partial<DiskAttributes> {
  if (!w) return {};
  const out: Partial<DiskAttributes> = {};
  for (const key of Object.keys(DEFAULT_ATTRIBUTES) as (keyof DiskAttributes)[]) {
    const v = (w as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    (out as Record<string, unknown>)[key] =
      key === 'size' || key === 'completionNsec' ? wireInteger(key === 'size' ? 'size' : 'completion_nsec', v as string) : v;
  }
  return out;
}

/** `blk.v1.Disk` as proto-loader (longs: String) encodes it. */
export function diskToWire(d: DiskRecord) {
  const a = d.attributes;
  return {
    name: d.name,
    power: d.power,
    index: d.index,
    capacitySectors: String(capacitySectors(a)),
    attributes: { ...a, size: String(a.size), completionNsec: String(a.completionNsec) },
  };
}
