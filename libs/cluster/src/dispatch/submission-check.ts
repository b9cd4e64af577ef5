// Mirrors the checks of `blk_mq_submit_bio` / `bio_check_eod` / `blk_check_zone_append`:
// whether a client's submission may enter the block layer, with an error naming the field.
import { ReqFlag, ReqOp } from '#blk-mq';
import { Op } from '#proto/grpc/blk/v1/block_device';
import { capacitySectors } from '#rnull';
import { DiskNotFoundError, InvalidArgumentError, OutOfRangeError, UnavailableError } from '../cluster-errors';
import type { DiskRecord } from '../disk-record';

/** Largest READ or WRITE submission in bytes: bigger IO must be split by the client (16 MiB). */
export const MAX_SUBMISSION_BYTES = 16 * 1024 * 1024;

/** The wire's `blk.v1.Op` values, named as the block layer names them; the .proto owns the numbers. */
export const WIRE_OP = {
  READ: Op.OP_READ,
  WRITE: Op.OP_WRITE,
  FLUSH: Op.OP_FLUSH,
  DISCARD: Op.OP_DISCARD,
  WRITE_ZEROES: Op.OP_WRITE_ZEROES,
} as const;

const OP_OF_WIRE: Record<number, ReqOp> = {
  [WIRE_OP.READ]: ReqOp.READ,
  [WIRE_OP.WRITE]: ReqOp.WRITE,
  [WIRE_OP.FLUSH]: ReqOp.FLUSH,
  [WIRE_OP.DISCARD]: ReqOp.DISCARD,
  [WIRE_OP.WRITE_ZEROES]: ReqOp.WRITE_ZEROES,
};

/** A submission as it arrives (either generated variant: 64-bit fields as bigint or string). */
export interface WireSubmission {
  disk: string;
  op: number;
  sector: bigint | string | number;
  length: number;
  data?: Uint8Array;
  flags: number;
}

/** A submission the block layer accepted. */
export interface CheckedSubmission {
  readonly disk: DiskRecord;
  readonly op: ReqOp;
  readonly sector: number;
  readonly bytes: number;
  /** The payload of a WRITE. */
  readonly data?: Buffer;
  readonly flags: number;
}

function sectorNumber(v: bigint | string | number): number {
  const n = typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('sector', `must be a whole number >= 0, got ${String(v)}`);
  return n;
}

/**
 * Accepts `s` against `disk` (undefined: unknown), or throws: NOT_FOUND (unknown disk),
 * UNAVAILABLE (powered off), INVALID_ARGUMENT / OUT_OF_RANGE naming the field.
 */
export function checkSubmission(s: WireSubmission, disk: DiskRecord | undefined): CheckedSubmission {
  if (!s.disk) throw new InvalidArgumentError('disk', 'is required');
  if (!disk) throw new DiskNotFoundError(s.disk);
  if (!disk.power) throw new UnavailableError(`disk ${JSON.stringify(s.disk)} is powered off`);
  const op = OP_OF_WIRE[s.op];
  if (op === undefined) throw new InvalidArgumentError('op', `must be READ, WRITE, FLUSH, DISCARD or WRITE_ZEROES, got ${s.op}`);
  if (!Number.isInteger(s.flags) || (s.flags & ~(ReqFlag.FUA | ReqFlag.PREFLUSH)) !== 0) {
    throw new InvalidArgumentError('flags', `unknown bits in ${s.flags}: only FUA (1) and PREFLUSH (2)`);
  }
  const data = s.data && s.data.length > 0 ? Buffer.from(s.data.buffer, s.data.byteOffset, s.data.length) : undefined;
  if (op !== ReqOp.WRITE && data) throw new InvalidArgumentError('data', 'only WRITE carries data');
  const flags = disk.attributes.fua ? s.flags : s.flags & ~ReqFlag.FUA;
  if (op === ReqOp.FLUSH) return { disk, op, sector: 0, bytes: 0, flags };

  const bs = disk.attributes.blocksize;
  const sector = sectorNumber(s.sector);
  if (!Number.isInteger(s.length) || s.length <= 0) throw new InvalidArgumentError('length', `must be > 0, got ${s.length}`);
  if (s.length % bs !== 0) throw new InvalidArgumentError('length', `${s.length} is not a multiple of the block size ${bs}`);
  if ((op === ReqOp.READ || op === ReqOp.WRITE) && s.length > MAX_SUBMISSION_BYTES) {
    throw new InvalidArgumentError('length', `${s.length} is over the limit of ${MAX_SUBMISSION_BYTES} bytes per submission`);
  }
  if ((sector * 512) % bs !== 0)
    throw new InvalidArgumentError('sector', `${sector} is not aligned to the block size ${bs} (${bs / 512} sectors)`);
  const capacity = capacitySectors(disk.attributes);
  if (sector >= capacity || sector + s.length / 512 > capacity) {
    throw new OutOfRangeError('sector', `${sector} + ${s.length / 512} sectors is past the capacity of ${capacity} sectors`);
  }
  if (op === ReqOp.WRITE) {
    const have = data?.length ?? 0;
    if (have !== s.length) throw new InvalidArgumentError('data', `has ${have} bytes but length says ${s.length}`);
  }
  return { disk, op, sector, bytes: s.length, data, flags };
}
