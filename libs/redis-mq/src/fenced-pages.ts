// Mirrors null_blk's memory-backed data path (`null_handle_memory_backed` over the xarray
// of pages) for the v2 cluster: the page ops of one batch, fenced by the batch's lease
// and its owner epoch in the same atomic step as the copies (`runPageOps-5.lua`, I4).
//
// Bytes never pass through Node: a write copies its payload from `rqdata[requestId]`
// (staged by `queueBatch`) into the pages and deletes it; a read copies its range into
// `rqdata[readDataId]`, where `endBatch` picks it up for the owner.
//
// Contracts:
//   - `runFenced` returns `leaseLost` when the lease member is gone (the batch was
//     reclaimed: a newer holder runs it) and nothing changed; `ownerGone` when the owner
//     epoch is gone: no page changed and the batch's write payloads were deleted.
//   - Otherwise one result per op, in order: 0 done, or a negative `ScriptCode`
//     (NoRequestData, RequestDataSize) that fails only that request.
//   - Discard and write zeroes cost O(min(range pages, stored pages)), so a 512 MiB write
//     zeroes of a sparse disk is cheap.
//   - On a zoned disk (`zoned`) every op first passes the zone checks, in order, in the same
//     step (include/zoneGate.lua, I17): a refused op reports its blk_status_t (positive) and
//     moves nothing; an append lands at its zone's write pointer and `landed` says where.
import type { Redis } from 'ioredis';
import { BlkStatus, ReqOp } from '#blk-mq';
import { REQUEST_ID_BYTES } from './batch-codec';
import { KeySchema, checkDiskName } from './key-schema';
import { scriptsFor, type ScriptArg, type ScriptRunner } from './lua-scripts';
import { checkRange, MAX_BATCH_BYTES, PAGE_SIZE } from './page-store';
import { ScriptCode } from './script-errors';
import { sendScattered } from './scatter-command';
import { sendTogether } from './send-together';

/**
 * One request's page op; `id` is its `requestId` (required for write and read). With a
 * write-back cache (`cacheBytes` > 0), a write lands in the cache unless `fua` (then its
 * pages are in the store when the call ends), and `flush` writes the whole cache back
 * (FLUSH, PREFLUSH); without one, every write goes to the store and `flush` is refused.
 */
export type FencedPageOp =
  | { readonly op: 'write'; readonly sector: number; readonly bytes: number; readonly id: Buffer; readonly fua?: boolean }
  | { readonly op: 'read' | 'append'; readonly sector: number; readonly bytes: number; readonly id: Buffer }
  | { readonly op: 'discard' | 'writeZeroes' | 'flush' | ZoneMgmtPageOp; readonly sector: number; readonly bytes: number };

/** Zone management as a page op of a zoned disk (`sector`: the zone's first; `bytes` 0). */
export type ZoneMgmtPageOp = 'zoneOpen' | 'zoneClose' | 'zoneFinish' | 'zoneReset' | 'zoneResetAll';

/** What fences a batch: its lease in `leased` (a key) and its owner epoch. */
export interface PageFence {
  readonly leased: string;
  readonly member: Buffer;
  readonly epoch: number;
}

/** The write-back cache after a call (only with one): pages it holds, pages the call wrote back. */
export interface CacheState {
  readonly pages: number;
  readonly writtenBack: number;
}

export type FencedResult =
  | { readonly status: 'ok'; readonly results: number[]; readonly cache?: CacheState; readonly landed?: number[] }
  | { readonly status: 'leaseLost' }
  | { readonly status: 'ownerGone' };

/** The page op a request of `op` makes, or undefined for ops that move no data (FLUSH). */
export function pageOpOf(op: ReqOp): FencedPageOp['op'] | undefined {
  switch (op) {
    case ReqOp.WRITE:
      return 'write';
    case ReqOp.READ:
      return 'read';
    case ReqOp.DISCARD:
      return 'discard';
    case ReqOp.WRITE_ZEROES:
      return 'writeZeroes';
    case ReqOp.ZONE_APPEND:
      return 'append';
    case ReqOp.ZONE_OPEN:
      return 'zoneOpen';
    case ReqOp.ZONE_CLOSE:
      return 'zoneClose';
    case ReqOp.ZONE_FINISH:
      return 'zoneFinish';
    case ReqOp.ZONE_RESET:
      return 'zoneReset';
    case ReqOp.ZONE_RESET_ALL:
      return 'zoneResetAll';
    default:
      return undefined;
  }
}

