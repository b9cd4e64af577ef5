// Mirrors `blk_status_t` (include/linux/blk_types.h) and the Rust `kernel::block::mq`
// error mapping. The numeric values are the kernel's, and the wire protocol
// (proto/blk/v1 `Status`) uses the same numbers.

export enum BlkStatus {
  OK = 0,
  NOTSUPP = 1,
  TIMEOUT = 2,
  NOSPC = 3,
  TRANSPORT = 4,
  TARGET = 5,
  RESV_CONFLICT = 6,
  MEDIUM = 7,
  PROTECTION = 8,
  RESOURCE = 9,
  IOERR = 10,
  DM_REQUEUE = 11,
  AGAIN = 12,
  DEV_RESOURCE = 13,
  ZONE_OPEN_RESOURCE = 14,
  ZONE_ACTIVE_RESOURCE = 15,
  OFFLINE = 16,
}

/** The kernel's `blk_errors[]` errno for each status, for messages and the NBD gateway. */
const ERRNO: Record<BlkStatus, string> = {
  [BlkStatus.OK]: '',
  [BlkStatus.NOTSUPP]: 'EOPNOTSUPP',
  [BlkStatus.TIMEOUT]: 'ETIMEDOUT',
  [BlkStatus.NOSPC]: 'ENOSPC',
  [BlkStatus.TRANSPORT]: 'ENOLINK',
  [BlkStatus.TARGET]: 'EREMOTEIO',
  [BlkStatus.RESV_CONFLICT]: 'EBADE',
  [BlkStatus.MEDIUM]: 'ENODATA',
  [BlkStatus.PROTECTION]: 'EILSEQ',
  [BlkStatus.RESOURCE]: 'ENOMEM',
  [BlkStatus.IOERR]: 'EIO',
  [BlkStatus.DM_REQUEUE]: 'EREMCHG',
  [BlkStatus.AGAIN]: 'EAGAIN',
  [BlkStatus.DEV_RESOURCE]: 'EBUSY',
  [BlkStatus.ZONE_OPEN_RESOURCE]: 'ETOOMANYREFS',
  [BlkStatus.ZONE_ACTIVE_RESOURCE]: 'EOVERFLOW',
  [BlkStatus.OFFLINE]: 'ENODEV',
};

export function blkStatusErrno(s: BlkStatus): string {
  return ERRNO[s] ?? 'EIO';
}

/** `RESOURCE` and `DEV_RESOURCE` ask the block layer to requeue and retry later. */
export function isRequeueStatus(s: BlkStatus): boolean {
  return s === BlkStatus.RESOURCE || s === BlkStatus.DEV_RESOURCE;
}

export function blkStatusName(s: number): string {
  return BlkStatus[s] ?? `STATUS_${s}`;
}
