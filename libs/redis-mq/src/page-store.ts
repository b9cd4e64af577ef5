// Mirrors the memory backing of null_blk / rnull (`struct nullb_device`'s xarray of
// `struct nullb_page`): a sparse store of 4 KiB pages per disk, one Redis string key per
// page plus a set of the stored page numbers (DESIGN I8, `KeySchema.page`/`pageIndex`).
//
// Invariants:
//   - Memory is proportional to what was written: a page exists only once a byte of it
//     was written, and every stored page is exactly PAGE_SIZE bytes.
//   - A read returns the last write of each byte, or zeros where nothing was written or
//     the range was discarded (DESIGN invariant 4).
//   - Discard and write-zeroes free whole pages; a partial range is zeroed in place and
//     the page freed once it is all zeros (null_blk frees a page with its last sector).
//   - A batch runs in order as one atomic step (Lua atomicity, `applyPageOps-1.lua`);
//     a refused batch changes nothing.
//   - Partial pages are read-modify-written inside Redis: payload bytes cross the network
//     once per op (client -> Redis for writes, Redis -> client for reads).
// The cluster's hot path does not come here: its drivers move data with the fenced
// `FencedPages` (runPageOps-4.lua). This store is for tools and tests.

import type { Redis } from 'ioredis';
import { KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptArg, type ScriptRunner } from './lua-scripts';
import { checkReply } from './script-errors';

/** Bytes per page: the kernel's PAGE_SIZE, null_blk's unit of memory backing. */
export const PAGE_SIZE = 4096;
/** Bytes per sector: the block layer's fixed 512 (SECTOR_SHIFT 9). */
export const SECTOR_SIZE = 512;
/** Largest total payload of one batch (reads plus writes); bigger batches must be split. */
export const MAX_BATCH_BYTES = 128 * 1024 * 1024;

/** One IO of a page-store batch; `sector` in 512-byte sectors, `len` in bytes. */
export type PageOp =
  | { readonly op: 'read'; readonly sector: number; readonly len: number }
  | { readonly op: 'write'; readonly sector: number; readonly data: Buffer }
  | { readonly op: 'discard'; readonly sector: number; readonly len: number }
  | { readonly op: 'writeZeroes'; readonly sector: number; readonly len: number };

/** Result of one op: the bytes for `read`, null for every other op. */
export type PageOpResult = Buffer | null;

/** Page keys per SSCAN step and UNLINK of `destroy`. */
const DESTROY_CHUNK = 1000;

const KIND: Record<PageOp['op'], string> = { read: 'R', write: 'W', discard: 'Z', writeZeroes: 'Z' };

export class PageStore {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /** Runs `ops` in order as one atomic step (one EVALSHA); one result per op. */
  async apply(disk: string, ops: readonly PageOp[]): Promise<PageOpResult[]> {
    const keys = [this.keys.pageIndex(checkDiskName(disk))];
    if (ops.length === 0) return [];
    const args: ScriptArg[] = [PAGE_SIZE, this.keys.pagePrefix(disk)];
    let bytes = 0;
    for (const op of ops) {
      const len = op.op === 'write' ? op.data.length : op.len;
      const offset = checkRange(disk, op.op, op.sector, len);
      bytes += op.op === 'discard' || op.op === 'writeZeroes' ? 0 : len;
      args.push(KIND[op.op], offset, len, op.op === 'write' ? op.data : '');
    }
    if (bytes > MAX_BATCH_BYTES) {
      throw new RangeError(`${disk}: page batch of ${bytes} bytes exceeds ${MAX_BATCH_BYTES}; split it`);
    }
    const reply = await this.scripts.runBuffer('applyPageOps', keys, args);
    const results = checkReply<(Buffer | number)[]>('applyPageOps', reply as (Buffer | number)[], disk);
    return results.map((r) => (Buffer.isBuffer(r) ? r : null));
  }

  /** Writes `data` (a multiple of 512 bytes) at `sector`. */
  async write(disk: string, sector: number, data: Buffer): Promise<void> {
    await this.apply(disk, [{ op: 'write', sector, data }]);
  }

  /** Reads `len` bytes (a multiple of 512) at `sector`; unwritten bytes are zeros. */
  async read(disk: string, sector: number, len: number): Promise<Buffer> {
    const [data] = await this.apply(disk, [{ op: 'read', sector, len }]);
    return data as Buffer;
  }

  /** REQ_OP_DISCARD: frees the range; it reads as zeros afterwards. */
  async discard(disk: string, sector: number, len: number): Promise<void> {
    await this.apply(disk, [{ op: 'discard', sector, len }]);
  }

  /** REQ_OP_WRITE_ZEROES: the range reads as zeros; whole pages are freed, not stored. */
  async writeZeroes(disk: string, sector: number, len: number): Promise<void> {
    await this.apply(disk, [{ op: 'writeZeroes', sector, len }]);
  }

  /** Pages held for `disk` (the size of its page index). */
  async pagesUsed(disk: string): Promise<number> {
    return this.redis.scard(this.keys.pageIndex(disk));
  }

  /** Payload bytes held for `disk`: pages used times PAGE_SIZE. */
  async bytesUsed(disk: string): Promise<number> {
    return (await this.pagesUsed(disk)) * PAGE_SIZE;
  }

  /**
   * Frees every page and request-data field of `disk`: the pages its index lists, in
   * UNLINKs of `DESTROY_CHUNK` keys (Redis frees lazily), then the index and request data.
   * Not atomic: stop IO to the disk first.
   */
  async destroy(disk: string): Promise<void> {
    const index = this.keys.pageIndex(checkDiskName(disk));
    let cursor = '0';
    do {
      const [next, pages] = await this.redis.sscan(index, cursor, 'COUNT', DESTROY_CHUNK);
      cursor = next;
      if (pages.length) await this.redis.unlink(...pages.map((p) => this.keys.page(disk, Number(p))));
    } while (cursor !== '0');
    await this.redis.unlink(index, this.keys.requestData(disk));
  }
}

/** Byte offset of a sector range; throws a RangeError naming `op` and the problem when misaligned. */
export function checkRange(disk: string, op: string, sector: number, len: number): number {
  if (!Number.isSafeInteger(sector) || sector < 0) {
    throw new RangeError(`${disk}: ${op}: bad sector ${sector}: want a non-negative integer`);
  }
  if (!Number.isSafeInteger(len) || len < 0 || len % SECTOR_SIZE !== 0) {
    throw new RangeError(`${disk}: ${op}: bad length ${len}: want a multiple of ${SECTOR_SIZE} bytes`);
  }
  const offset = sector * SECTOR_SIZE;
  if (!Number.isSafeInteger(offset + len)) throw new RangeError(`${disk}: ${op}: range past 2^53 bytes`);
  return offset;
}
