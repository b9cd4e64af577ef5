// null_blk's cache_size against a real cluster (real processes, real Redis), with the
// driver inside dispatch and in its worker processes: a write no FLUSH covered is gone
// after a power cycle, a FLUSHed or FUA write survives it, reads see the cache before the
// write-back, and NBD offers FLUSH and FUA only when cache_size > 0 (nbdinfo --json).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Flag, Op, Status } from '#proto/grpc/blk/v1/block_device';
import type { Disk } from '#proto/grpc/blk/v1/gen_disk';
import { createDisk, failureCode, startCluster, submit, unary, type Fixture } from './support/cluster-fixture';

const run = promisify(execFile);
const BLOCK = 4096;
const fill = (bytes: number, byte: number) => Buffer.alloc(bytes, byte);

describe.each(['local', 'remote'] as const)('cache_size, driver placement %s', (placement) => {
  let f: Fixture;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: 'dispatch', rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  const write = (disk: string, sector: number, data: Buffer, flags = 0) =>
    submit(f, { disk, op: Op.OP_WRITE, sector: BigInt(sector), length: data.length, data, flags });
  const read = async (disk: string, sector: number, length: number) => {
    const c = await submit(f, { disk, op: Op.OP_READ, sector: BigInt(sector), length });
    expect(c.status).toBe(Status.STATUS_OK);
    return Buffer.from(c.data);
  };
  const flush = (disk: string) => submit(f, { disk, op: Op.OP_FLUSH });
  const powerCycle = async (disk: string) => {
    await unary(f.disks, 'powerDisk', { name: disk, power: false });
    await unary(f.disks, 'powerDisk', { name: disk, power: true });
  };

  it('loses a write no FLUSH covered at power off; reads saw it before', async () => {
    await createDisk(f, 'wc0', { size: 16n, memoryBacked: true, cacheSize: 1 });
    expect((await write('wc0', 0, fill(BLOCK, 1), Flag.FLAG_FUA)).status).toBe(Status.STATUS_OK);
    expect((await write('wc0', 0, fill(2 * BLOCK, 2))).status).toBe(Status.STATUS_OK);
    expect(await read('wc0', 0, 2 * BLOCK)).toEqual(fill(2 * BLOCK, 2));
    await powerCycle('wc0');
    expect(await read('wc0', 0, 2 * BLOCK)).toEqual(Buffer.concat([fill(BLOCK, 1), fill(BLOCK, 0)]));
  });

  it('keeps a FLUSHed write and a FUA write across a power cycle', async () => {
    await createDisk(f, 'wc1', { size: 16n, memoryBacked: true, cacheSize: 1 });
    expect((await write('wc1', 0, fill(BLOCK, 3))).status).toBe(Status.STATUS_OK);
    expect((await flush('wc1')).status).toBe(Status.STATUS_OK);
    expect((await write('wc1', 8, fill(BLOCK, 4), Flag.FLAG_FUA)).status).toBe(Status.STATUS_OK);
    expect((await write('wc1', 16, fill(BLOCK, 5))).status).toBe(Status.STATUS_OK);
    await powerCycle('wc1');
    expect(await read('wc1', 0, 3 * BLOCK)).toEqual(Buffer.concat([fill(BLOCK, 3), fill(BLOCK, 4), fill(BLOCK, 0)]));
  });

  it('writes pages back when the cache is full: 2 MiB through a 1 MiB cache, at least 1 MiB survives', async () => {
    await createDisk(f, 'wc2', { size: 16n, memoryBacked: true, cacheSize: 1 });
    const data = Buffer.from(Array.from({ length: 2 << 20 }, (_, i) => (i >> 12) & 0xff));
    for (let off = 0; off < data.length; off += 256 * 1024) {
      const c = await write('wc2', off / 512, data.subarray(off, off + 256 * 1024));
      expect(c.status).toBe(Status.STATUS_OK);
    }
    expect(await read('wc2', 0, data.length)).toEqual(data);
    await powerCycle('wc2');
    const after = await read('wc2', 0, data.length);
    let kept = 0;
    for (let p = 0; p < data.length / BLOCK; p++) {
      const page = after.subarray(p * BLOCK, (p + 1) * BLOCK);
      if (page.equals(data.subarray(p * BLOCK, (p + 1) * BLOCK))) kept++;
      else expect(page).toEqual(fill(BLOCK, 0)); // a page is written back whole or not at all
    }
    expect(kept).toBeGreaterThanOrEqual(256);
    expect(kept).toBeLessThan(512);
  });

  it('refuses a cache_size change while powered (EBUSY), as null_blk', async () => {
    await createDisk(f, 'wc3', { size: 16n, cacheSize: 0 });
    const e = await failureCode(unary<object, Disk>(f.disks, 'configureDisk', { name: 'wc3', attributes: { cacheSize: 4 } }));
    expect(e.details).toMatch(/^cache_size: cannot change while the disk is powered on/);
  });

  it('offers FLUSH and FUA over NBD only with cache_size > 0', async () => {
    await createDisk(f, 'wc4', { size: 16n, cacheSize: 0 });
    const { stdout } = await run('nbdinfo', ['--list', '--json', `nbd://${f.cluster.nbdAddress}`]);
    const byName = new Map((JSON.parse(stdout).exports as Array<Record<string, unknown>>).map((e) => [e['export-name'], e]));
    expect(byName.get('wc0')).toMatchObject({ can_flush: true, can_fua: true });
    expect(byName.get('wc4')).toMatchObject({ can_flush: false, can_fua: false });
  });
});
