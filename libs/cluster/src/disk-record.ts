// Mirrors `struct nullb_device` as stored in the registry: a disk's name, attributes,
// power and index, plus its conversions to and from the wire's `blk.v1.Disk`.
import { capacitySectors, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import { InvalidArgumentError } from './cluster-errors';

export interface DiskRecord {
  readonly name: string;
  readonly attributes: DiskAttributes;
  readonly power: boolean;
  /** Creation order, like null_blk's `index`. */
  readonly index: number;
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
  sharedTags?: boolean;
  rotational?: boolean;
  pollQueues?: number;
  timeoutMs?: number;
  recycle?: string;
  mbps?: number;
  maxSectors?: number;
}

/** The kernel's DISK_NAME_LEN is 32 bytes with the NUL: names are 1..31 bytes. */
const DISK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkDiskName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('name', 'is required');
  if (Buffer.byteLength(name) > 31)
    throw new InvalidArgumentError('name', `is ${Buffer.byteLength(name)} bytes; at most 31 (DISK_NAME_LEN)`);
  if (!DISK_NAME.test(name))
    throw new InvalidArgumentError('name', `${JSON.stringify(name)}: use letters, digits, '.', '-', '_', starting with a letter or digit`);
  return name;
}

function toNumber(field: string, v: string | bigint | number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(field, `must be a whole number, got ${String(v)}`);
  return n;
}

/** The attributes a wire message sets; unset fields are absent. */
export function attributesFromWire(w: WireAttributes | undefined): Partial<DiskAttributes> {
  if (!w) return {};
  const out: Partial<DiskAttributes> = {};
  for (const key of Object.keys(DEFAULT_ATTRIBUTES) as (keyof DiskAttributes)[]) {
    const v = (w as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    (out as Record<string, unknown>)[key] =
      key === 'size' || key === 'completionNsec' ? toNumber(key === 'size' ? 'size' : 'completion_nsec', v as string) : v;
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
