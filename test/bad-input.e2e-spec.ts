// Bad input gets a clear gRPC status naming the problem, and no service goes down.
import * as net from 'node:net';
import { status as Code } from '@grpc/grpc-js';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, failureCode, type Fixture, startCluster, streamAll, submit, unary } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster();
  await createDisk(f, 'bad0', { size: 4n, blocksize: 4096 });
  await createDisk(f, 'off0', { size: 4n }, false);
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

const capacity = 4n * 2048n;
const block = Buffer.alloc(4096, 1);

describe('BlockDevice.Submit', () => {
  it.each([
    ['unknown disk', { disk: 'nope', op: Op.OP_READ, length: 4096 }, Code.NOT_FOUND, /nope/],
    ['no disk', { disk: '', op: Op.OP_READ, length: 4096 }, Code.INVALID_ARGUMENT, /disk/],
    ['powered off', { disk: 'off0', op: Op.OP_READ, length: 4096 }, Code.UNAVAILABLE, /powered off/],
    ['sector past capacity', { disk: 'bad0', op: Op.OP_READ, sector: capacity, length: 4096 }, Code.OUT_OF_RANGE, /sector/],
    ['range running past capacity', { disk: 'bad0', op: Op.OP_READ, sector: capacity - 8n, length: 8192 }, Code.OUT_OF_RANGE, /sector/],
    ['sector not block aligned', { disk: 'bad0', op: Op.OP_READ, sector: 1n, length: 4096 }, Code.INVALID_ARGUMENT, /sector/],
    ['length not a block multiple', { disk: 'bad0', op: Op.OP_READ, length: 1000 }, Code.INVALID_ARGUMENT, /length/],
    ['zero length', { disk: 'bad0', op: Op.OP_READ, length: 0 }, Code.INVALID_ARGUMENT, /length/],
    ['length over the limit', { disk: 'bad0', op: Op.OP_READ, length: 64 * 1024 * 1024 }, Code.INVALID_ARGUMENT, /length/],
    ['write data shorter than length', { disk: 'bad0', op: Op.OP_WRITE, length: 8192, data: block }, Code.INVALID_ARGUMENT, /data/],
    ['data on a read', { disk: 'bad0', op: Op.OP_READ, length: 4096, data: block }, Code.INVALID_ARGUMENT, /data/],
    ['unknown op', { disk: 'bad0', op: 42 as Op, length: 4096 }, Code.INVALID_ARGUMENT, /op/],
    ['unknown flags', { disk: 'bad0', op: Op.OP_READ, length: 4096, flags: 64 }, Code.INVALID_ARGUMENT, /flags/],
    [
      'sector past 2^53',
      { disk: 'bad0', op: Op.OP_READ, sector: 2n ** 60n, length: 4096 },
      Code.INVALID_ARGUMENT,
      /^sector: 1152921504606846976 is over the largest value taken, 2\^53 - 1 \(9007199254740991\)$/,
    ],
    [
      'a 10 KB disk name (the message is cut, not echoed whole)',
      { disk: 'n'.repeat(10_000), op: Op.OP_READ, length: 4096 },
      Code.NOT_FOUND,
      /^disk "n{300,}…\[\d+ characters cut\]…n+" does not exist$/,
    ],
  ])('%s', async (_name, sub, code, message) => {
    const e = await failureCode(submit(f, sub));
    expect(e.code).toBe(code);
    expect(e.details).toMatch(message);
  });

  it('still serves IO after all of that', async () => {
    expect((await submit(f, { disk: 'bad0', op: Op.OP_WRITE, length: 4096, data: block })).status).toBe(Status.STATUS_OK);
  });
});

describe('BlockDevice.SubmitStream', () => {
  it('answers each bad submission with IOERR and a message, and serves the good ones', async () => {
    const got = await streamAll(f, [
      { tag: 1n, disk: 'nope', op: Op.OP_READ, sector: 0n, length: 4096, data: Buffer.alloc(0), flags: 0 },
      { tag: 2n, disk: 'bad0', op: Op.OP_READ, sector: capacity, length: 4096, data: Buffer.alloc(0), flags: 0 },
      { tag: 3n, disk: 'bad0', op: Op.OP_READ, sector: 0n, length: 4096, data: Buffer.alloc(0), flags: 0 },
      { tag: 2n ** 64n - 1n, disk: 'bad0', op: Op.OP_READ, sector: 0n, length: 4096, data: Buffer.alloc(0), flags: 0 },
    ]);
    expect(got.get(1n)).toMatchObject({ status: Status.STATUS_IOERR, message: expect.stringMatching(/nope/) });
    expect(got.get(2n)).toMatchObject({ status: Status.STATUS_IOERR, message: expect.stringMatching(/sector/) });
    expect(got.get(3n)!.status).toBe(Status.STATUS_OK);
    expect(got.get(2n ** 64n - 1n)!.status).toBe(Status.STATUS_OK);
  });

  it('refuses DISCARD with NOTSUPP where discard=0', async () => {
    const got = await streamAll(f, [
      { tag: 9n, disk: 'bad0', op: Op.OP_DISCARD, sector: 0n, length: 4096, data: Buffer.alloc(0), flags: 0 },
    ]);
    expect(got.get(9n)!.status).toBe(Status.STATUS_NOTSUPP);
  });
});

