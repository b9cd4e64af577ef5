// The one mapping from a block layer status (the kernel's blk_status_t numbers, which the
// wire's blk.v1.Status keeps) to the errno of an NBD reply. blk-mq's `blkStatusErrno`
// (the kernel's `blk_errors[]`) owns which errno a status means; this module only narrows
// that errno to the set an NBD reply may carry (`NbdErrno`, whose numbers the NBD spec fixes).
import { blkStatusErrno, type BlkStatus } from '#blk-mq';
import { NbdErrno } from './nbd-protocol';

/** The kernel errno names NBD can say as they are, or as the nearest errno it has. */
const NBD_ERRNO_OF_ERRNO: Readonly<Record<string, NbdErrno>> = {
  '': NbdErrno.OK,
  // EOPNOTSUPP and ENOTSUP are one number (95) on Linux; NBD names it ENOTSUP.
  EOPNOTSUPP: NbdErrno.ENOTSUP,
  ENOSPC: NbdErrno.ENOSPC,
  ENOMEM: NbdErrno.ENOMEM,
  // DEV_RESOURCE: the device is out of resources for now; NBD has no EBUSY.
  EBUSY: NbdErrno.ENOMEM,
  // OFFLINE: the device is gone; NBD's word for that is ESHUTDOWN.
  ENODEV: NbdErrno.ESHUTDOWN,
};

/** NBD errno for `status`: as the kernel's `blk_status_to_errno`, narrowed to NBD's set. */
export function nbdErrnoOf(status: number): NbdErrno {
  return NBD_ERRNO_OF_ERRNO[blkStatusErrno(status as BlkStatus)] ?? NbdErrno.EIO;
}
