// null_blk's badblocks, badblocks_once and badblocks_partial_io against a real cluster
// (real processes, real Redis), with the driver in its worker processes and inside
// dispatch: bad ranges set on a powered disk over gRPC and with rnullctl, an IO over one
// failing with IOERR over gRPC and EIO over NBD (a raw NBD client and qemu-io), a vetoed
// write leaving the stored data as it was, partial_io writing the good prefix, once
// clearing the range after its first hit (in the registry too), and the hits counted in
// rnull_badblock_hits_total by the process that runs the driver.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { NbdCmd, NbdErrno } from '#nbd';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import type { Disk, DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { RawNbdClient } from '../libs/nbd/src/testing/raw-nbd-client';
import {
  createDisk,
  driverService,
  metricSum,
  eventually,
  failureCode,
  startCluster,
  submit,
  unary,
  type Fixture,
} from './support/cluster-fixture';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const BLOCK = 4096;

const fill = (bytes: number, byte: number) => Buffer.alloc(bytes, byte);

describe.each(['local', 'remote'] as const)('badblocks, driver placement %s', (placement) => {
  let f: Fixture;
  let nbdHost: string;
  let nbdPort: number;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: 'dispatch', rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
    [nbdHost, nbdPort] = [f.cluster.nbdAddress!.split(':')[0], Number(f.cluster.nbdAddress!.split(':')[1])];
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  const configure = (name: string, attributes: DiskAttributes) => unary<object, Disk>(f.disks, 'configureDisk', { name, attributes });
  const getDisk = (name: string) => unary<object, Disk>(f.disks, 'getDisk', { name });
  const write = (disk: string, sector: number, data: Buffer) =>
    submit(f, { disk, op: Op.OP_WRITE, sector: BigInt(sector), length: data.length, data });
  const read = (disk: string, sector: number, length: number) => submit(f, { disk, op: Op.OP_READ, sector: BigInt(sector), length });
  const rnullctl = (...args: string[]) => run(path.join(ROOT, 'bin/rnullctl'), [...args, '--address', f.cluster.dispatchAddress]);

  /** rnull_badblock_hits_total{disk} summed over the processes that run the driver. */
  const hits = (disk: string) => metricSum(f, driverService(placement), 'rnull_badblock_hits_total', { disk });

  it('fails an IO over a bad range with IOERR and leaves the data a vetoed write aimed at; IO beside it runs', async () => {
    await createDisk(f, 'bb0', { size: 16n, memoryBacked: true });
    expect((await write('bb0', 0, fill(8 * BLOCK, 0xa1))).status).toBe(Status.STATUS_OK);

    const set = await configure('bb0', { badblocks: '+20-23' }); // inside the block at sector 16, while powered
    expect(set.power).toBe(true);
    expect(set.attributes?.badblocks).toBe('20 4\n');
    expect((await getDisk('bb0')).attributes?.badblocks).toBe('20 4\n');
    // Another live change leaves the list alone (an unset badblocks is no write of the file).
    expect((await configure('bb0', { pollQueues: 0 })).attributes?.badblocks).toBe('20 4\n');

    const r = await read('bb0', 16, BLOCK);
    expect(r.status).toBe(Status.STATUS_IOERR);
    expect((await read('bb0', 8, 2 * BLOCK)).status).toBe(Status.STATUS_IOERR); // touches it from before
    expect((await write('bb0', 16, fill(BLOCK, 0xb2))).status).toBe(Status.STATUS_IOERR);
    const beside = await read('bb0', 0, 2 * BLOCK);
    expect(beside.status).toBe(Status.STATUS_OK);
    expect(Buffer.from(beside.data)).toEqual(fill(2 * BLOCK, 0xa1));
    expect((await write('bb0', 24, fill(BLOCK, 0xc3))).status).toBe(Status.STATUS_OK);

    // Cleared: the vetoed write changed nothing.
    expect((await configure('bb0', { badblocks: '-20-23' })).attributes?.badblocks).toBe('');
    const after = await read('bb0', 16, 2 * BLOCK);
    expect(after.status).toBe(Status.STATUS_OK);
    expect(Buffer.from(after.data)).toEqual(Buffer.concat([fill(BLOCK, 0xa1), fill(BLOCK, 0xc3)]));
    expect(await hits('bb0')).toBe(3);
  });

  it('sets and lists bad ranges with rnullctl (disk badblocks, disk show) as the kernel shows them', async () => {
    await createDisk(f, 'ctl0', { size: 16n });
    const { stdout } = await rnullctl('disk', 'badblocks', 'ctl0', '+100-107', '+0-1199', '-8-15');
    expect(stdout).toBe('0 8\n16 512\n528 512\n1040 160\n');
    const show = await rnullctl('disk', 'show', 'ctl0');
    expect(show.stdout).toMatch(/^badblocks\s+0 8, 16 512, 528 512, 1040 160$/m);
    expect(show.stdout).toMatch(/^badblocks_once\s+0$/m);
    expect((await read('ctl0', 1040, BLOCK)).status).toBe(Status.STATUS_IOERR);
    expect((await read('ctl0', 1200, BLOCK)).status).toBe(Status.STATUS_OK);
  });

  it('refuses a malformed range with INVALID_ARGUMENT naming badblocks, and once / partial_io while powered with EBUSY', async () => {
    await createDisk(f, 'val0', { size: 16n });
    const bad = await failureCode(configure('val0', { badblocks: '+9-3' }));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/badblocks: start 9 is after end 3/);
    expect((await failureCode(configure('val0', { badblocks: '9-30' }))).details).toMatch(/^badblocks: want "\+START-END"/);
    const busy = await failureCode(configure('val0', { badblocksOnce: true }));
    expect(busy.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(busy.details).toMatch(/badblocks_once/);
    expect((await getDisk('val0')).attributes?.badblocks).toBe('');
  });

  it('fails NBD reads and writes over a bad range with EIO (raw client and qemu-io), and a vetoed NBD write stores nothing', async () => {
    await createDisk(f, 'nbd0', { size: 16n });
    expect((await write('nbd0', 0, fill(4 * BLOCK, 0x5a))).status).toBe(Status.STATUS_OK);
    await configure('nbd0', { badblocks: '+8-15' });

    const c = await RawNbdClient.connect(nbdPort, nbdHost);
    try {
      await c.handshake();
      await c.go('nbd0');
      c.send(NbdCmd.READ, 1n, BigInt(8 * 512), BLOCK);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 1n });
      c.send(NbdCmd.WRITE, 2n, BigInt(8 * 512), BLOCK, { data: fill(BLOCK, 0x77) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 2n });
      c.send(NbdCmd.READ, 3n, 0n, BLOCK);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 3n });
      expect(await c.read(BLOCK)).toEqual(fill(BLOCK, 0x5a));
    } finally {
      c.destroy();
    }

    const uri = `nbd://${nbdHost}:${nbdPort}/nbd0`;
    const qemu = await run('qemu-io', ['-f', 'raw', '-c', `read 4096 4096`, uri]).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${qemu.stdout}${qemu.stderr}`).toMatch(/read failed: Input\/output error/);

    await configure('nbd0', { badblocks: '-8-15' });
    const back = await read('nbd0', 8, BLOCK);
    expect(Buffer.from(back.data)).toEqual(fill(BLOCK, 0x5a));
  });

  it('with badblocks_partial_io writes the whole blocks before the first bad sector, then fails the IO', async () => {
    await createDisk(f, 'part0', { size: 16n, badblocksPartialIo: true });
    expect((await write('part0', 0, fill(8 * BLOCK, 0x11))).status).toBe(Status.STATUS_OK);
    await configure('part0', { badblocks: '+21-22' }); // rounds down to the block at sector 16

    expect((await write('part0', 0, fill(4 * BLOCK, 0x22))).status).toBe(Status.STATUS_IOERR); // sectors 0..31
    await configure('part0', { badblocks: '-21-22' });
    const back = await read('part0', 0, 8 * BLOCK);
    expect(back.status).toBe(Status.STATUS_OK);
    expect(Buffer.from(back.data)).toEqual(Buffer.concat([fill(2 * BLOCK, 0x22), fill(6 * BLOCK, 0x11)]));
    expect(await hits('part0')).toBe(1);
  });

  it('with badblocks_once fails the first IO over a range only, and the registry forgets the range', async () => {
    await createDisk(f, 'once0', { size: 16n, badblocksOnce: true });
    expect((await write('once0', 8, fill(BLOCK, 0x33))).status).toBe(Status.STATUS_OK);
    await configure('once0', { badblocks: '+8-15' });
    await configure('once0', { badblocks: '+64-71' });

    expect((await read('once0', 8, BLOCK)).status).toBe(Status.STATUS_IOERR);
    const second = await read('once0', 8, BLOCK);
    expect(second.status).toBe(Status.STATUS_OK);
    expect(Buffer.from(second.data)).toEqual(fill(BLOCK, 0x33));
    // gendisk applies the driver's clear; every driver copy follows it. The other range stays.
    expect(await eventually(async () => (await getDisk('once0')).attributes?.badblocks === '64 8\n', 10_000)).toBe(true);
    expect((await read('once0', 64, BLOCK)).status).toBe(Status.STATUS_IOERR);
    expect(await eventually(async () => (await getDisk('once0')).attributes?.badblocks === '', 10_000)).toBe(true);
    expect((await read('once0', 64, BLOCK)).status).toBe(Status.STATUS_OK);
    expect(await hits('once0')).toBe(2);
  });
});