describe('GenDisk', () => {
  it.each([
    ['name too long', { name: 'x'.repeat(32) }, Code.INVALID_ARGUMENT, /name/],
    ['bad block size', { name: 'bs', attributes: { blocksize: 1000 } }, Code.INVALID_ARGUMENT, /blocksize/],
    ['zero size', { name: 'zs', attributes: { size: 0n } }, Code.INVALID_ARGUMENT, /size/],
    ['bad irqmode', { name: 'irq', attributes: { irqmode: 7 } }, Code.INVALID_ARGUMENT, /irqmode/],
    ['zero queue depth', { name: 'qd', attributes: { hwQueueDepth: 0 } }, Code.INVALID_ARGUMENT, /hw_queue_depth/],
    ['bad recycle mode', { name: 'rc', attributes: { recycle: 'sometimes' } }, Code.INVALID_ARGUMENT, /recycle/],
    ['existing name', { name: 'bad0' }, Code.ALREADY_EXISTS, /bad0/],
    [
      'size past 2^53',
      { name: 'huge', attributes: { size: 2n ** 64n - 1n } },
      Code.INVALID_ARGUMENT,
      /^size: 18446744073709551615 is over the largest value taken, 2\^53 - 1 \(9007199254740991\)$/,
    ],
    [
      'completion_nsec past 2^53',
      { name: 'late', attributes: { completionNsec: 2n ** 53n } },
      Code.INVALID_ARGUMENT,
      /^completion_nsec: 9007199254740992 is over the largest value taken, 2\^53 - 1/,
    ],
    [
      'a 10 KB recycle mode (the message is cut, not echoed whole)',
      { name: 'rc', attributes: { recycle: 'y'.repeat(10_000) } },
      Code.INVALID_ARGUMENT,
      /^recycle: must be "on-drop" or "inline", got "y{300,}…\[\d+ characters cut\]…y+"$/,
    ],
  ])('create: %s', async (_n, req, code, message) => {
    const e = await failureCode(unary(f.disks, 'createDisk', req));
    expect(e.code).toBe(code);
    expect(e.details).toMatch(message);
  });

  it('refuses attribute changes while powered (EBUSY) but allows submit_queues', async () => {
    const e = await failureCode(unary(f.disks, 'configureDisk', { name: 'bad0', attributes: { blocksize: 512 } }));
    expect(e.code).toBe(Code.FAILED_PRECONDITION);
    expect(e.details).toMatch(/blocksize.*powered/);
    const d = await unary<unknown, { attributes: { submitQueues: number } }>(f.disks, 'configureDisk', {
      name: 'bad0',
      attributes: { submitQueues: 3 },
    });
    expect(d.attributes.submitQueues).toBe(3);
    expect((await submit(f, { disk: 'bad0', op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
  });

  it('answers NOT_FOUND for unknown disks; deleting a powered disk powers it off and removes it (rmdir)', async () => {
    expect((await failureCode(unary(f.disks, 'getDisk', { name: 'nope' }))).code).toBe(Code.NOT_FOUND);
    expect((await failureCode(unary(f.disks, 'deleteDisk', { name: 'nope' }))).code).toBe(Code.NOT_FOUND);
    await createDisk(f, 'del0', { size: 4n });
    expect((await submit(f, { disk: 'del0', op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
    await unary(f.disks, 'deleteDisk', { name: 'del0' });
    expect((await failureCode(unary(f.disks, 'getDisk', { name: 'del0' }))).code).toBe(Code.NOT_FOUND);
    const gone = () =>
      failureCode(submit(f, { disk: 'del0', op: Op.OP_READ, length: 4096 })).then(
        (e) => e.code === Code.NOT_FOUND,
        () => false,
      );
    expect(await eventually(gone, 5000)).toBe(true); // dispatch follows the registry's events
  });

  it('kept every service up', async () => {
    for (const p of f.cluster.processes) expect(p.child.exitCode).toBeNull();
  });
});

describe('HTTP/2 protocol errors', () => {
  it('a connection the server sent GOAWAY to is closed, though Node stops reading it (keepalive ping)', async () => {
    const [host, port] = f.cluster.dispatchAddress.split(':');
    const socket = net.connect(Number(port), host);
    socket.on('error', () => undefined);
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // The client preface, empty SETTINGS, then a DATA frame on stream 0: a connection error
    // (RFC 9113 6.1), which the server answers with GOAWAY PROTOCOL_ERROR.
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const dataOnStream0 = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41]);
    socket.write(Buffer.concat([preface, settings, dataOnStream0]));
    expect(await eventually(async () => frameTypes(got).includes(GOAWAY), 5000)).toBe(true);
    const fin = Date.now();
    socket.end();
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 30_000))]);
    expect(at).toBeGreaterThan(0);
    expect(at - fin).toBeLessThan(22_000); // GRPC_KEEPALIVE_TIME_MS + GRPC_KEEPALIVE_TIMEOUT_MS, and a margin
    expect(f.cluster.live('dispatch')[0].child.exitCode).toBeNull();
  }, 40_000);
});

const GOAWAY = 7;

/** The types of the HTTP/2 frames in `b` (9-byte headers: 24-bit length, type, flags, stream). */
function frameTypes(b: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= b.length; at += 9 + b.readUIntBE(at, 3)) types.push(b[at + 3]);
  return types;
}
