// The wire constants of the Network Block Device protocol (NetworkBlockDevice `doc/proto.md`):
// magics, handshake and option values, commands, flags and errors, with the spec's names.

/** "NBDMAGIC", the first 8 bytes the server sends. */
export const NBD_INIT_MAGIC = 0x4e42444d41474943n;
/** "IHAVEOPT": newstyle negotiation; also the magic of every option request. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Magic of every option reply. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;
export const NBD_REQUEST_MAGIC = 0x25609513;
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;
/** Client flags (32 bits). */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

/** Transmission flags (16 bits), sent per export. */
export const TransmissionFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
} as const;

/** Option types of the option haggling phase. */
export const NbdOpt = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
} as const;

/** Option reply types; errors have bit 31 set. */
export const NbdRep = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  ERR_UNSUP: 2 ** 31 + 1,
  ERR_POLICY: 2 ** 31 + 2,
  ERR_INVALID: 2 ** 31 + 3,
  ERR_PLATFORM: 2 ** 31 + 4,
  ERR_TLS_REQD: 2 ** 31 + 5,
  ERR_UNKNOWN: 2 ** 31 + 6,
  ERR_SHUTDOWN: 2 ** 31 + 7,
  ERR_BLOCK_SIZE_REQD: 2 ** 31 + 8,
  ERR_TOO_BIG: 2 ** 31 + 9,
} as const;

/** Information types of NBD_REP_INFO (NBD_OPT_INFO / NBD_OPT_GO). */
export const NbdInfo = {
  EXPORT: 0,
  NAME: 1,
  DESCRIPTION: 2,
  BLOCK_SIZE: 3,
} as const;

/** Transmission commands. */
export const NbdCmd = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

/** Command flags (16 bits). */
export const NbdCmdFlag = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
} as const;

/** Structured reply chunk types and flags. */
export const NbdReply = {
  FLAG_DONE: 1 << 0,
  TYPE_NONE: 0,
  TYPE_OFFSET_DATA: 1,
  TYPE_OFFSET_HOLE: 2,
  TYPE_ERROR: 2 ** 15 + 1,
} as const;

/** The error values of a reply (errno numbers as the spec fixes them). */
export const NbdErrno = {
  OK: 0,
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;
export type NbdErrno = (typeof NbdErrno)[keyof typeof NbdErrno];

/** Bytes of a transmission request header (magic, flags, type, cookie, offset, length). */
export const REQUEST_HEADER_BYTES = 28;
/** Longest export name or option payload the server reads during negotiation. */
export const MAX_OPTION_BYTES = 4096 + 64;
/**
 * Longest option payload the server reads past to answer NBD_REP_ERR_TOO_BIG and go on
 * haggling. A longer one is answered NBD_REP_ERR_TOO_BIG at once and the connection is
 * closed: the spec lets a server hard-disconnect a client whose behaviour "constitutes a
 * denial of service" ("Termination of the session during option haggling"), and reading
 * up to 4 GiB that no option needs is one.
 */
export const MAX_SKIPPED_OPTION_BYTES = 1024 * 1024;

/** `NBD_CMD_WRITE (1)`, for log lines and metric labels. */
export function commandName(type: number): string {
  return COMMAND_NAMES.get(type) ?? 'unknown';
}

const COMMAND_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(NbdCmd).map(([name, type]) => [type, name.toLowerCase()]));
