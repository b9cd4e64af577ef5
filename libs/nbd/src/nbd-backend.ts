// What the NBD front end needs from a block device behind it: the exports it may offer and
// a session per connection that runs block commands (the gateway's port to the cluster).
import type { NbdErrno } from './nbd-protocol';
import type { NbdExport } from './nbd-export';

export type BlockOp = 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes';

/** One command for the device, already checked against the export and aligned to its blocks. */
export interface BlockCommand {
  readonly op: BlockOp;
  /** Byte offset; a multiple of the export's minimum block size (0 for flush). */
  readonly offset: bigint;
  /** Bytes; a multiple of the minimum block size, at most the export's maxPayload (0 for flush). */
  readonly length: number;
  /** The payload of a write. */
  readonly data?: Buffer;
  /** Force unit access: the write is durable when it completes. */
  readonly fua: boolean;
}

export interface BlockResult {
  readonly errno: NbdErrno;
  /** The data of a read that ended OK: exactly `length` bytes. */
  readonly data?: Buffer;
  /** Why it failed, for the log and a structured error chunk. */
  readonly message?: string;
}

/**
 * The IO path of one NBD connection.
 * Contract: `done` is called exactly once per `submit`, with any error as an errno (never
 * thrown); after `close()` nothing more is submitted, and it resolves once every `done` ran.
 */
export interface BlockSession {
  submit(cmd: BlockCommand, done: (r: BlockResult) => void): void;
  close(): Promise<void>;
}

/** The exports and their IO. `listExports` is read at each NBD_OPT_LIST / INFO / GO. */
export interface NbdBackend {
  listExports(): Promise<NbdExport[]>;
  openSession(exp: NbdExport): BlockSession;
}
