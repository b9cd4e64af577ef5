// Mirrors blk_mq_end_request() as it is reached from another process: an end record
// (status, a READ's data, a message) checked and applied to the request's bios before the
// request ends (DESIGN section 3: ends travel back as end records).

import { BlkStatus } from './blk-status';
import { ReqOp } from './req-op';
import type { Request } from './request';

/** The status and message a request ends with after `applyEndRecord`. */
export interface AppliedEnd {
  readonly status: BlkStatus;
  readonly message?: string;
}

/**
 * Checks one end record for `rq` and, for a READ ending OK, copies `data` into the
 * request's bios in order (a merged request spans several submissions' buffers).
 *
 * Contract: a READ ending OK must bring exactly `rq.bytes` of data; missing or short data
 * turns the end into IOERR with a message that says so, and nothing is copied (a read
 * never answers zeros it did not get, DESIGN I4). An unknown status becomes IOERR naming
 * it. A ZONE_APPEND ending OK must say where it landed, inside the zone it named
 * (`landedSector`: set on the request), else it ends IOERR saying so. Any other record
 * passes unchanged; `data` of a non-READ is ignored. With
 * `readWithoutData: 'zeros'` (a driver without memory backing) a READ that brings no data
 * at all reads zeros.
 */
export function applyEndRecord(
  rq: Request<unknown>,
  status: BlkStatus,
  data?: Uint8Array,
  message?: string,
  readWithoutData: 'error' | 'zeros' = 'error',
  landedSector?: number,
): AppliedEnd {
  if (typeof status !== 'number' || BlkStatus[status] === undefined) {
    return { status: BlkStatus.IOERR, message: `${rq.name}: end with unknown status ${String(status)}` };
  }
  if (status === BlkStatus.OK && rq.op === ReqOp.ZONE_APPEND) return landAppend(rq, landedSector);
  if (status !== BlkStatus.OK || rq.op !== ReqOp.READ) return { status, message };
  if (data === undefined && readWithoutData === 'zeros') {
    // A driver that moves no data (no memory backing) reads zeros, as null_blk does.
    for (const bio of rq.bios) bio.data!.fill(0);
    return { status };
  }
  if (!(data instanceof Uint8Array) || data.length !== rq.bytes) {
    const got = data instanceof Uint8Array ? data.length : 0;
    return { status: BlkStatus.IOERR, message: `${rq.name}: read data missing or short: got ${got} of ${rq.bytes} bytes` };
  }
  let at = 0;
  for (const bio of rq.bios) {
    bio.data!.set(data.subarray(at, at + bio.bytes));
    at += bio.bytes;
  }
  return { status };
}

/** The landed sector of an append that ended OK, checked against the zone it was sent to. */
function landAppend(rq: Request<unknown>, landedSector: number | undefined): AppliedEnd {
  if (landedSector === undefined || !Number.isSafeInteger(landedSector) || landedSector < rq.sector) {
    return { status: BlkStatus.IOERR, message: `${rq.name}: zone append ended OK without a landed sector (got ${String(landedSector)})` };
  }
  rq.setLandedSector(landedSector);
  return { status: BlkStatus.OK };
}
