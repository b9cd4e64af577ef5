// null_blk's fault injection (`timeout`, `requeue`, `init_hctx`: lib/fault-inject.c's
// "<interval>,<probability>,<space>,<times>") against a real cluster (real processes,
// real Redis), with the driver in its worker processes and inside dispatch:
//   - blktests block/014's analogue: 100 parallel writers on a disk whose driver drops
//     requests (timeout injection, timeout_ms 1000); nothing hangs, every IO ends, the
//     failed ones end TIMEOUT (gRPC STATUS_TIMEOUT, NBD EIO) and nothing else; a timed-out
//     write stored nothing, no tag stays held, no end is applied twice.
//   - block/015's analogue: requeue injection; every IO succeeds and the requeue counter moves.
//   - init_hctx: power on, and a submit_queues increase, fail with an error naming it.
// Every injected fault counts in rnull_injected_faults_total{disk,kind}.
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
  failureCode,
  metricSum,
  startCluster,
  submit,
  tagsHeld,
  eventually,
  unary,
  type Fixture,
} from './support/cluster-fixture';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const BLOCK = 4096;
const WRITERS = 100;

const fill = (bytes: number, byte: number) => Buffer.alloc(bytes, byte);

describe.each(['local', 'remote'] as const)('fault injection, driver placement %s', (placement) => {
  let f: Fixture;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: 'dispatch', rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
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
  /** The service that runs the driver in this placement. */
  const driver = driverService(placement);

  const injected = (disk: string, kind: string, service: string = driver) =>
    metricSum(f, service, 'rnull_injected_faults_total', { disk, kind });

  it('block/014: 100 parallel writers with timeout injection end every IO, the dropped ones TIMEOUT, and leak no tag', async () => {
    // Every 10th request the driver sees is dropped, 20 times in all; one driver copy.
    await createDisk(f, 'to0', { size: 16n, timeoutMs: 1000, timeout: '10,100,0,20' });
    const t0 = Date.now();
    const ios: { sector: number; byte: number; status?: Status }[] = [];
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let j = 0; j < 4; j++) {
          // Sectors apart, so no two writes merge: each is one request.
          const io: (typeof ios)[number] = { sector: (w * 4 + j) * 16, byte: (w * 4 + j) % 251 };
          ios.push(io);
          io.status = (await write('to0', io.sector, fill(BLOCK, io.byte))).status;
        }
      }),
    );
    const statuses = ios.map((io) => io.status);
    const timedOut = statuses.filter((s) => s === Status.STATUS_TIMEOUT).length;
    expect(statuses.filter((s) => s !== Status.STATUS_OK && s !== Status.STATUS_TIMEOUT)).toEqual([]);
    expect(timedOut).toBe(20);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await injected('to0', 'timeout')).toBe(20);
    expect(await metricSum(f, 'dispatch', 'rnull_timeouts_total', { disk: 'to0' })).toBe(20);

    // A dropped write stored nothing (null_blk returns before null_handle_cmd); the rest did.
    for (const io of ios) {
      const r = await read('to0', io.sector, BLOCK);
      expect(r.status).toBe(Status.STATUS_OK);
      expect(Buffer.from(r.data)).toEqual(fill(BLOCK, io.status === Status.STATUS_OK ? io.byte : 0));
    }
    // No tag leaked, none was ended twice (I2, I3): the budget is back, no stale end, and
    // (times spent) a full queue depth of writes at once all end OK.
    expect(await eventually(async () => (await tagsHeld(f, 'to0')) === 0)).toBe(true);
    expect(await metricSum(f, 'dispatch', 'rnull_stale_ends_total', { disk: 'to0' })).toBe(0);
    const again = await Promise.all(Array.from({ length: 64 }, (_, i) => write('to0', i * 16, fill(BLOCK, 1))));
    expect(again.map((c) => c.status)).toEqual(new Array(64).fill(Status.STATUS_OK));
  }, 90_000);

  it('a dropped NBD write ends with EIO (TIMEOUT is ETIMEDOUT, which NBD replies cannot carry)', async () => {
    await createDisk(f, 'to1', { size: 16n, timeoutMs: 500, timeout: '1,100,0,1' });
    const [host, port] = f.cluster.nbdAddress!.split(':');
    const c = await RawNbdClient.connect(Number(port), host);
    try {
      await c.handshake();
      await c.go('to1');
      c.send(NbdCmd.WRITE, 1n, 0n, BLOCK, { data: fill(BLOCK, 0x42) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 1n });
      c.send(NbdCmd.WRITE, 2n, 0n, BLOCK, { data: fill(BLOCK, 0x43) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 2n });
    } finally {
      c.destroy();
    }
    expect(await injected('to1', 'timeout')).toBe(1);
  });

  it('block/015: requeue injection; every IO succeeds with its data, and the requeue counter moves', async () => {
    await createDisk(f, 'rq0', { size: 16n, requeue: '2,100,0,-1' }); // every 2nd request the driver sees
    const before = await metricSum(f, driver, 'rnull_requeues_total', { disk: 'rq0' });
    const done = await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const statuses: Status[] = [];
        for (let j = 0; j < 2; j++) statuses.push((await write('rq0', (w * 2 + j) * 16, fill(BLOCK, w + 1))).status);
        return statuses;
      }),
    );
    expect(done.flat()).toEqual(new Array(WRITERS * 2).fill(Status.STATUS_OK));
    const reads = await Promise.all(Array.from({ length: WRITERS }, (_, w) => read('rq0', w * 2 * 16, BLOCK)));
    reads.forEach((r, w) => {
      expect(r.status).toBe(Status.STATUS_OK);
      expect(Buffer.from(r.data)).toEqual(fill(BLOCK, w + 1));
    });
    const faults = await injected('rq0', 'requeue');
    expect(faults).toBeGreaterThanOrEqual(WRITERS); // one of every two calls, for 200 writes and 100 reads
    expect((await metricSum(f, driver, 'rnull_requeues_total', { disk: 'rq0' })) - before).toBe(faults);
    expect(await eventually(async () => (await tagsHeld(f, 'rq0')) === 0)).toBe(true);
  }, 90_000);

  it('init_hctx: power on fails naming init_hctx, the disk stays off; a submit_queues increase fails and keeps the old count', async () => {
    const off = await failureCode(createDisk(f, 'ih0', { size: 16n, initHctx: '1,100,0,-1' }));
    expect(off.code).toBe(grpc.status.ABORTED);
    expect(off.details).toBe('init_hctx: injected fault: hctx 0 of disk "ih0" failed to initialise (EFAULT); power on refused');
    expect((await getDisk('ih0')).power).toBe(false);
    expect((await failureCode(unary(f.disks, 'powerDisk', { name: 'ih0', power: true }))).details).toMatch(/^init_hctx: /);

    await createDisk(f, 'ih1', { size: 16n, initHctx: '2,100,0,-1' }); // hctx 0 is the 1st call: passes
    const grow = await failureCode(configure('ih1', { submitQueues: 2 }));
    expect(grow.code).toBe(grpc.status.ABORTED);
    expect(grow.details).toMatch(/^init_hctx: injected fault: hctx 1 of disk "ih1" .*submit_queues change 1 -> 2 refused$/);
    const d = await getDisk('ih1');
    expect([d.power, d.attributes?.submitQueues]).toEqual([true, 1]);
    expect((await write('ih1', 0, fill(BLOCK, 9))).status).toBe(Status.STATUS_OK);
    expect(await injected('ih0', 'init_hctx', 'gendisk')).toBe(2);
    expect(await injected('ih1', 'init_hctx', 'gendisk')).toBe(1);

    const ctl = await rnullctl('disk', 'create', 'ih2', '--init_hctx', '1,100,0,1', '--power').catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect((ctl as { code: number }).code).not.toBe(0);
    expect((ctl as { stderr: string }).stderr).toMatch(/init_hctx: injected fault/);
    const show = await rnullctl('disk', 'show', 'ih2');
    expect(show.stdout).toMatch(/^init_hctx\s+1,100,0,1$/m);
    expect(show.stdout).toMatch(/^timeout\s+none$/m);
    expect((await rnullctl('disk', 'features')).stdout).toMatch(/^init_hctx$/m);
  });

  it('refuses bad values with an error naming the attribute; no change while powered', async () => {
    const bad = [
      [{ timeout: '1,101,0,-1' }, /^timeout: probability must be a percentage in 0\.\.100, got 101$/],
      [{ requeue: '0,100,0,-1' }, /^requeue: interval must be in 1\.\./],
      [{ initHctx: '1,100' }, /^init_hctx: must be "<interval>,<probability>,<space>,<times>"/],
    ] as const;
    for (const [attributes, message] of bad) {
      const e = await failureCode(createDisk(f, 'badf', { size: 16n, ...attributes }));
      expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.details).toMatch(message);
    }
    await createDisk(f, 'live0', { size: 16n });
    const busy = await failureCode(configure('live0', { requeue: '1,10,0,-1' }));
    expect(busy.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(busy.details).toBe('requeue: cannot change while the disk is powered on (EBUSY)');
    await unary(f.disks, 'powerDisk', { name: 'live0', power: false });
    expect((await configure('live0', { requeue: ' 1, 10,0,-1' })).attributes?.requeue).toBe('1,10,0,-1');
  });
});
