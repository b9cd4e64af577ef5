// Mirrors submit_bio_noacct() and the splitting of bio_split_to_limits(): one client IO
// becomes one or more bios that each fit the disk's queue limits, or a completion that
// names what was wrong with it (the checks: `submission-check.ts`; DESIGN I5).

import { Bio, SECTOR_SIZE } from './bio';
import type { ZoneShape } from './blk-zone';
import { BlkStatus } from './blk-status';
import { QueueLimits, maxRequestBytes } from './queue-limits';
import { ReqFlag, ReqOp } from './req-op';
import { SubmissionLimits, checkSubmission, submissionBytes } from './submission-check';

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
  /**
   * Who submitted (a stream, a connection): tag waiters are served round robin between
   * clients, FIFO within one. Default `cpu ?? 0`.
   */
  readonly client?: number;
}

/** The outcome of one submission. */
export interface Completion {
  readonly status: BlkStatus;
  /** READ that ended OK: the data read. */
  readonly data?: Uint8Array;
  /** Why the submission failed, when something more than the status is known. */
  readonly error?: string;
  /** A ZONE_APPEND that ended OK: the sector its data landed at. */
  readonly sector?: number;
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
  private landed: number | undefined;

  constructor(
    private remaining: number,
    private readonly buffer: Uint8Array | undefined,
    private readonly settle: (c: Completion) => void,
  ) {}

  /** One request ended (a ZONE_APPEND with where it landed); returns true when that settled the submission. */
  ended(status: BlkStatus, error?: string, landedSector?: number): boolean {
    if (status !== BlkStatus.OK && this.status === BlkStatus.OK) {
      this.status = status;
      this.error = error;
    }
    if (landedSector !== undefined) this.landed = landedSector;
    this.remaining -= 1;
    if (this.remaining > 0) return false;
    const c: { status: BlkStatus; data?: Uint8Array; error?: string; sector?: number } = { status: this.status };
    if (this.status === BlkStatus.OK && this.buffer) c.data = this.buffer;
    if (this.status === BlkStatus.OK && this.landed !== undefined) c.sector = this.landed;
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
  /** A zoned disk's zones (its `limits.chunkSectors` is their size); undefined when not zoned. */
  readonly zones?: ZoneShape;
}

/** Either the bios to issue (with the READ buffer) or an immediate completion. */
export type Prepared =
  { readonly bios: readonly Bio[]; readonly buffer?: Uint8Array; readonly done?: undefined } | { readonly done: Completion };

/**
 * Checks `sub` against the disk (`checkSubmission`) and splits it into bios. Never throws
 * on bad input: a refusal becomes a completion whose error is `<disk>: <message>`.
 */
export function prepareSubmission(sub: Submission, geo: DiskGeometry, limits?: SubmissionLimits): Prepared {
  const refusal = checkSubmission(sub, geo, limits);
  if (refusal) return { done: { status: refusal.status, error: `${geo.name}: ${refusal.message}` } };
  const lim = geo.limits;
  const { op, sector, data } = sub;
  const bytes = submissionBytes(sub);
  let flags = sub.flags ?? 0;
  if (!lim.volatileWriteCache) {
    flags &= ~(ReqFlag.PREFLUSH | ReqFlag.FUA);
    if (op === ReqOp.FLUSH) return { done: { status: BlkStatus.OK } };
  }
  const buffer = op === ReqOp.READ ? (data ?? new Uint8Array(bytes)) : data;
  // A zone append is one request, never split (blk_check_zone_append refused a bigger one).
  const max = op === ReqOp.ZONE_APPEND ? Math.max(bytes, 1) : chunkBytes(op, lim);
  return { bios: split(op, sector, bytes, flags, buffer, max, lim.chunkSectors), buffer: op === ReqOp.READ ? buffer : undefined };
}

/** Largest bio of `op` the limits allow, in bytes. */
function chunkBytes(op: ReqOp, lim: QueueLimits): number {
  const roundTo = (v: number, unit: number) => Math.max(unit, Math.floor(v / unit) * unit);
  if (op === ReqOp.DISCARD) return roundTo(lim.maxDiscardSectors * SECTOR_SIZE, Math.max(lim.discardGranularity, lim.logicalBlockSize));
  if (op === ReqOp.WRITE_ZEROES) return roundTo(lim.maxWriteZeroesSectors * SECTOR_SIZE, lim.logicalBlockSize);
  return maxRequestBytes(lim);
}

/**
 * Bios of at most `max` bytes that cross no multiple of `chunkSectors` (0: none; a zone
 * boundary, bio_split_to_limits with chunk_sectors). PREFLUSH goes on the first bio only;
 * FUA on every bio.
 */
function split(
  op: ReqOp,
  sector: number,
  bytes: number,
  flags: number,
  buffer: Uint8Array | undefined,
  max: number,
  chunkSectors: number,
): Bio[] {
  if (bytes === 0) return [new Bio({ op, sector, bytes, flags })];
  const bios: Bio[] = [];
  for (let at = 0, len = 0; at < bytes; at += len) {
    len = Math.min(max, bytes - at);
    if (chunkSectors > 0 && op !== ReqOp.ZONE_APPEND) {
      const first = sector + at / SECTOR_SIZE;
      len = Math.min(len, (chunkSectors - (first % chunkSectors)) * SECTOR_SIZE);
    }
    const f = at === 0 ? flags : flags & ~ReqFlag.PREFLUSH;
    bios.push(new Bio({ op, sector: sector + at / SECTOR_SIZE, bytes: len, flags: f, buffer, bufferOffset: at }));
  }
  return bios;
}
