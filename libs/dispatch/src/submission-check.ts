// Mirrors the checks of `blk_mq_submit_bio` / `bio_check_eod` / `blk_check_zone_append`:
// whether a client's submission may enter the block layer, with an error naming the field.
// The block-layer rules are blk-mq's `checkSubmission` (DESIGN §7: one owner); this module
// adds the wire's checks and turns a refusal's `kind` into the gRPC error.
import { checkSubmission as checkBlkSubmission, opIsZoneMgmt, ReqFlag, ReqOp } from '#blk-mq';
import { Op } from '#proto/grpc/blk/v1/block_device';
import { DiskNotFoundError, InvalidArgumentError, OutOfRangeError, UnavailableError, wireInteger } from '#service-kit';
import type { DiskRecord } from '#gendisk';
import { geometryOf } from './disk-geometry';

/** Largest READ or WRITE submission in bytes: bigger IO must be split by the client (16 MiB). */
export const MAX_SUBMISSION_BYTES = 16 * 1024 * 1024;

/** The wire's `blk.v1.Op` values, named as the block layer names them; the .proto owns the numbers. */
export const WIRE_OP = {
  READ: Op.OP_READ,
  WRITE: Op.OP_WRITE,
  FLUSH: Op.OP_FLUSH,
  DISCARD: Op.OP_DISCARD,
  WRITE_ZEROES: Op.OP_WRITE_ZEROES,
  ZONE_APPEND: Op.OP_ZONE_APPEND,
  ZONE_OPEN: Op.OP_ZONE_OPEN,
  ZONE_CLOSE: Op.OP_ZONE_CLOSE,
  ZONE_FINISH: Op.OP_ZONE_FINISH,
  ZONE_RESET: Op.OP_ZONE_RESET,
  ZONE_RESET_ALL: Op.OP_ZONE_RESET_ALL,
} as const;

const OP_OF_WIRE: Record<number, ReqOp> = {
  [WIRE_OP.READ]: ReqOp.READ,
  [WIRE_OP.WRITE]: ReqOp.WRITE,
  [WIRE_OP.FLUSH]: ReqOp.FLUSH,
  [WIRE_OP.DISCARD]: ReqOp.DISCARD,
  [WIRE_OP.WRITE_ZEROES]: ReqOp.WRITE_ZEROES,
  [WIRE_OP.ZONE_APPEND]: ReqOp.ZONE_APPEND,
  [WIRE_OP.ZONE_OPEN]: ReqOp.ZONE_OPEN,
  [WIRE_OP.ZONE_CLOSE]: ReqOp.ZONE_CLOSE,
  [WIRE_OP.ZONE_FINISH]: ReqOp.ZONE_FINISH,
  [WIRE_OP.ZONE_RESET]: ReqOp.ZONE_RESET,
  [WIRE_OP.ZONE_RESET_ALL]: ReqOp.ZONE_RESET_ALL,
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

/** The wire field a blk-mq refusal's `field` names (the wire calls `bytes` `length`). */
function wireField(field: string): string {
  return field === 'bytes' ? 'length' : field;
}

/**
 * Accepts `s` against `disk` (undefined: unknown), or throws: NOT_FOUND (unknown disk),
 * UNAVAILABLE (powered off), INVALID_ARGUMENT / OUT_OF_RANGE naming the field.
 *
 * The cluster checks what only the wire has (disk, power, wire op, flags, data only on
 * WRITE, the 64-bit sector, length against data) and strips FUA; blk-mq's
 * `checkSubmission` owns the block-layer rules (block size, alignment, capacity, the
 * 16 MiB cap on READ / WRITE). Its 'unsupported' refusals (DISCARD on discard=0) pass:
 * the block layer completes them NOTSUPP, as a disk does.
 */
export function checkSubmission(s: WireSubmission, disk: DiskRecord | undefined): CheckedSubmission {
  if (!s.disk) throw new InvalidArgumentError('disk', 'is required');
  if (!disk) throw new DiskNotFoundError(s.disk);
  if (!disk.power) throw new UnavailableError(`disk ${JSON.stringify(s.disk)} is powered off`);
  const op = OP_OF_WIRE[s.op];
  if (op === undefined) {
    throw new InvalidArgumentError('op', `must be one of ${Object.keys(WIRE_OP).join(', ')}, got ${s.op}`);
  }
  if (!Number.isInteger(s.flags) || (s.flags & ~(ReqFlag.FUA | ReqFlag.PREFLUSH)) !== 0) {
    throw new InvalidArgumentError('flags', `unknown bits in ${s.flags}: only FUA (1) and PREFLUSH (2)`);
  }
  const data = s.data && s.data.length > 0 ? Buffer.from(s.data.buffer, s.data.byteOffset, s.data.length) : undefined;
  const writes = op === ReqOp.WRITE || op === ReqOp.ZONE_APPEND;
  if (!writes && data) throw new InvalidArgumentError('data', 'only WRITE and ZONE_APPEND carry data');
  const flags = disk.attributes.fua ? s.flags : s.flags & ~ReqFlag.FUA;
  if (op === ReqOp.FLUSH || op === ReqOp.ZONE_RESET_ALL) return { disk, op, sector: 0, bytes: 0, flags };

  const sector = wireInteger('sector', s.sector);
  // Zone management names a zone by its first sector: its length is ignored.
  const bytes = opIsZoneMgmt(op) ? 0 : s.length;
  if (!opIsZoneMgmt(op) && (!Number.isInteger(bytes) || bytes <= 0)) throw new InvalidArgumentError('length', `must be > 0, got ${bytes}`);
  if (writes) {
    const have = data?.length ?? 0;
    if (have !== bytes) throw new InvalidArgumentError('data', `has ${have} bytes but length says ${bytes}`);
  }
  // Zone rules ('zone') and DISCARD on discard=0 ('unsupported') pass: the block layer
  // completes them with their status, as a disk does (I5).
  const refusal = checkBlkSubmission({ op, sector, bytes, data, flags }, geometryOf(disk), {
    maxSubmissionBytes: MAX_SUBMISSION_BYTES,
  });
  if (refusal?.kind === 'out-of-range') throw new OutOfRangeError(wireField(refusal.field), refusal.message);
  if (refusal?.kind === 'invalid') throw new InvalidArgumentError(wireField(refusal.field), refusal.message);
  return { disk, op, sector, bytes, data, flags };
}
