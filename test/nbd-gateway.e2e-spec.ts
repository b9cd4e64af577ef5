// The NBD gateway with real NBD clients (nbdinfo, qemu-img, nbdcopy, fio's nbd engine) and
// with malformed frames from a raw socket, against a real cluster: served inside dispatch
// (NBD_IN_DISPATCH=1, the default) and by the separate nbd-gateway service.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { NbdCmd, NbdCmdFlag, NbdErrno, NbdOpt, NbdRep } from '#nbd';
import { RawNbdClient } from '../libs/nbd/src/testing/raw-nbd-client';
import { createDisk, eventually, onRedisCluster, startCluster, tagsHeld, unary, type Fixture } from './support/cluster-fixture';

const run = promisify(execFile);
const MiB = 1024 * 1024;

// Both ways the front end runs: inside dispatch (the default) and as its own service; and
// with the driver in its worker processes (the default) or inside dispatch (DRIVER_PLACEMENT).
describe.each([
  ['dispatch', 'remote'],
  ['service', 'remote'],
  ['dispatch', 'local'],
] as const)('NBD gateway (%s, driver placement %s) with real clients', (mode, placement) => {
  let f: Fixture;
  let host: string;
  let port: number;
  let uri: (disk: string) => string;
  let tmp: string;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: mode, env: { DRIVER_PLACEMENT: placement } });
    [host, port] = [f.cluster.nbdAddress!.split(':')[0], Number(f.cluster.nbdAddress!.split(':')[1])];
    uri = (disk) => `nbd://${host}:${port}/${disk}`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nbd-e2e-'));
    await createDisk(f, 'img0', { size: 32n, irqmode: 1, memoryBacked: true });
    await createDisk(f, 'cp0', { size: 16n, irqmode: 0, memoryBacked: true, discard: true, blocksize: 512 });
    await createDisk(f, 'off0', { size: 16n }, false);
    // Zoned: zone 0 (4 MiB) conventional, zones 1..3 sequential; discard is ignored in zoned mode.
    await createDisk(f, 'zn0', { size: 16n, zoned: true, zoneSize: 4, zoneNrConv: 1, discard: true, memoryBacked: true });
    for (const irq of [0, 1, 2])
      await createDisk(f, `fio${irq}`, { size: 64n, irqmode: irq, memoryBacked: true, completionNsec: 50_000n, hwQueueDepth: 64 });
  }, 120_000);

  afterAll(async () => {
    await f?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('nbdinfo --list shows every powered disk with its size and block size', async () => {
    const { stdout } = await run('nbdinfo', ['--list', '--json', `nbd://${host}:${port}`]);
    const exports = JSON.parse(stdout).exports as Array<Record<string, unknown>>;
    const byName = new Map(exports.map((e) => [e['export-name'] as string, e]));
    expect([...byName.keys()].sort()).toEqual(['cp0', 'fio0', 'fio1', 'fio2', 'img0', 'zn0']);
    expect(byName.get('img0')).toMatchObject({
      'export-size': 32 * MiB,
      block_size_minimum: 4096,
      block_size_preferred: 4096,
      // cache_size 0: no volatile write cache to offer FLUSH or FUA for (as null_blk) on one
      // Redis; on a Redis Cluster a FLUSH waits for replicas (REDIS_FLUSH_REPLICAS 1), so both are offered
      can_flush: onRedisCluster(),
      can_fua: onRedisCluster(),
      can_trim: false,
      can_zero: true,
      can_multi_conn: true,
    });
    expect(byName.get('cp0')).toMatchObject({ 'export-size': 16 * MiB, block_size_minimum: 512, can_trim: true });
    expect(byName.get('zn0')).toMatchObject({ 'export-size': 16 * MiB, can_trim: false }); // discard ignored in zoned mode
  });

  it('qemu-img convert into the export and back out; qemu-img compare says identical', async () => {
    const src = path.join(tmp, 'src.raw');
    const back = path.join(tmp, 'back.raw');
    fs.writeFileSync(src, randomBytes(32 * MiB));
    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, uri('img0')]);
    const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, uri('img0')]);
    expect(cmp.stdout).toMatch(/Images are identical/);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', uri('img0'), back]);
    expect(fs.readFileSync(back).equals(fs.readFileSync(src))).toBe(true);
  });

  it('nbdcopy into the export and back out gives the same bytes', async () => {
    const src = path.join(tmp, 'cp.raw');
    const back = path.join(tmp, 'cp-back.raw');
    fs.writeFileSync(src, randomBytes(16 * MiB));
    await run('nbdcopy', [src, uri('cp0')]);
    await run('nbdcopy', [uri('cp0'), back]);
    expect(fs.readFileSync(back).equals(fs.readFileSync(src))).toBe(true);
  });

  it.each([0, 1, 2])(
    'fio nbd engine, random writes then verify=crc32c at qd 32, irqmode %i: no verify errors',
    async (irq) => {
      const { stdout } = await run(
        'fio',
        [
          '--name=verify',
          '--ioengine=nbd',
          `--uri=${uri(`fio${irq}`)}`,
          '--rw=randwrite',
          '--bs=4k',
          '--iodepth=32',
          '--size=16M',
          '--verify=crc32c',
          '--do_verify=1',
          '--verify_fatal=1',
          '--verify_state_save=0',
          '--output-format=json',
        ],
        { timeout: 100_000, maxBuffer: 16 * MiB, cwd: tmp },
      );
      const job = JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0];
      expect(job.error).toBe(0);
      expect(job.write.total_ios).toBe(4096);
      // The verify pass reads back every block written.
      expect(job.read.total_ios).toBe(4096);
    },
    110_000,
  );

  describe('malformed frames from a raw socket', () => {
    const opened: RawNbdClient[] = [];
    const attach = async (disk: string, infos?: number[]) => {
      const c = await RawNbdClient.connect(port, host);
      opened.push(c);
      await c.handshake();
      await c.go(disk, infos);
      return c;
    };
    afterAll(() => opened.forEach((c) => c.destroy()));

    it('GO on a powered-off disk is NBD_REP_ERR_UNKNOWN naming it', async () => {
      const c = await RawNbdClient.connect(port, host);
      opened.push(c);
      await c.handshake();
      c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('off0', []));
      const r = await c.readOptionReply();
      expect(r.type).toBe(NbdRep.ERR_UNKNOWN);
      expect(r.data.toString()).toMatch(/off0/);
    });

    it('each bad request gets its errno; a wrong magic closes only that connection', async () => {
      const c = await attach('img0');
      c.send(77, 1n, 0n, 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 1n });
      c.send(NbdCmd.READ, 2n, BigInt(32 * MiB), 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 2n });
      c.send(NbdCmd.WRITE, 3n, BigInt(32 * MiB - 4096), 8192, { data: Buffer.alloc(8192) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.ENOSPC, cookie: 3n });
      c.send(NbdCmd.READ, 4n, 0n, 32 * MiB);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 4n });
      c.send(NbdCmd.TRIM, 5n, 0n, 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 5n });
      c.write(RawNbdClient.request(NbdCmd.READ, 6n, 0n, 4096, 0, 0x12345678));
      expect(await c.closedWithin(5000)).toBe(true);
      const d = await attach('img0');
      d.send(NbdCmd.READ, 7n, 0n, 4096);
      expect(await d.readSimpleReply()).toMatchObject({ errno: 0, cookie: 7n });
      expect((await d.read(4096)).length).toBe(4096);
    });

    it('a client that did not ask for block sizes: a misaligned 16 MiB READ, a 512-byte WRITE and a misaligned WRITE_ZEROES succeed', async () => {
      const agreed = await attach('img0');
      const data = randomBytes(16 * MiB + 8192);
      agreed.send(NbdCmd.WRITE, 1n, 0n, 16 * MiB, { data: data.subarray(0, 16 * MiB) });
      agreed.send(NbdCmd.WRITE, 2n, BigInt(16 * MiB), 8192, { data: data.subarray(16 * MiB) });
      for (let i = 0; i < 2; i++) expect((await agreed.readSimpleReply()).errno).toBe(0);
      const c = await attach('img0', []);
      // Widened to whole blocks this is 16 MiB + 4 KiB, past dispatch's largest submission:
      // it is read in two pieces, not refused with EIO.
      c.send(NbdCmd.READ, 3n, 1000n, 16 * MiB);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 3n });
      expect(Buffer.compare(await c.read(16 * MiB, 60_000), data.subarray(1000, 1000 + 16 * MiB))).toBe(0);
      // A sector inside a 4 KiB block: read-modify-write.
      const sector = Buffer.alloc(512, 0xab);
      c.send(NbdCmd.WRITE, 4n, 4096n + 512n, 512, { data: sector });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 4n });
      c.send(NbdCmd.READ, 5n, 4096n, 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 5n });
      const want = Buffer.from(data.subarray(4096, 8192));
      sector.copy(want, 512);
      expect(Buffer.compare(await c.read(4096), want)).toBe(0);
      // A misaligned WRITE_ZEROES zeroes exactly its bytes.
      c.send(NbdCmd.WRITE_ZEROES, 6n, 8192n + 100n, 9000);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 6n });
      c.send(NbdCmd.READ, 7n, 8192n, 12288);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 7n });
      const zeroed = Buffer.from(data.subarray(8192, 20480));
      zeroed.fill(0, 100, 9100);
      expect(Buffer.compare(await c.read(12288), zeroed)).toBe(0);
    }, 90_000);

    it('a zoned disk is served with its write rules: a write off the write pointer is EIO, no TRIM', async () => {
      const c = await attach('zn0');
      const zone1 = BigInt(4 * MiB);
      const [a, b] = [randomBytes(8192), randomBytes(4096)];
      c.send(NbdCmd.WRITE, 1n, zone1, a.length, { data: a });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 1n });
      c.send(NbdCmd.WRITE, 2n, zone1, b.length, { data: b }); // the write pointer moved on
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 2n });
      c.send(NbdCmd.WRITE, 3n, zone1 + 8192n, b.length, { data: b });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 3n });
      c.send(NbdCmd.WRITE, 4n, 8192n, b.length, { data: b }); // the conventional zone: anywhere
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 4n });
      c.send(NbdCmd.TRIM, 5n, 0n, 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 5n });
      c.send(NbdCmd.READ, 6n, zone1, 12288);
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 6n });
      expect(Buffer.compare(await c.read(12288), Buffer.concat([a, b]))).toBe(0);
    });

    it('TRIM past the end is EINVAL; a command flag the command does not take is EINVAL', async () => {
      const c = await attach('cp0');
      c.send(NbdCmd.TRIM, 1n, BigInt(16 * MiB), 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 1n });
      c.send(NbdCmd.FLUSH, 2n, 0n, 0, { flags: 1 << 9 });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 2n });
      c.send(NbdCmd.WRITE, 3n, 0n, 512, { flags: NbdCmdFlag.NO_HOLE, data: Buffer.alloc(512) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 3n });
      c.send(NbdCmd.WRITE_ZEROES, 4n, 0n, 512, { flags: NbdCmdFlag.NO_HOLE });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 4n });
    });

    it('a short write and clients vanishing mid-request leave no tag taken and the gateway serving', async () => {
      const short = await attach('fio2');
      short.write(Buffer.concat([RawNbdClient.request(NbdCmd.WRITE, 1n, 0n, 65536), Buffer.alloc(5000)]));
      await new Promise((r) => setTimeout(r, 100));
      short.destroy();
      for (let k = 0; k < 3; k++) {
        const c = await attach('fio2');
        for (let i = 0; i < 48; i++) c.send(NbdCmd.WRITE, BigInt(i), BigInt(i * 4096), 4096, { data: Buffer.alloc(4096, i) });
        for (let i = 48; i < 64; i++) c.send(NbdCmd.READ, BigInt(i), BigInt(i * 4096), 4096);
        await new Promise((r) => setTimeout(r, 5 + k * 20));
        c.destroy();
      }
      expect(await eventually(async () => (await tagsHeld(f, 'fio2')) === 0, 30_000)).toBe(true);
      const d = await attach('fio2');
      d.send(NbdCmd.FLUSH, 99n, 0n, 0);
      expect(await d.readSimpleReply()).toMatchObject({ errno: 0, cookie: 99n });
      expect(f.cluster.live(mode === 'service' ? 'nbd-gateway' : 'dispatch')).toHaveLength(1);
      const list = await unary<object, { disks: unknown[] }>(f.disks, 'listDisks', {});
      expect(list.disks.length).toBeGreaterThan(0);
    });
  });
});
