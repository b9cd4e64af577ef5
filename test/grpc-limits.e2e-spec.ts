// The gRPC front end's limits against a real cluster (issue 15 part 4, README "Limits"):
// dispatch started with small GRPC_MAX_MESSAGE_BYTES, GRPC_MAX_CONCURRENT_STREAMS and
// GRPC_MAX_CONNECTIONS refuses a message over the size with RESOURCE_EXHAUSTED, tells every
// connection its stream limit in HTTP/2's SETTINGS, and closes a connection past the limit
// (UNAVAILABLE) while the ones it holds keep working; one is taken again once one closes;
// and holds one client's submissions in flight, over all its calls, to GRPC_MAX_INFLIGHT_PER_CLIENT.
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { BlockDeviceClient, Submission } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, failureCode, type Fixture, startCluster, streamAll, submit } from './support/cluster-fixture';

const MAX_MESSAGE = 1024 * 1024;
const MAX_STREAMS = 3;
/** The fixture's own connection and two of the test's. */
const MAX_CONNECTIONS = 3;
const MAX_INFLIGHT = 8;

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({
    serviceEnv: (service): Record<string, string> =>
      service === 'dispatch'
        ? {
            GRPC_MAX_MESSAGE_BYTES: String(MAX_MESSAGE),
            GRPC_MAX_CONCURRENT_STREAMS: String(MAX_STREAMS),
            GRPC_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
            GRPC_MAX_INFLIGHT_PER_CLIENT: String(MAX_INFLIGHT),
          }
        : {},
  });
  await createDisk(f, 'lim0', { size: 16n });
  // Every IO of `slow0` is in flight for 1 s (timer completion), so a client can fill its budget.
  await createDisk(f, 'slow0', { size: 16n, irqmode: 2, completionNsec: 1_000_000_000n, hwQueueDepth: 64 });
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

it('holds a client to GRPC_MAX_INFLIGHT_PER_CLIENT over all its calls: streams wait for room, a unary Submit without room is RESOURCE_EXHAUSTED', async () => {
  // Two streams of the same client (the same address, no token) submit 2 x MAX_INFLIGHT reads at once.
  const perStream = MAX_INFLIGHT;
  const subs = (from: number) =>
    Array.from({ length: perStream }, (_, i) =>
      Submission.fromPartial({ tag: BigInt(from + i), disk: 'slow0', op: Op.OP_READ, length: 4096 }),
    );
  const streams = [streamAll(f, subs(0), perStream), streamAll(f, subs(1000), perStream)];
  // While they hold the budget, a unary Submit of that client is refused naming the setting
  // (tried until it lands while the budget is full: one that got in just waits its 1 s).
  let refused: { code: number; details: string } | undefined;
  expect(
    await eventually(
      async () => {
        const r = await submit(f, { disk: 'slow0', op: Op.OP_READ, length: 4096 }).then(
          () => undefined,
          (e: grpc.ServiceError) => ({ code: e.code, details: e.details }),
        );
        refused = r;
        return r !== undefined;
      },
      20_000,
      0,
    ),
  ).toBe(true);
  expect(refused?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  expect(refused?.details).toMatch(new RegExp(`GRPC_MAX_INFLIGHT_PER_CLIENT=${MAX_INFLIGHT}`));
  // The streams were held back, not failed: every read of both ends OK.
  const done = await Promise.all(streams);
  expect(done.map((m) => [...m.values()].filter((c) => c.status === Status.STATUS_OK).length)).toEqual([perStream, perStream]);
}, 60_000);

describe('GRPC_MAX_CONNECTIONS', () => {
  const sessions: http2.ClientHttp2Session[] = [];
  /**
   * A raw HTTP/2 connection to dispatch: resolves true once the server sends its SETTINGS
   * (it took the connection), false when the connection closes first (it was refused).
   */
  const connect = () =>
    new Promise<{ taken: boolean; session: http2.ClientHttp2Session }>((resolve) => {
      const session = http2.connect(`http://${f.cluster.dispatchAddress}`);
      sessions.push(session);
      session.on('error', () => undefined);
      session.once('remoteSettings', () => resolve({ taken: true, session }));
      session.once('close', () => resolve({ taken: false, session }));
    });
  afterAll(() => sessions.forEach((x) => x.destroy()));

  it('closes a connection past the limit while those it holds keep working (a gRPC client sees UNAVAILABLE), and takes one again once one closes', async () => {
    // The fixture's connection is the first; two more fill the limit.
    expect((await submit(f, { disk: 'lim0', op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
    const second = await connect();
    const third = await connect();
    expect([second.taken, third.taken]).toEqual([true, true]);
    expect((await connect()).taken).toBe(false);
    const client = new BlockDeviceClient(f.cluster.dispatchAddress, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    try {
      const code = await new Promise<number>((resolve) =>
        client.submit(
          Submission.fromPartial({ disk: 'lim0', op: Op.OP_READ, length: 4096 }),
          new grpc.Metadata(),
          { deadline: Date.now() + 10_000 },
          (err) => resolve(err ? err.code : grpc.status.OK),
        ),
      );
      expect(code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      client.close();
    }
    expect((await submit(f, { disk: 'lim0', op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
    expect(f.lines().some((l) => /\[dispatch\].*closed: GRPC_MAX_CONNECTIONS=3 are open/.test(l))).toBe(true);
    // One closes: the next connection is taken (once the server has seen the close).
    third.session.destroy();
    expect(await eventually(async () => (await connect()).taken, 20_000, 100)).toBe(true);
  });
});
