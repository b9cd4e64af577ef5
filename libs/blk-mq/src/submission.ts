// Mirrors submit_bio_noacct()'s checks and the splitting of bio_split_to_limits(): one
// client IO becomes one or more bios that each fit the disk's queue limits, or a
// completion that names what was wrong with it (DESIGN invariant 5).

import { Bio, SECTOR_SHIFT, SECTOR_SIZE } from './bio';
import { BlkStatus } from './blk-status';
import { QueueLimits, maxRequestBytes } from './queue-limits';
import { ReqFlag, ReqOp, isReqFlags, isReqOp, opHasData, reqOpName } from './req-op';

/** Largest READ / WRITE one submission may move. */
export const MAX_SUBMISSION_BYTES = 1 << 30;

/** One IO as a client submits it. */
export interface Submission {
  readonly op: ReqOp;
  /** First 512-byte sector; aligned to the logical block size. */
  readonly sector: number;
  /** Length for READ without `data`, DISCARD and WRITE_ZEROES; must match `data` when both are given. */
  readonly bytes?: number;
  /** WRITE: the payload. READ: optional buffer to read into (else one is allocated). */
  readonly data?: Uint8Array;
  /** `ReqFlag` bits. */
  readonly flags?: number;
  /** The submitting "cpu" or client index, mapped to an hctx by `mapQueues`. Default 0. */
  readonly cpu?: number;
}

/** The outcome of one submission. */
export interface Completion {
  readonly status: BlkStatus;
  /** READ that ended OK: the data read. */
  readonly data?: Uint8Array;
  /** Why the submission failed, when something more than the status is known. */
  readonly error?: string;
}

/**
 * One submission on its way: the requests it was split into report here, and it settles
 * once all have ended, with the first failure's status and message.
 *
 * Invariants: `settle` is called once, when `remaining` reaches 0.
 */
export class PendingSubmission {
  private status = BlkStatus.OK;
  private error: string | undefined;

  constructor(
    private remaining: number,
    private readonly buffer: Uint8Array | undefined,
    private readonly settle: (c: Completion) => void,
  ) {}

  /** One request ended; returns true when that settled the submission. */
  ended(status: BlkStatus, error?: string): boolean {
    if (status !== BlkStatus.OK && this.status === BlkStatus.OK) {
      this.status = status;
      this.error = error;
    }
    this.remaining -= 1;
    if (this.remaining > 0) return false;
    const c: { status: BlkStatus; data?: Uint8Array; error?: string } = { status: this.status };
    if (this.status === BlkStatus.OK && this.buffer) c.data = this.buffer;
    if (this.error) c.error = this.error;
    this.settle(c);
    return true;
  }
}

/** What the checks need to know about the disk. */
export interface DiskGeometry {
  readonly name: string;
  readonly capacitySectors: number;
  readonly limits: QueueLimits;
}

/** Either the bios to issue (with the READ buffer) or an immediate completion. */
export type Prepared =
  | { readonly bios: readonly Bio[]; readonly buffer?: Uint8Array; readonly done?: undefined }
  | { readonly done: Completion };

function fail(status: BlkStatus, disk: string, what: string): Prepared {
  return { done: { status, error: `${disk}: ${what}` } };
}

