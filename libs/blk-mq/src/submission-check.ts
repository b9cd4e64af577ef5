// Mirrors the checks of submit_bio_noacct() and bio_check_eod(): whether one client IO may
// enter the block layer at all. The one copy of these rules: the engine runs it before
// splitting, and a service maps a refusal's `kind` to its wire status (DESIGN I5).

import { SECTOR_SHIFT, SECTOR_SIZE } from './bio';
import { BlkStatus } from './blk-status';
import { ReqOp, isReqFlags, isReqOp, opHasData, opIsZoneMgmt, reqOpName } from './req-op';
import { zoneNo } from './blk-zone';
import { maxRequestBytes } from './queue-limits';
import type { DiskGeometry, Submission } from './submission';

/** Default largest READ / WRITE one submission may move (`EngineOptions.maxSubmissionBytes`). */
export const MAX_SUBMISSION_BYTES = 1 << 30;

/**
 * Why a submission was refused. `kind` says what a service should answer:
 * 'invalid' (the request is malformed: gRPC INVALID_ARGUMENT), 'out-of-range' (well
 * formed, but past the end of the disk: OUT_OF_RANGE), 'unsupported' (this disk does not
 * do that op: UNIMPLEMENTED), 'zone' (a zone rule of a zoned disk, or a zone op on a disk
 * that is not zoned: completed with `status` and the message, as the block layer and
 * null_blk complete it). `status` is what the block layer completes it with.
 */
export interface SubmissionRefusal {
  readonly status: BlkStatus;
  /** The submission field at fault: 'submission', 'op', 'flags', 'sector', 'bytes', 'data'. */
  readonly field: string;
  readonly kind: 'invalid' | 'out-of-range' | 'unsupported' | 'zone';
  /** Names the problem and, where one applies, the limit; no disk name. */
  readonly message: string;
}

/** Limits of a submission that are the service's, not the disk's. */
export interface SubmissionLimits {
  /** Largest READ / WRITE in bytes. Default `MAX_SUBMISSION_BYTES` (1 GiB). */
  readonly maxSubmissionBytes?: number;
}

function invalid(field: string, message: string, status = BlkStatus.IOERR): SubmissionRefusal {
  return { status, field, kind: 'invalid', message };
}

/**
 * The byte length of `sub` as the checks see it: `data.length`, else `bytes`, else 0 for
 * FLUSH. Only meaningful once `checkSubmission` accepted `sub`.
 */
export function submissionBytes(sub: Submission): number {
  return sub.data?.length ?? sub.bytes ?? 0;
}

/**
 * Checks `sub` against the disk. Returns undefined when it may be issued, else the first
 * refusal. Never throws, whatever `sub` is.
 *
 * Not refused here (the block layer acts on them): PREFLUSH / FUA / FLUSH on a disk
 * without a volatile write cache (dropped, FLUSH completes at once).
 */
