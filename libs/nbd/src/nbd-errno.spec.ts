// The NBD errno of every block layer status, pinned as the gateway sends it on the wire.
import { BlkStatus } from '#blk-mq';
import { nbdErrnoOf } from './nbd-errno';
import { NbdErrno } from './nbd-protocol';

describe('nbdErrnoOf', () => {
  const special: Partial<Record<BlkStatus, NbdErrno>> = {
    [BlkStatus.OK]: NbdErrno.OK,
    [BlkStatus.NOTSUPP]: NbdErrno.ENOTSUP,
    [BlkStatus.NOSPC]: NbdErrno.ENOSPC,
    [BlkStatus.RESOURCE]: NbdErrno.ENOMEM,
    [BlkStatus.DEV_RESOURCE]: NbdErrno.ENOMEM,
    [BlkStatus.OFFLINE]: NbdErrno.ESHUTDOWN,
  };

  it.each(Object.values(BlkStatus).filter((v): v is BlkStatus => typeof v === 'number'))('maps status %p', (s) => {
    expect(nbdErrnoOf(s)).toBe(special[s] ?? NbdErrno.EIO);
  });

  it('answers EIO for a status the block layer does not know', () => {
    expect(nbdErrnoOf(99)).toBe(NbdErrno.EIO);
    expect(nbdErrnoOf(-1)).toBe(NbdErrno.EIO);
  });
});