/** Checks `sub` against the disk and splits it into bios. Never throws on bad input. */
export function prepareSubmission(sub: Submission, geo: DiskGeometry): Prepared {
  const d = geo.name;
  const lim = geo.limits;
  if (typeof sub !== 'object' || sub === null) return fail(BlkStatus.IOERR, d, 'submission must be an object');
  const { op, sector, data } = sub;
  if (!isReqOp(op)) return fail(BlkStatus.NOTSUPP, d, `unknown op ${String(op)}`);
  let flags = sub.flags ?? 0;
  if (!isReqFlags(flags)) return fail(BlkStatus.NOTSUPP, d, `unknown flags ${String(flags)}`);
  if (typeof sector !== 'number' || !Number.isSafeInteger(sector) || sector < 0) {
    return fail(BlkStatus.IOERR, d, `sector must be a non-negative integer, got ${String(sector)}`);
  }
  if (data !== undefined && !(data instanceof Uint8Array)) return fail(BlkStatus.IOERR, d, 'data must be a Uint8Array');
  if (data !== undefined && !opHasData(op)) return fail(BlkStatus.IOERR, d, `${reqOpName(op)} carries no data`);
  if (op === ReqOp.WRITE && data === undefined) return fail(BlkStatus.IOERR, d, 'WRITE needs data');
  const bytes = data?.length ?? sub.bytes ?? (op === ReqOp.FLUSH ? 0 : undefined);
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    return fail(BlkStatus.IOERR, d, `bytes must be a non-negative integer, got ${String(sub.bytes)}`);
  }
  if (data !== undefined && sub.bytes !== undefined && sub.bytes !== data.length) {
    return fail(BlkStatus.IOERR, d, `bytes ${sub.bytes} does not match data length ${data.length}`);
  }
  if (op === ReqOp.FLUSH && bytes !== 0) return fail(BlkStatus.IOERR, d, `FLUSH carries no range, got ${bytes} bytes`);
  if (op !== ReqOp.FLUSH && bytes === 0) return fail(BlkStatus.IOERR, d, `${reqOpName(op)} of 0 bytes`);
  if (opHasData(op) && bytes > MAX_SUBMISSION_BYTES) {
    return fail(BlkStatus.IOERR, d, `${reqOpName(op)} of ${bytes} bytes exceeds ${MAX_SUBMISSION_BYTES} per submission`);
  }
  const lbs = lim.logicalBlockSize;
  if (sector % (lbs >> SECTOR_SHIFT) !== 0 || bytes % lbs !== 0) {
    return fail(BlkStatus.IOERR, d, `sector ${sector} / ${bytes} bytes not aligned to the logical block size ${lbs}`);
  }
  const sectors = bytes / SECTOR_SIZE;
  if (sector + sectors > geo.capacitySectors) {
    return fail(BlkStatus.IOERR, d, `beyond end of device: sector ${sector} + ${sectors} > capacity ${geo.capacitySectors} sectors`);
  }
  if (op === ReqOp.DISCARD && lim.maxDiscardSectors === 0) return fail(BlkStatus.NOTSUPP, d, 'DISCARD not supported');
  if (op === ReqOp.WRITE_ZEROES && lim.maxWriteZeroesSectors === 0) return fail(BlkStatus.NOTSUPP, d, 'WRITE_ZEROES not supported');
  if (!lim.volatileWriteCache) {
    flags &= ~(ReqFlag.PREFLUSH | ReqFlag.FUA);
    if (op === ReqOp.FLUSH) return { done: { status: BlkStatus.OK } };
  }
  const buffer = op === ReqOp.READ ? (data ?? new Uint8Array(bytes)) : data;
  return { bios: split(op, sector, bytes, flags, buffer, chunkBytes(op, lim)), buffer: op === ReqOp.READ ? buffer : undefined };
}

/** Largest bio of `op` the limits allow, in bytes. */
function chunkBytes(op: ReqOp, lim: QueueLimits): number {
  const roundTo = (v: number, unit: number) => Math.max(unit, Math.floor(v / unit) * unit);
  if (op === ReqOp.DISCARD) return roundTo(lim.maxDiscardSectors * SECTOR_SIZE, Math.max(lim.discardGranularity, lim.logicalBlockSize));
  if (op === ReqOp.WRITE_ZEROES) return roundTo(lim.maxWriteZeroesSectors * SECTOR_SIZE, lim.logicalBlockSize);
  return maxRequestBytes(lim);
}

/** PREFLUSH goes on the first bio only; FUA on every bio. */
function split(op: ReqOp, sector: number, bytes: number, flags: number, buffer: Uint8Array | undefined, max: number): Bio[] {
  if (bytes === 0) return [new Bio({ op, sector, bytes, flags })];
  const bios: Bio[] = [];
  for (let at = 0; at < bytes; at += max) {
    const len = Math.min(max, bytes - at);
    const f = at === 0 ? flags : flags & ~ReqFlag.PREFLUSH;
    bios.push(new Bio({ op, sector: sector + at / SECTOR_SIZE, bytes: len, flags: f, buffer, bufferOffset: at }));
  }
  return bios;
}
