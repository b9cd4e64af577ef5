// Mirrors blk_attempt_plug_merge() with blk_rq_merge_ok() and bio_attempt_back_merge()
// (block/blk-merge.c): a bio that continues the last request of the plug joins it instead
// of taking a tag of its own.

import { type Bio, SECTOR_SIZE } from './bio';
import { QueueLimits, maxRequestBytes } from './queue-limits';
import { ReqFlag, ReqOp } from './req-op';
import type { Request } from './request';

/** `REQ_NOMERGE_FLAGS`: a bio or request with one of these never merges. */
export const NOMERGE_FLAGS = ReqFlag.PREFLUSH | ReqFlag.FUA;

/**
 * True when `bio` may be back-merged into `rq`: both READ or both WRITE, the same flags
 * and none of `NOMERGE_FLAGS` (as the kernel, a FUA or PREFLUSH bio stays alone),
 * `bio` starts exactly where `rq` ends, and together they fit the limits: at most
 * `maxRequestBytes(limits)` bytes and `limits.maxSegments` segments (ll_back_merge_fn),
 * and within one `chunkSectors` chunk (a zone: blk_rq_get_max_sectors).
 * The caller makes sure `rq` has not reached the driver (it is still in the plug).
 */
export function canBackMerge(rq: Request<unknown>, bio: Bio, limits: QueueLimits): boolean {
  return (
    (rq.op === ReqOp.READ || rq.op === ReqOp.WRITE) &&
    bio.op === rq.op &&
    bio.flags === rq.flags &&
    (rq.flags & NOMERGE_FLAGS) === 0 &&
    bio.sector === rq.sector + rq.sectors &&
    rq.bytes + bio.bytes <= maxRequestBytes(limits) &&
    rq.nrPhysSegments + bio.segmentCount <= limits.maxSegments &&
    sameChunk(rq.sector, bio.sector + bio.bytes / SECTOR_SIZE, limits.chunkSectors)
  );
}

/** True when sectors [first, end) lie in one chunk of `chunkSectors` (0: no chunks). */
function sameChunk(first: number, end: number, chunkSectors: number): boolean {
  return chunkSectors === 0 || Math.floor(first / chunkSectors) === Math.floor((end - 1) / chunkSectors);
}