/** A script op's result as the request's status: 0 OK, a zone check's blk_status_t, else IOERR (a ScriptCode). */
export function pageOpStatus(result: number): BlkStatus {
  if (result === 0) return BlkStatus.OK;
  return result > 0 && BlkStatus[result] !== undefined ? (result as BlkStatus) : BlkStatus.IOERR;
}

/**
 * One request's page op when the driver runs in the owner's process: a write brings its
 * bytes; reads go through `readPages`, not a script.
 */
export type OwnedPageOp =
  | { readonly op: 'write' | 'append'; readonly sector: number; readonly bytes: number; readonly data: Buffer; readonly fua?: boolean }
  | { readonly op: 'discard' | 'writeZeroes' | 'flush' | ZoneMgmtPageOp; readonly sector: number; readonly bytes: number }
  /** A zoned disk's read, checked (OFFLINE zones fail) in the call; `readPages` reads it. */
  | { readonly op: 'read'; readonly sector: number; readonly bytes: number };

/**
 * Per op: 0 done, a positive blk_status_t from the zone checks, or a negative `ScriptCode`
 * (RequestDataSize) that fails only that op. `landed`: on a zoned disk, each op's append
 * sector (0 for other ops).
 */
export type OwnedResult =
  | { readonly status: 'ok'; readonly results: number[]; readonly cache?: CacheState; readonly landed?: number[] }
  | { readonly status: 'ownerGone' };

/** The scripts' op kinds (runPageOps-5.lua, runOwnedPageOps-3.lua; include/zoneGate.lua). */
const KIND: Record<FencedPageOp['op'], string> = {
  write: 'W',
  read: 'R',
  append: 'A',
  discard: 'Z',
  writeZeroes: 'Z',
  flush: 'F',
  zoneOpen: 'ZO',
  zoneClose: 'ZC',
  zoneFinish: 'ZF',
  zoneReset: 'ZX',
  zoneResetAll: 'ZXA',
};
/** Ops that move no bytes of their own (a range, or nothing). */
const NO_PAYLOAD: ReadonlySet<FencedPageOp['op']> = new Set([
  'discard',
  'writeZeroes',
  'flush',
  'zoneOpen',
  'zoneClose',
  'zoneFinish',
  'zoneReset',
  'zoneResetAll',
]);
/** runOwnedPageOps' kind of a write whose pages wait in stage keys. */
const STAGED = 'S';
/** The kinds of a write into the write-back cache (DESIGN I13): a staged one, any other. */
const CACHED_STAGED = 'CS';
const CACHED_WRITE = 'CW';

/** The script's results, the cache's two numbers after them when it has a cache, then a zoned call's landed sectors. */
function splitReply(
  reply: number[],
  ops: number,
  cacheBytes: number,
  zoned: boolean,
): { results: number[]; cache?: CacheState; landed?: number[] } {
  const results = reply.slice(0, ops);
  const cache = cacheBytes > 0 ? { pages: reply[ops], writtenBack: reply[ops + 1] } : undefined;
  const landedAt = ops + (cache ? 2 : 0);
  return { results, ...(cache && { cache }), ...(zoned && { landed: reply.slice(landedAt, landedAt + ops) }) };
}

/** `cacheBytes`, checked: a whole number of bytes, 0 for no cache. */
function checkCacheBytes(disk: string, cacheBytes: number): number {
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) throw new RangeError(`${disk}: bad write-back cache size ${cacheBytes}`);
  return cacheBytes;
}
/**
 * Whole pages a batch needs before its writes are staged: below it the MSET's extra
 * command costs Redis more than the Lua strings it saves (tools/bench/owned-write-cost.js:
 * 1 page 36 µs in the call, 47 staged; 4 pages even; 11 pages 11.9 vs 8.6).
 */