export function checkSubmission(sub: Submission, geometry: DiskGeometry, limits: SubmissionLimits = {}): SubmissionRefusal | undefined {
  const lim = geometry.limits;
  const maxBytes = limits.maxSubmissionBytes ?? MAX_SUBMISSION_BYTES;
  if (typeof sub !== 'object' || sub === null) return invalid('submission', 'submission must be an object');
  const { op, sector, data } = sub;
  if (!isReqOp(op)) return invalid('op', `unknown op ${String(op)}`, BlkStatus.NOTSUPP);
  const flags = sub.flags ?? 0;
  if (!isReqFlags(flags)) return invalid('flags', `unknown flags ${String(flags)}`, BlkStatus.NOTSUPP);
  if (typeof sector !== 'number' || !Number.isSafeInteger(sector) || sector < 0) {
    return invalid('sector', `sector must be a non-negative integer, got ${String(sector)}`);
  }
  if (data !== undefined && !(data instanceof Uint8Array)) return invalid('data', 'data must be a Uint8Array');
  if (data !== undefined && !opHasData(op)) return invalid('data', `${reqOpName(op)} carries no data`);
  if ((op === ReqOp.WRITE || op === ReqOp.ZONE_APPEND) && data === undefined) return invalid('data', `${reqOpName(op)} needs data`);
  // FLUSH and zone management carry no range.
  const noRange = op === ReqOp.FLUSH || opIsZoneMgmt(op);
  const bytes = data?.length ?? sub.bytes ?? (noRange ? 0 : undefined);
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    return invalid('bytes', `bytes must be a non-negative integer, got ${String(sub.bytes)}`);
  }
  if (data !== undefined && sub.bytes !== undefined && sub.bytes !== data.length) {
    return invalid('bytes', `bytes ${sub.bytes} does not match data length ${data.length}`);
  }
  if (noRange && bytes !== 0) return invalid('bytes', `${reqOpName(op)} carries no range, got ${bytes} bytes`);
  if (!noRange && bytes === 0) return invalid('bytes', `${reqOpName(op)} of 0 bytes`);
  if (opHasData(op) && bytes > maxBytes) {
    return invalid('bytes', `length ${bytes} is over the limit of ${maxBytes} bytes per submission`);
  }
  const lbs = lim.logicalBlockSize;
  if (sector % (lbs >> SECTOR_SHIFT) !== 0) {
    return invalid('sector', `sector ${sector} / ${bytes} bytes not aligned to the logical block size ${lbs}`);
  }
  if (bytes % lbs !== 0) return invalid('bytes', `sector ${sector} / ${bytes} bytes not aligned to the logical block size ${lbs}`);
  const sectors = bytes / SECTOR_SIZE;
  // Zone management names a sector of the disk; FLUSH and RESET_ALL name none.
  const extent = op === ReqOp.FLUSH || op === ReqOp.ZONE_RESET_ALL ? 0 : noRange ? 1 : sectors;
  if (sector + extent > geometry.capacitySectors) {
    return {
      status: BlkStatus.IOERR,
      field: 'sector',
      kind: 'out-of-range',
      message: `beyond end of device: sector ${sector} + ${sectors} > capacity ${geometry.capacitySectors} sectors`,
    };
  }
  const zoneRefusal = checkZoneRules(op, sector, sectors, geometry);
  if (zoneRefusal) return zoneRefusal;
  if (op === ReqOp.DISCARD && lim.maxDiscardSectors === 0) {
    return { status: BlkStatus.NOTSUPP, field: 'op', kind: 'unsupported', message: 'DISCARD not supported' };
  }
  if (op === ReqOp.WRITE_ZEROES && lim.maxWriteZeroesSectors === 0) {
    return { status: BlkStatus.NOTSUPP, field: 'op', kind: 'unsupported', message: 'WRITE_ZEROES not supported' };
  }
  return undefined;
}

function zoneRule(message: string, status = BlkStatus.IOERR): SubmissionRefusal {
  return { status, field: status === BlkStatus.NOTSUPP ? 'op' : 'sector', kind: 'zone', message };
}

/**
 * The block layer's zone checks (blk_check_zone_append, the zone management checks of
 * submit_bio_noacct and blkdev_zone_mgmt): zone ops only on a zoned disk (NOTSUPP); zone
 * management and ZONE_APPEND name the first sector of a sequential zone; an append fits
 * the zone and `appendMaxSectors`. The zone's state (write pointer, condition, limits)
 * is the driver's to check (null_blk's zoned.c).
 */
function checkZoneRules(op: ReqOp, sector: number, sectors: number, geometry: DiskGeometry): SubmissionRefusal | undefined {
  const append = op === ReqOp.ZONE_APPEND;
  if (!append && !opIsZoneMgmt(op)) return undefined;
  const zones = geometry.zones;
  if (!zones) return zoneRule(`${reqOpName(op)} needs a zoned disk (zoned=1)`, BlkStatus.NOTSUPP);
  if (op === ReqOp.ZONE_RESET_ALL) return undefined;
  if (sector % zones.zoneSectors !== 0) {
    return zoneRule(`${reqOpName(op)}: sector ${sector} is not the first sector of a zone (zones are ${zones.zoneSectors} sectors)`);
  }
  const z = zoneNo(zones, sector);
  if (z < zones.nrConv) {
    return zoneRule(
      `${reqOpName(op)}: sector ${sector} starts conventional zone ${z} (zone_nr_conv ${zones.nrConv}); it needs a sequential zone`,
    );
  }
  if (append) {
    if (sectors > zones.zoneSectors)
      return zoneRule(`ZONE_APPEND of ${sectors} sectors crosses the end of its zone (${zones.zoneSectors} sectors)`);
    if (zones.appendMaxSectors > 0 && sectors > zones.appendMaxSectors) {
      return zoneRule(`ZONE_APPEND of ${sectors} sectors is over zone_append_max_sectors ${zones.appendMaxSectors}`);
    }
    // max_zone_append_sectors is at most max_hw_sectors: an append is never split.
    const maxSectors = maxRequestBytes(geometry.limits) / SECTOR_SIZE;
    if (sectors > maxSectors) {
      return zoneRule(`ZONE_APPEND of ${sectors} sectors is over the largest request, ${maxSectors} sectors (max_sectors)`);
    }
  }
  return undefined;
}
