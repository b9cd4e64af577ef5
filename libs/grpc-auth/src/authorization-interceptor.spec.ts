// The authorization interceptor on a real grpc-js server (loopback, plaintext), serving
// blk.v1 from proto-loader's package definition as the services do, with handlers that
// record what reached them.
import * as grpc from '@grpc/grpc-js';
import { loadBlkPackageDefinition } from '#proto';
import { BlockDeviceClient, CompletionBatch, Op, Submission, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { GenDiskClient } from '#proto/grpc/blk/v1/gen_disk';
import { authorizationInterceptor } from './authorization-interceptor';
import { ClientSecurity } from './client-security';
import { TokenTable } from './token-table';

const TOKENS = 'reader-token:read,writer-token:write,admin-token:admin';

interface Wire {
  op: number;
  tag: string;
}

let server: grpc.Server;
let address: string;
/** Ops that reached a BlockDevice handler, and GenDisk methods that ran. */
const reached: string[] = [];

beforeAll(async () => {
  const pkg = grpc.loadPackageDefinition(loadBlkPackageDefinition()) as unknown as {
    blk: { v1: { BlockDevice: grpc.ServiceClientConstructor; GenDisk: grpc.ServiceClientConstructor } };
  };
  server = new grpc.Server({ interceptors: [authorizationInterceptor(TokenTable.parse(TOKENS, 'RNULL_AUTH_TOKENS'))] });
  server.addService(pkg.blk.v1.BlockDevice.service, {
    Submit: (call: grpc.ServerUnaryCall<Wire, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      reached.push(Op[call.request.op]);
      cb(null, { tag: call.request.tag, status: 0 });
    },
    SubmitStream: (call: grpc.ServerDuplexStream<{ submissions: Wire[] }, unknown>) => {
      call.on('data', (batch: { submissions: Wire[] }) => {
        reached.push(...batch.submissions.map((s) => Op[s.op]));
        call.write({ completions: batch.submissions.map((s) => ({ tag: s.tag, status: 0 })) });
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const disk = (name: string) => (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
    reached.push(name);
    cb(null, name === 'ListDisks' ? { disks: [] } : { name: 'd0' });
  };
  server.addService(pkg.blk.v1.GenDisk.service, { ListDisks: disk('ListDisks'), CreateDisk: disk('CreateDisk'), GetDisk: disk('GetDisk') });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());
beforeEach(() => (reached.length = 0));

function clients(token?: string) {
  const security = ClientSecurity.of({ token });
  return {
    io: new BlockDeviceClient(address, security.credentials, security.channelOptions()),
    disks: new GenDiskClient(address, security.credentials, security.channelOptions()),
  };
}

const code = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: grpc.ServiceError) => grpc.status[e.code],
  );

const submit = (io: BlockDeviceClient, op: Op) =>
  new Promise((resolve, reject) =>
    io.submit(Submission.fromPartial({ tag: 1n, disk: 'd0', op, length: 4096 }), (e, r) => (e ? reject(e) : resolve(r))),
  );
const listDisks = (disks: GenDiskClient) => new Promise((resolve, reject) => disks.listDisks({}, (e, r) => (e ? reject(e) : resolve(r))));
const createDisk = (disks: GenDiskClient) =>
  new Promise((resolve, reject) => disks.createDisk({ name: 'd0', power: false }, (e, r) => (e ? reject(e) : resolve(r))));

it('UNAUTHENTICATED without a token or with an unknown one; no handler runs', async () => {
  for (const token of [undefined, 'guess']) {
    const c = clients(token);
    expect([await code(listDisks(c.disks)), await code(submit(c.io, Op.OP_READ))]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
  }
  expect(reached).toEqual([]);
});

it('a read token reads and lists; a write or a create is PERMISSION_DENIED before the handler', async () => {
  const c = clients('reader-token');
  expect(await code(listDisks(c.disks))).toBe('OK');
  expect(await code(submit(c.io, Op.OP_READ))).toBe('OK');
  expect(await code(submit(c.io, Op.OP_WRITE))).toBe('PERMISSION_DENIED');
  expect(await code(submit(c.io, Op.OP_FLUSH))).toBe('PERMISSION_DENIED');
  expect(await code(createDisk(c.disks))).toBe('PERMISSION_DENIED');
  expect(reached).toEqual(['ListDisks', 'OP_READ']);
});

it('a write token does any IO but no create; an admin token does everything', async () => {
  const w = clients('writer-token');
  expect([await code(submit(w.io, Op.OP_WRITE)), await code(createDisk(w.disks))]).toEqual(['OK', 'PERMISSION_DENIED']);
  const a = clients('admin-token');
  expect([await code(submit(a.io, Op.OP_DISCARD)), await code(createDisk(a.disks))]).toEqual(['OK', 'OK']);
  expect(reached).toEqual(['OP_WRITE', 'OP_DISCARD', 'CreateDisk']);
});

it('the metadata a status carries never holds the token', async () => {
  const c = clients('reader-token');
  const err = await createDisk(c.disks).catch((e: grpc.ServiceError) => e);
  expect((err as grpc.ServiceError).details).toBe('/blk.v1.GenDisk/CreateDisk needs role admin; the token has role read');
  expect(JSON.stringify(err)).not.toContain('reader-token');
});

it('SubmitStream checks each message: a read token streams READs, and the first WRITE ends the stream PERMISSION_DENIED', async () => {
  const c = clients('reader-token');
  const stream = c.io.submitStream();
  const completions: string[] = [];
  const ended = new Promise<string>((resolve) => {
    stream.on('data', (b: CompletionBatch) => {
      completions.push(...b.completions.map((x) => String(x.tag)));
      if (completions.length === 2)
        stream.write(
          SubmitBatch.fromPartial({
            submissions: [
              { tag: 3n, op: Op.OP_READ },
              { tag: 4n, op: Op.OP_WRITE },
            ],
          }),
        );
    });
    stream.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code]));
    stream.on('end', () => resolve('OK'));
  });
  stream.write(
    SubmitBatch.fromPartial({
      submissions: [
        { tag: 1n, op: Op.OP_READ },
        { tag: 2n, op: Op.OP_READ },
      ],
    }),
  );
  expect(await ended).toBe('PERMISSION_DENIED');
  expect(completions).toEqual(['1', '2']);
  expect(reached).toEqual(['OP_READ', 'OP_READ']);
});

it('SubmitStream with a write token carries writes and reads to the end', async () => {
  const c = clients('writer-token');
  const stream = c.io.submitStream();
  const done = new Promise<number>((resolve, reject) => {
    let n = 0;
    stream.on('data', (b: CompletionBatch) => (n += b.completions.length));
    stream.on('error', reject);
    stream.on('end', () => resolve(n));
  });
  stream.write(
    SubmitBatch.fromPartial({
      submissions: [
        { tag: 1n, op: Op.OP_WRITE },
        { tag: 2n, op: Op.OP_READ },
      ],
    }),
  );
  stream.end();
  expect(await done).toBe(2);
});