export const STAGE_MIN_PAGES = 4;

/** A page-aligned run of whole pages (what can be staged). */
function wholePages(offset: number, bytes: number): boolean {
  return bytes > 0 && offset % PAGE_SIZE === 0 && bytes % PAGE_SIZE === 0;
}

export class FencedPages {
  private readonly scripts: ScriptRunner;
  /** Staged batches sent so far: with the owner epoch, it makes stage keys unique. */
  private stagedBatches = 0;

  constructor(
    readonly redis: Redis,
    readonly keys: KeySchema = new KeySchema(),
  ) {
    this.scripts = scriptsFor(redis);
  }

  /**
   * Runs `ops` in order, as one atomic step, only while `fence` holds; through a write-back
   * cache of `cacheBytes` (DESIGN I13) when it is > 0.
   */
  async runFenced(disk: string, fence: PageFence, ops: readonly FencedPageOp[], cacheBytes = 0, zoned = false): Promise<FencedResult> {
    checkDiskName(disk);
    if (!Buffer.isBuffer(fence.member)) throw new TypeError(`${disk}: runFenced: the fence member must be a Buffer`);
    if (!Number.isSafeInteger(fence.epoch) || fence.epoch < 0) throw new RangeError(`${disk}: runFenced: bad epoch ${fence.epoch}`);
    const args: ScriptArg[] = [
      fence.member,
      fence.epoch,
      PAGE_SIZE,
      this.keys.pagePrefix(disk),
      ...this.cacheArgs(disk, cacheBytes),
      zoned ? '1' : '',
    ];
    let moved = 0;
    for (const [i, op] of ops.entries()) {
      const offset = checkRange(disk, `op ${i} (${op.op})`, op.sector, op.bytes);
      const id = 'id' in op ? op.id : undefined;
      const zero = NO_PAYLOAD.has(op.op);
      if (!zero && !(Buffer.isBuffer(id) && id.length === REQUEST_ID_BYTES)) {
        throw new RangeError(`${disk}: op ${i} (${op.op}): want a ${REQUEST_ID_BYTES}-byte request id`);
      }
      if (!(op.op in KIND)) throw new RangeError(`${disk}: op ${i}: unknown op ${String(op.op)}`);
      moved += zero ? 0 : op.bytes;
      const kind = op.op === 'write' && cacheBytes > 0 && !op.fua ? CACHED_WRITE : KIND[op.op];
      args.push(kind, offset, op.bytes, zero || !id ? '' : id);
    }
    if (moved > MAX_BATCH_BYTES) throw new RangeError(`${disk}: page batch of ${moved} bytes exceeds ${MAX_BATCH_BYTES}; split it`);
    const keys = [this.keys.pageIndex(disk), this.keys.requestData(disk), fence.leased, this.keys.owners(disk), this.keys.zones(disk)];
    const reply = (await this.scripts.run('runPageOps', keys, args)) as number | number[];
    if (reply === ScriptCode.LeaseLost) return { status: 'leaseLost' };
    if (reply === ScriptCode.OwnerGone) return { status: 'ownerGone' };
    return { status: 'ok', ...splitReply(reply as number[], ops.length, cacheBytes, zoned) };
  }

  /** The scripts' cache arguments: its size in bytes, its index and its page prefix ('' without one). */
  private cacheArgs(disk: string, cacheBytes: number): ScriptArg[] {
    if (checkCacheBytes(disk, cacheBytes) === 0) return [0, '', ''];
    return [cacheBytes, this.keys.cacheIndex(disk), this.keys.cachePrefix(disk)];
  }

