// Mirrors `enum req_op` and the `REQ_FUA` / `REQ_PREFLUSH` flags of include/linux/blk_types.h.

/** The operation of a bio or request; the values are the kernel's. */
export enum ReqOp {
  READ = 0,
  WRITE = 1,
  FLUSH = 2,
  DISCARD = 3,
  WRITE_ZEROES = 9,
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

/** READ and WRITE carry a data buffer; the other ops carry only a range. */
export function opHasData(op: ReqOp): boolean {
  return op === ReqOp.READ || op === ReqOp.WRITE;
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
