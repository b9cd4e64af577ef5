// The gRPC front end's limits against a real cluster (issue 15 part 4, README "Limits"):
// dispatch started with small GRPC_MAX_MESSAGE_BYTES, GRPC_MAX_CONCURRENT_STREAMS and
// GRPC_MAX_CONNECTIONS refuses a message over the size with RESOURCE_EXHAUSTED, tells every
// connection its stream limit in HTTP/2's SETTINGS, and closes a connection past the limit
// (UNAVAILABLE) while the ones it holds keep working; one is taken again once one closes.
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { BlockDeviceClient, Submission } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, failureCode, type Fixture, startCluster, submit } from './support/cluster-fixture';

const MAX_MESSAGE = 1024 * 1024;
const MAX_STREAMS = 3;
/** The fixture's own connection and two of the test's. */
const MAX_CONNECTIONS = 3;

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({
    serviceEnv: (service) =>
      service === 'dispatch'
        ? {
            GRPC_MAX_MESSAGE_BYTES: String(MAX_MESSAGE),
            GRPC_MAX_CONCURRENT_STREAMS: String(MAX_STREAMS),
            GRPC_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
          }
        : {},
  });
  await createDisk(f, 'lim0', { size: 16n });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

it('refuses a request message over GRPC_MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED, and takes one under it', async () => {
  const small = Buffer.alloc(512 * 1024, 1);
  expect((await submit(f, { disk: 'lim0', op: Op.OP_WRITE, length: small.length, data: small })).status).toBe(Status.STATUS_OK);
  const big = Buffer.alloc(2 * MAX_MESSAGE, 2);
  const refused = await failureCode(submit(f, { disk: 'lim0', op: Op.OP_WRITE, length: big.length, data: big }));
  expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(refused.details).toMatch(/larger than max/i);
  // The refused write changed nothing: the first 512 KiB still read back as written.
  const read = await submit(f, { disk: 'lim0', op: Op.OP_READ, length: small.length });
  expect(Buffer.from(read.data).equals(small)).toBe(true);
});

it('tells every connection GRPC_MAX_CONCURRENT_STREAMS in its HTTP/2 SETTINGS', async () => {
  const session = http2.connect(`http://${f.cluster.dispatchAddress}`);
  session.on('error', () => undefined);
  try {
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    expect(settings.maxConcurrentStreams).toBe(MAX_STREAMS);
  } finally {
    session.destroy();
  }
});

describe('GRPC_MAX_CONNECTIONS', () => {
  const clients: BlockDeviceClient[] = [];
  /** A client on a connection of its own (no subchannel shared with another client). */
  const ownConnection = () => {
    const c = new BlockDeviceClient(f.cluster.dispatchAddress, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
    });
    clients.push(c);
    return c;
  };
  const read = (c: BlockDeviceClient) =>
    new Promise<{ code: number; status?: number }>((resolve) =>
      c.submit(
        Submission.fromPartial({ disk: 'lim0', op: Op.OP_READ, length: 4096 }),
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (err, r) => resolve(err ? { code: err.code } : { code: grpc.status.OK, status: r.status }),
      ),
    );
  afterAll(() => clients.forEach((c) => c.close()));

  it('closes a connection past the limit (UNAVAILABLE) while those it holds keep working, and takes one again once one closes', async () => {
    // The fixture's connection is the first; two more fill the limit.
    expect((await submit(f, { disk: 'lim0', op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
    const second = ownConnection();
    const third = ownConnection();
    expect(await read(second)).toEqual({ code: grpc.status.OK, status: Status.STATUS_OK });
    expect(await read(third)).toEqual({ code: grpc.status.OK, status: Status.STATUS_OK });
    const fourth = ownConnection();
    expect((await read(fourth)).code).toBe(grpc.status.UNAVAILABLE);
    expect(await read(second)).toEqual({ code: grpc.status.OK, status: Status.STATUS_OK });
    expect(f.lines().some((l) => /\[dispatch\].*closed: GRPC_MAX_CONNECTIONS=3 are open/.test(l))).toBe(true);
    // One closes: the next connection is taken (once the server has seen the close).
    third.close();
    const fifth = ownConnection();
    expect(await eventually(async () => (await read(fifth)).code === grpc.status.OK, 20_000, 200)).toBe(true);
  });
});