  /**
   * Reads `ranges` with one plain MGET of the pages they cover: no script, so the page
   * bytes never become Lua strings (the dearest part of a read run in Redis). Absent pages
   * read as zeros. Unfenced on purpose: a read moves no data into the store, and a read
   * sent after a write on the same connection sees it (Redis runs a connection's commands
   * in order). A whole-page, page-aligned read returns the stored Buffer itself. With
   * `cached` (a disk with a write-back cache, DESIGN I13) the same MGET also asks the
   * cached pages, and a cached page is read before the store's.
   */
  async readPages(disk: string, ranges: readonly { readonly sector: number; readonly bytes: number }[], cached = false): Promise<Buffer[]> {
    checkDiskName(disk);
    const pageKeys: string[] = [];
    const index = new Map<number, number>();
    const spans = ranges.map((r, i) => {
      const offset = checkRange(disk, `read ${i}`, r.sector, r.bytes);
      const first = Math.floor(offset / PAGE_SIZE);
      const last = r.bytes === 0 ? first - 1 : Math.floor((offset + r.bytes - 1) / PAGE_SIZE);
      for (let p = first; p <= last; p++) {
        if (!index.has(p)) {
          index.set(p, pageKeys.length);
          pageKeys.push(this.keys.page(disk, p));
        }
      }
      return { offset, bytes: r.bytes, first, last };
    });
    const cacheKeys = cached ? pageKeys.map((k) => this.keys.cachePrefix(disk) + k.slice(this.keys.pagePrefix(disk).length)) : [];
    const got = pageKeys.length ? await this.redis.mgetBuffer(...pageKeys, ...cacheKeys) : [];
    const pages = cached ? got.slice(0, pageKeys.length).map((page, k) => got[pageKeys.length + k] ?? page) : got;
    return spans.map(({ offset, bytes, first, last }) => {
      if (first === last && bytes === PAGE_SIZE && offset % PAGE_SIZE === 0) {
        return pages[index.get(first)!] ?? Buffer.alloc(PAGE_SIZE);
      }
      const out = Buffer.alloc(bytes);
      for (let p = first; p <= last; p++) {
        const page = pages[index.get(p)!];
        if (!page) continue;
        const from = Math.max(offset, p * PAGE_SIZE);
        const to = Math.min(offset + bytes, (p + 1) * PAGE_SIZE);
        page.copy(out, from - offset, from - p * PAGE_SIZE, to - p * PAGE_SIZE);
      }
      return out;
    });
  }

