import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { addBlkReflection } from '#proto';
import {
  BlockDeviceClient,
  BlockDeviceServer,
  BlockDeviceService,
  Completion,
  Op,
  Status,
  Submission,
  SubmitBatch,
} from '#proto/grpc/blk/v1/block_device';
import { GenDiskService } from '#proto/grpc/blk/v1/gen_disk';

const root = path.resolve(__dirname, '../../..');

/** The reflection client is loaded from its .proto at run time: the shapes this test reads. */
type ReflectionPackage = { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
interface ReflectionAnswer {
  list_services_response: { service: { name: string }[] };
  file_descriptor_response: { file_descriptor_proto: Uint8Array[] };
}

describe('generated code', () => {
  it('matches proto/ (npm run proto has been run and committed)', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'tools/gen-proto.js'), '--check'], {
      encoding: 'utf8',
    });
    expect(out).toContain('matches');
  });

  it('carries a full 64-bit tag and sector through encode/decode', () => {
    const sub: Submission = {
      tag: 2n ** 64n - 1n,
      disk: 'rnullb0',
      op: Op.OP_WRITE,
      sector: 2n ** 40n + 7n,
      length: 4096,
      data: Buffer.alloc(4096, 0xab),
      flags: 1,
    };
    const back = SubmitBatch.decode(SubmitBatch.encode({ submissions: [sub, sub] }).finish());
    expect(back.submissions).toHaveLength(2);
    expect(back.submissions[0]).toEqual(sub);
  });
});

describe('server reflection', () => {
  let server: grpc.Server;
  let port: number;

  beforeAll(async () => {
    server = new grpc.Server();
    const impl: BlockDeviceServer = {
      submit: (call, cb) => cb(null, Completion.fromPartial({ tag: call.request.tag, status: Status.STATUS_OK })),
      submitStream: (call) => call.end(),
      reportZones: (_call, cb) => cb(null, { zones: [] }),
    };
    server.addService(BlockDeviceService, impl);
    addBlkReflection(server);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('lists both public services to a generic reflection client', async () => {
    const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const def = protoLoader.loadSync(reflectionProto, { keepCase: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as ReflectionPackage;
    const client = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = client.ServerReflectionInfo();
    const answers: ReflectionAnswer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (d: ReflectionAnswer) => answers.push(d));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    call.write({ file_containing_symbol: 'blk.v1.GenDisk' });
    call.end();
    await done;
    client.close();

    const names = answers[0].list_services_response.service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['blk.v1.BlockDevice', 'blk.v1.GenDisk']));
    const files = answers[1].file_descriptor_response.file_descriptor_proto;
    expect(files.length).toBeGreaterThan(0);
  });

  it('serves the generated service definition to the generated client', async () => {
    const client = new BlockDeviceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const c = await new Promise<Completion>((resolve, reject) =>
      client.submit(Submission.fromPartial({ tag: 42n, disk: 'd', op: Op.OP_READ, length: 512 }), (e, r) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    expect(c.tag).toBe(42n);
    expect(c.status).toBe(Status.STATUS_OK);
    expect(Object.keys(GenDiskService)).toEqual(
      expect.arrayContaining(['createDisk', 'getDisk', 'listDisks', 'configureDisk', 'powerDisk', 'deleteDisk', 'features']),
    );
  });
});
