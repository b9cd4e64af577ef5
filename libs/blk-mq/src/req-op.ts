// Mirrors `enum req_op` and the `REQ_FUA` / `REQ_PREFLUSH` flags of include/linux/blk_types.h.

/** The operation of a bio or request; the values are the kernel's. */
export enum ReqOp {
  READ = 0,
  WRITE = 1,
  FLUSH = 2,
  DISCARD = 3,
  /** Zoned disks: write at the zone's write pointer; the request's sector becomes where it landed. */
  ZONE_APPEND = 7,
  WRITE_ZEROES = 9,
  /** Zone management (zoned disks): the zone starting at the request's sector. */
  ZONE_OPEN = 10,
  ZONE_CLOSE = 11,
  ZONE_FINISH = 12,
  ZONE_RESET = 13,
  /** Every sequential zone (sector ignored). */
  ZONE_RESET_ALL = 15,
}

/** Request flags, a bit set. */
export enum ReqFlag {
  NONE = 0,
  /** Forced unit access: the write is durable when it completes. */
  FUA = 1 << 0,
  /** Flush the volatile cache before this request. */
  PREFLUSH = 1 << 1,
}

const ALL_FLAGS = ReqFlag.FUA | ReqFlag.PREFLUSH;

export function isReqOp(v: unknown): v is ReqOp {
  return typeof v === 'number' && ReqOp[v] !== undefined;
}

/** Flags other than the known ones are refused by the submission checks. */
export function isReqFlags(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && (v & ~ALL_FLAGS) === 0 && v >= 0;
}

/** `op_is_write()`: the data moves towards the device. */
export function opIsWrite(op: ReqOp): boolean {
  return op !== ReqOp.READ;
}

/** READ, WRITE and ZONE_APPEND carry a data buffer; the other ops carry only a range (or none). */
export function opHasData(op: ReqOp): boolean {
  return op === ReqOp.READ || op === ReqOp.WRITE || op === ReqOp.ZONE_APPEND;
}

/** `op_is_zone_mgmt()`: OPEN, CLOSE, FINISH, RESET, RESET_ALL (no data, no length). */
export function opIsZoneMgmt(op: ReqOp): boolean {
  return op >= ReqOp.ZONE_OPEN && op <= ReqOp.ZONE_RESET_ALL && ReqOp[op] !== undefined;
}

export function reqOpName(op: ReqOp): string {
  return ReqOp[op] ?? `OP_${op}`;
}

/** `FUA|PREFLUSH`, or `NONE`. */
export function reqFlagsName(flags: number): string {
  const names: string[] = [];
  if (flags & ReqFlag.FUA) names.push('FUA');
  if (flags & ReqFlag.PREFLUSH) names.push('PREFLUSH');
  return names.length ? names.join('|') : 'NONE';
}
