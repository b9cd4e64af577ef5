// The one mapping from a block layer status (the kernel's blk_status_t numbers, which the
// wire's blk.v1.Status keeps) to the errno of an NBD reply.
import { BlkStatus } from '#blk-mq';
import { NbdErrno } from './nbd-protocol';

/** NBD errno for `status`: as the kernel's `blk_status_to_errno`, narrowed to NBD's set. */
export function nbdErrnoOf(status: number): NbdErrno {
  switch (status) {
    case BlkStatus.OK:
      return NbdErrno.OK;
    case BlkStatus.NOTSUPP:
      return NbdErrno.ENOTSUP;
    case BlkStatus.NOSPC:
      return NbdErrno.ENOSPC;
    case BlkStatus.RESOURCE:
    case BlkStatus.DEV_RESOURCE:
      return NbdErrno.ENOMEM;
    case BlkStatus.OFFLINE:
      return NbdErrno.ESHUTDOWN;
    default:
      return NbdErrno.EIO;
  }
}
