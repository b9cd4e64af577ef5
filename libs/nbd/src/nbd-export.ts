// One NBD export as the gateway offers it (a powered disk of the cluster): size, block
// size constraints and the transmission flags that reflect what the disk supports.
import { TransmissionFlag } from './nbd-protocol';

/** What a disk offers, in the backend's words (the subset of null_blk attributes NBD needs). */
export interface ExportDisk {
  readonly name: string;
  readonly sizeBytes: bigint;
  /** The disk's logical block size: NBD's minimum and preferred block size. */
  readonly blockSize: number;
  /**
   * The disk has a volatile write cache: NBD offers FLUSH, and FUA when `fua` (as the
   * kernel's BLK_FEAT_WRITE_CACHE and BLK_FEAT_FUA); without one it offers neither.
   */
  readonly writeCache: boolean;
  readonly fua: boolean;
  readonly discard: boolean;
  readonly rotational: boolean;
}

/**
 * Invariants:
 *   - `minBlock` divides `preferredBlock`, which divides `maxPayload` (the spec's rules).
 *   - `flags` always has HAS_FLAGS. It has READ_ONLY only in `readOnlyExport`'s copy, the
 *     export as a client with the `read` role sees it (DESIGN I19).
 */
export interface NbdExport {
  readonly name: string;
  readonly sizeBytes: bigint;
  readonly minBlock: number;
  readonly preferredBlock: number;
  /** Largest READ or WRITE payload; TRIM and WRITE_ZEROES may be longer (they are split). */
  readonly maxPayload: number;
  readonly flags: number;
  readonly description: string;
}

/**
 * The export of `disk`. CAN_MULTI_CONN is set because the cluster keeps no per-connection
 * cache: a write is in the shared page store, or the disk's write-back cache that every
 * process sees, when it is acknowledged (DESIGN I4, I13), so FLUSH and FUA on one
 * connection cover writes acknowledged on every other.
 */
export function exportOf(disk: ExportDisk, maxPayload: number): NbdExport {
  let flags = TransmissionFlag.HAS_FLAGS | TransmissionFlag.SEND_WRITE_ZEROES | TransmissionFlag.CAN_MULTI_CONN;
  if (disk.writeCache) flags |= TransmissionFlag.SEND_FLUSH;
  if (disk.writeCache && disk.fua) flags |= TransmissionFlag.SEND_FUA;
  if (disk.discard) flags |= TransmissionFlag.SEND_TRIM;
  if (disk.rotational) flags |= TransmissionFlag.ROTATIONAL;
  const max = Math.max(disk.blockSize, Math.floor(maxPayload / disk.blockSize) * disk.blockSize);
  return {
    name: disk.name,
    sizeBytes: disk.sizeBytes,
    minBlock: disk.blockSize,
    preferredBlock: disk.blockSize,
    maxPayload: max,
    flags,
    description: `rnull-cluster disk ${disk.name}, ${disk.sizeBytes / 1048576n} MiB, ${disk.blockSize}-byte blocks`,
  };
}

/**
 * `exp` as a read-only client sees it: NBD_FLAG_READ_ONLY, and none of the flags that offer
 * a way to change data (TRIM, WRITE_ZEROES, FUA), as nbdkit offers an export it cannot write.
 * The transmission phase answers a write, TRIM or WRITE_ZEROES on it with EPERM
 * (command-check's checkWritable).
 */
export function readOnlyExport(exp: NbdExport): NbdExport {
  const writeFlags = TransmissionFlag.SEND_TRIM | TransmissionFlag.SEND_WRITE_ZEROES | TransmissionFlag.SEND_FUA;
  return { ...exp, flags: (exp.flags & ~writeFlags) | TransmissionFlag.READ_ONLY };
}
