// The checks a transmission request passes before it reaches the device: its command flags,
// its range against the export size, its alignment to the minimum block size. Each refusal
// is the errno the NBD protocol (`doc/proto.md`, "Error values") names, with a message.
import type { NbdExport } from './nbd-export';
import { NbdCmd, NbdCmdFlag, NbdErrno, TransmissionFlag } from './nbd-protocol';

/** A refusal: the reply's errno and why (the log line, and a structured error chunk). */
export type Refusal = readonly [errno: number, message: string];

/** The parts of a request header the checks read. */
export interface RequestRange {
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly length: number;
}

/**
 * The command flags this server takes on each command. The spec ("Command flags"): FUA is
 * valid on every command, and the server MUST accept it where SEND_FUA was negotiated
 * ("existing clients are known to set this bit on other commands"); it is taken on every
 * export and dropped where SEND_FUA is not offered (`Transmission.fua`). NO_HOLE is valid
 * on WRITE_ZEROES only. DF (needs SEND_DF), FAST_ZERO (needs SEND_FAST_ZERO) and REQ_ONE
 * (BLOCK_STATUS) belong to features this server does not advertise.
 */
const ALLOWED_FLAGS: Readonly<Record<number, number>> = {
  [NbdCmd.READ]: NbdCmdFlag.FUA,
  [NbdCmd.WRITE]: NbdCmdFlag.FUA,
  [NbdCmd.FLUSH]: NbdCmdFlag.FUA,
  [NbdCmd.TRIM]: NbdCmdFlag.FUA,
  [NbdCmd.WRITE_ZEROES]: NbdCmdFlag.FUA | NbdCmdFlag.NO_HOLE,
};

/**
 * A flag bit the command does not take: EINVAL. The spec ("Error values"): "The server
 * SHOULD return NBD_EINVAL if it receives an unknown command flag. It also SHOULD return
 * NBD_EINVAL if it receives a request with a flag not explicitly documented as applicable
 * to the given request."
 */
export function checkFlags(h: RequestRange): Refusal | undefined {
  const extra = h.flags & ~(ALLOWED_FLAGS[h.type] ?? 0);
  if (extra === 0) return undefined;
  const allowed = ALLOWED_FLAGS[h.type] ?? 0;
  const names = Object.entries(NbdCmdFlag)
    .filter(([, bit]) => allowed & bit)
    .map(([name]) => name);
  return [
    NbdErrno.EINVAL,
    `command flags 0x${h.flags.toString(16)} carry bits 0x${extra.toString(16)} this command does not take (it takes ${names.join(', ') || 'none'})`,
  ];
}

/**
 * A range past the end of the export. The spec ("Error values"): "The server SHOULD return
 * NBD_ENOSPC if it receives a write request including one or more sectors beyond the size
 * of the device. [...] It SHOULD return NBD_EINVAL if it receives a read or trim request
 * including one or more sectors beyond the size of the device"; and for WRITE_ZEROES
 * ("Request types"): "The server SHOULD return NBD_ENOSPC". So WRITE and WRITE_ZEROES get
 * ENOSPC, READ and TRIM EINVAL.
 */
export function checkRange(h: RequestRange, exp: NbdExport): Refusal | undefined {
  if (h.offset + BigInt(h.length) <= exp.sizeBytes) return undefined;
  const errno = h.type === NbdCmd.WRITE || h.type === NbdCmd.WRITE_ZEROES ? NbdErrno.ENOSPC : NbdErrno.EINVAL;
  return [errno, `offset ${h.offset} + length ${h.length} is past the end of ${exp.name} (${exp.sizeBytes} bytes)`];
}

/**
 * A request not aligned to the minimum block size: EINVAL ("Error values": "if a read or
 * write request is not aligned to advertised minimum block sizes"). Asked only of a client
 * that promised alignment (it asked for NBD_INFO_BLOCK_SIZE); for another, AnyAlignmentIo
 * makes up for it.
 */
export function checkAligned(h: RequestRange, exp: NbdExport): Refusal | undefined {
  const bs = exp.minBlock;
  if (h.offset % BigInt(bs) === 0n && h.length % bs === 0) return undefined;
  return [NbdErrno.EINVAL, `offset ${h.offset} and length ${h.length} must be multiples of the block size ${bs}`];
}

/**
 * A command that changes data on a read-only export (the client's role is `read`, DESIGN
 * I19): EPERM. The spec ("Error values"): "The server SHOULD return NBD_EPERM if it receives
 * a write or trim request on a read-only export."
 */
export function checkWritable(h: RequestRange, exp: NbdExport): Refusal | undefined {
  if (!(exp.flags & TransmissionFlag.READ_ONLY)) return undefined;
  if (h.type !== NbdCmd.WRITE && h.type !== NbdCmd.TRIM && h.type !== NbdCmd.WRITE_ZEROES) return undefined;
  return [NbdErrno.EPERM, `export ${exp.name} is read-only for this client (its role is read)`];
}