  /**
   * `runOwnedPageOps-3.lua`: runs `ops` in order, as one atomic step, only while owner
   * `epoch` is alive (the driver runs in the owner's process, so there is no lease to
   * fence). When the batch holds at least STAGE_MIN_PAGES whole pages of writes, each
   * page-aligned write of whole pages is staged first: one plain MSET of its pages into
   * stage keys, sent just before the script on the same connection, which RENAMEs them
   * into place (I8), so the bytes never become a Lua string; any other write goes in with
   * the call.
   */
  async runOwned(disk: string, epoch: number, ops: readonly OwnedPageOp[], cacheBytes = 0, zoned = false): Promise<OwnedResult> {
    checkDiskName(disk);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`${disk}: runOwned: bad epoch ${epoch}`);
    const args: ScriptArg[] = [epoch, PAGE_SIZE, this.keys.pagePrefix(disk), ...this.cacheArgs(disk, cacheBytes), zoned ? '1' : ''];
    const offsets = ops.map((op, i) => {
      const offset = checkRange(disk, `op ${i} (${op.op})`, op.sector, op.bytes);
      if (!(op.op in KIND)) throw new RangeError(`${disk}: op ${i}: unknown op ${String(op.op)}`);
      if ((op.op === 'write' || op.op === 'append') && !(Buffer.isBuffer(op.data) && op.data.length === op.bytes)) {
        throw new RangeError(`${disk}: op ${i} (${op.op}): want ${op.bytes} bytes of data`);
      }
      return offset;
    });
    // Staging costs Redis a second command; it pays from STAGE_MIN_PAGES whole pages a batch.
    let whole = 0;
    let onlyWholeWrites = true;
    ops.forEach((op, i) => {
      if (op.op === 'write' && wholePages(offsets[i], op.bytes)) whole += op.bytes / PAGE_SIZE;
      else onlyWholeWrites = false;
    });
    const batch = `${epoch}.${++this.stagedBatches}`;
    if (onlyWholeWrites && whole >= STAGE_MIN_PAGES && cacheBytes === 0 && !zoned) {
      return this.moveStaged(disk, epoch, batch, ops as readonly (OwnedPageOp & { op: 'write' })[], offsets);
    }
    const staged: (string | Buffer)[] = [];
    let moved = 0;
    for (const [i, op] of ops.entries()) {
      const offset = offsets[i];
      if (op.op === 'append') {
        moved += op.bytes;
        args.push(KIND.append, offset, op.bytes, op.data); // lands where the zone says: never staged
        continue;
      }
      if (op.op !== 'write') {
        args.push(KIND[op.op], offset, op.bytes, '');
        continue;
      }
      moved += op.bytes;
      const cachedWrite = cacheBytes > 0 && !op.fua;
      if (whole < STAGE_MIN_PAGES || !wholePages(offset, op.bytes)) {
        args.push(cachedWrite ? CACHED_WRITE : KIND.write, offset, op.bytes, op.data);
        continue;
      }
      const base = this.keys.pageStage(disk, batch, i);
      for (let j = 0; j * PAGE_SIZE < op.bytes; j++) staged.push(`${base}${j}`, op.data.subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE));
      args.push(cachedWrite ? CACHED_STAGED : STAGED, offset, op.bytes, base);
    }
    if (moved > MAX_BATCH_BYTES) throw new RangeError(`${disk}: page batch of ${moved} bytes exceeds ${MAX_BATCH_BYTES}; split it`);
    const keys = [this.keys.pageIndex(disk), this.keys.owners(disk), this.keys.zones(disk)];
    // Same connection, sent in this order and in one socket write: Redis runs the MSET
    // first. Should the MSET fail, the script finds stage keys missing and fails the batch
    // without moving anything.
    const [stagedWrite, run] = sendTogether(this.redis, () => [
      staged.length ? sendScattered(this.redis, 'mset', staged) : undefined,
      this.scripts.run('runOwnedPageOps', keys, args),
    ]);
    const [reply] = await Promise.all([run, stagedWrite]);
    if (reply === ScriptCode.OwnerGone) return { status: 'ownerGone' };
    return { status: 'ok', ...splitReply(reply as number[], ops.length, cacheBytes, zoned) };
  }

  /**
   * `runOwned` of a batch of whole-page writes only, on a disk without a write-back cache
   * that is not zoned: one MSET of the pages into stage keys and `moveStagedPages-2.lua`,
   * sent together, the same effect as the general script at less cost (nothing per op is
   * parsed in Lua). A page written twice in the batch keeps its last write (ops in order).
   */
  private async moveStaged(
    disk: string,
    epoch: number,
    batch: string,
    ops: readonly (OwnedPageOp & { op: 'write' })[],
    offsets: readonly number[],
  ): Promise<OwnedResult> {
    const stage = this.keys.stagedPagePrefix(disk, batch);
    const last = new Map<number, Buffer>();
    let moved = 0;
    ops.forEach((op, i) => {
      moved += op.bytes;
      const first = offsets[i] / PAGE_SIZE;
      for (let j = 0; j * PAGE_SIZE < op.bytes; j++) last.set(first + j, op.data.subarray(j * PAGE_SIZE, (j + 1) * PAGE_SIZE));
    });
    if (moved > MAX_BATCH_BYTES) throw new RangeError(`${disk}: page batch of ${moved} bytes exceeds ${MAX_BATCH_BYTES}; split it`);
    const staged: (string | Buffer)[] = [];
    const args: ScriptArg[] = [epoch, this.keys.pagePrefix(disk), stage];
    for (const [p, data] of last) {
      staged.push(`${stage}${p}`, data);
      args.push(p);
    }
    const keys = [this.keys.pageIndex(disk), this.keys.owners(disk)];
    // As in runOwned: one connection, one socket write, the MSET first.
    const [stagedWrite, run] = sendTogether(this.redis, () => [
      sendScattered(this.redis, 'mset', staged),
      this.scripts.run('moveStagedPages', keys, args),
    ]);
    const [reply] = await Promise.all([run, stagedWrite]);
    if (reply === ScriptCode.OwnerGone) return { status: 'ownerGone' };
    return { status: 'ok', results: ops.map(() => 0) };
  }
}
