// gRPC TLS and tokens on a real cluster (README "Security"): every service started with
// GRPC_TLS_CERTIFICATES (a throwaway CA, server and client certificate made by openssl:
// mutual TLS) and RNULL_AUTH_TOKENS with a read, a write and an admin token. Real grpc-js
// clients and the real rnullctl; services started with bad settings must not start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClientSecurity } from '#grpc-auth';
import { BlockDeviceClient, type Completion, CompletionBatch, Op, Status, Submission, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { type Disk, GenDiskClient, type ListDisksResponse } from '#proto/grpc/blk/v1/gen_disk';
import { ServiceProcess } from '../tools/cluster/service-process';
import { eventually, type Fixture, startCluster, unary } from './support/cluster-fixture';
import { copyWithout, makeTestCertificates, type TestCertificates } from '../libs/nbd/src/testing/tls-certificates';

const ROOT = path.resolve(__dirname, '..');
const nonce = randomBytes(8).toString('hex');
const TOKEN = { read: `reader-${nonce}`, write: `writer-${nonce}`, admin: `admin-${nonce}` };
const DISK = `auth${nonce.slice(0, 6)}`;

let certs: TestCertificates;
let f: Fixture;
const opened: grpc.Client[] = [];

beforeAll(async () => {
  certs = makeTestCertificates();
  f = await startCluster({
    env: {
      GRPC_TLS_CERTIFICATES: certs.dir,
      RNULL_AUTH_TOKENS: `${TOKEN.read}:read,${TOKEN.write}:write,${TOKEN.admin}:admin`,
      RNULL_TOKEN: TOKEN.admin,
    },
  });
}, 120_000);

afterAll(async () => {
  for (const c of opened) c.close();
  await f?.stop();
  certs?.remove();
});

/** Clients of `address` (dispatch's by default) over mutual TLS with `token`, or as `security` says. */
function clientsOf(security: ClientSecurity, address = f.cluster.dispatchAddress) {
  const options = security.channelOptions({ 'grpc.max_receive_message_length': -1 });
  const io = new BlockDeviceClient(address, security.credentials, options);
  const disks = new GenDiskClient(address, security.credentials, options);
  opened.push(io, disks);
  return { io, disks };
}
const mtls = (token?: string) => clientsOf(ClientSecurity.of({ tls: { dir: certs.dir, setting: 'test' }, token }));

/** The status name a call ended with ('OK' when it succeeded). */
const statusOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: grpc.ServiceError) => grpc.status[e.code] ?? String(e.code),
  );

const listDisks = (disks: GenDiskClient) => unary<object, ListDisksResponse>(disks, 'listDisks', {});
const submit = (io: BlockDeviceClient, s: Partial<Submission>) =>
  unary<Submission, Completion>(io, 'submit', Submission.fromPartial({ disk: DISK, ...s }));
const BLOCK = Buffer.alloc(4096, 0x5a);

/** Runs one SubmitStream message and says how the stream ended. */
function streamOnce(io: BlockDeviceClient, submissions: Partial<Submission>[]): Promise<string> {
  return new Promise((resolve) => {
    const call = io.submitStream();
    let seen = 0;
    call.on('data', (b: CompletionBatch) => {
      seen += b.completions.length;
      if (seen === submissions.length) call.end();
    });
    call.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code]));
    call.on('end', () => resolve('OK'));
    call.write(SubmitBatch.fromPartial({ submissions: submissions.map((s, i) => ({ disk: DISK, tag: BigInt(i + 1), ...s })) }));
  });
}

describe('TLS (GRPC_TLS_CERTIFICATES with ca-cert.pem: mutual TLS)', () => {
  it('refuses a plaintext client and a TLS client without a client certificate', async () => {
    const plaintext = clientsOf(ClientSecurity.of({ token: TOKEN.admin }));
    expect(await statusOf(listDisks(plaintext.disks))).toBe('UNAVAILABLE');
    const serverOnly = copyWithout(copyWithout(certs.dir, 'client-key.pem'), 'client-cert.pem');
    const noClientCert = clientsOf(ClientSecurity.of({ tls: { dir: serverOnly, setting: 'test' }, token: TOKEN.admin }));
    expect(await statusOf(listDisks(noClientCert.disks))).toBe('UNAVAILABLE');
  });

  it('serves a client with the CA and a client certificate, on dispatch and on gendisk', async () => {
    expect(await statusOf(listDisks(mtls(TOKEN.read).disks))).toBe('OK');
    const gendisk = f.cluster.processes.find((p) => p.spec.service === 'gendisk')!;
    const direct = clientsOf(
      ClientSecurity.of({ tls: { dir: certs.dir, setting: 'test' }, token: TOKEN.read }),
      (await gendisk.ready).grpc!,
    );
    expect(await statusOf(listDisks(direct.disks))).toBe('OK');
  });
});

describe('tokens (RNULL_AUTH_TOKENS)', () => {
  beforeAll(async () => {
    await unary<object, Disk>(mtls(TOKEN.admin).disks, 'createDisk', { name: DISK, attributes: { size: 16n }, power: true });
  });

  it('UNAUTHENTICATED without a token or with an unknown one, on dispatch and on gendisk', async () => {
    const gendisk = (await f.cluster.processes.find((p) => p.spec.service === 'gendisk')!.ready).grpc!;
    for (const token of [undefined, `guess-${nonce}`]) {
      const c = mtls(token);
      expect(await statusOf(listDisks(c.disks))).toBe('UNAUTHENTICATED');
      expect(await statusOf(submit(c.io, { op: Op.OP_READ, length: 4096 }))).toBe('UNAUTHENTICATED');
      const direct = clientsOf(ClientSecurity.of({ tls: { dir: certs.dir, setting: 'test' }, token }), gendisk);
      expect(await statusOf(listDisks(direct.disks))).toBe('UNAUTHENTICATED');
    }
  });

  it('a read token lists, shows and reads; a write, a stream write and a create are PERMISSION_DENIED', async () => {
    const c = mtls(TOKEN.read);
    expect(await statusOf(listDisks(c.disks))).toBe('OK');
    expect(await statusOf(unary(c.disks, 'getDisk', { name: DISK }))).toBe('OK');
    expect((await submit(c.io, { op: Op.OP_READ, length: 4096 })).status).toBe(Status.STATUS_OK);
    expect(await statusOf(submit(c.io, { op: Op.OP_WRITE, length: 4096, data: BLOCK }))).toBe('PERMISSION_DENIED');
    expect(await streamOnce(c.io, [{ op: Op.OP_READ, length: 4096 }])).toBe('OK');
    expect(
      await streamOnce(c.io, [
        { op: Op.OP_READ, length: 4096 },
        { op: Op.OP_WRITE, length: 4096, data: BLOCK },
      ]),
    ).toBe('PERMISSION_DENIED');
    expect(await statusOf(unary(c.disks, 'createDisk', { name: `${DISK}x`, power: false }))).toBe('PERMISSION_DENIED');
    expect(await statusOf(unary(c.disks, 'powerDisk', { name: DISK, power: false }))).toBe('PERMISSION_DENIED');
  });

  it('a write token writes (unary and stream) and is refused a create; the read token reads it back', async () => {
    const w = mtls(TOKEN.write);
    expect((await submit(w.io, { op: Op.OP_WRITE, sector: 8n, length: 4096, data: BLOCK })).status).toBe(Status.STATUS_OK);
    expect(await streamOnce(w.io, [{ op: Op.OP_WRITE, sector: 16n, length: 4096, data: BLOCK }, { op: Op.OP_FLUSH }])).toBe('OK');
    expect(await statusOf(unary(w.disks, 'createDisk', { name: `${DISK}x`, power: false }))).toBe('PERMISSION_DENIED');
    const r = mtls(TOKEN.read);
    for (const sector of [8n, 16n]) expect(Buffer.from((await submit(r.io, { op: Op.OP_READ, sector, length: 4096 })).data)).toEqual(BLOCK);
  });

  it('an admin token creates, configures, powers and deletes (dispatch forwards its token to gendisk)', async () => {
    const a = mtls(TOKEN.admin);
    const name = `${DISK}a`;
    expect(await statusOf(unary(a.disks, 'createDisk', { name, attributes: { size: 16n }, power: false }))).toBe('OK');
    expect(await statusOf(unary(a.disks, 'configureDisk', { name, attributes: { irqmode: 1 } }))).toBe('OK');
    expect(await statusOf(unary(a.disks, 'powerDisk', { name, power: true }))).toBe('OK');
    expect(await statusOf(unary(a.disks, 'deleteDisk', { name }))).toBe('OK');
  });
});

describe("a service's own calls (RNULL_TOKEN)", () => {
  it('a badblocks_once hit reaches gendisk: the driver (rnull, remote placement) clears the range with its token over TLS', async () => {
    const a = mtls(TOKEN.admin);
    const name = `${DISK}b`;
    await unary<object, Disk>(a.disks, 'createDisk', { name, attributes: { size: 16n, badblocksOnce: true }, power: true });
    await unary<object, Disk>(a.disks, 'configureDisk', { name, attributes: { badblocks: '+8-15' } });
    expect((await submit(a.io, { disk: name, op: Op.OP_READ, sector: 8n, length: 4096 })).status).toBe(Status.STATUS_IOERR);
    const cleared = async () => (await unary<object, Disk>(a.disks, 'getDisk', { name })).attributes?.badblocks === '';
    expect(await eventually(cleared, 10_000)).toBe(true);
  });
});

describe('rnullctl --tls-certificates DIR, --token / RNULL_TOKEN', () => {
  function rnullctl(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'bin/rnullctl'), ...args, '--address', f.cluster.dispatchAddress],
        { env: { ...process.env, RNULLCTL_NO_BUILD: '1', RNULL_TOKEN: '', ...env } },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('lists disks over TLS with RNULL_TOKEN, and creates one with --token of an admin', async () => {
    const list = await rnullctl(['disk', 'list', '--tls-certificates', certs.dir], { RNULL_TOKEN: TOKEN.read });
    expect(list).toMatchObject({ code: 0 });
    expect(list.stdout).toContain(DISK);
    const create = await rnullctl(['disk', 'create', `${DISK}c`, '--size', '16', '--tls-certificates', certs.dir, '--token', TOKEN.admin]);
    expect(create).toMatchObject({ code: 0 });
  });

  it('says what is wrong, never printing the token: no TLS, no token, a read token creating', async () => {
    const plain = await rnullctl(['disk', 'list'], { RNULL_TOKEN: TOKEN.read });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/UNAVAILABLE/);
    const anonymous = await rnullctl(['disk', 'list', '--tls-certificates', certs.dir]);
    expect(anonymous.stderr).toMatch(/UNAUTHENTICATED \(16\).*set --token or RNULL_TOKEN/);
    const reader = await rnullctl(['disk', 'create', `${DISK}r`, '--tls-certificates', certs.dir], { RNULL_TOKEN: TOKEN.read });
    expect(reader.stderr).toMatch(/PERMISSION_DENIED \(7\): \/blk\.v1\.GenDisk\/CreateDisk needs role admin; the token has role read/);
    for (const r of [plain, anonymous, reader]) for (const token of Object.values(TOKEN)) expect(r.stdout + r.stderr).not.toContain(token);
    const missing = await rnullctl(['disk', 'list', '--tls-certificates', path.join(certs.dir, 'nope')]);
    expect(missing.stderr).toMatch(/--tls-certificates=.*nope: no such directory/);
  });
});

describe('the NBD gateway service as a client of dispatch (GRPC_TLS_CERTIFICATES, RNULL_TOKEN)', () => {
  it('lists the disks dispatch serves over TLS with its token', async () => {
    const g = await startCluster({
      nbdGateway: 'service',
      env: { GRPC_TLS_CERTIFICATES: certs.dir, RNULL_AUTH_TOKENS: `${TOKEN.read}:read,${TOKEN.admin}:admin`, RNULL_TOKEN: TOKEN.read },
    });
    try {
      const admin = clientsOf(
        ClientSecurity.of({ tls: { dir: certs.dir, setting: 'test' }, token: TOKEN.admin }),
        g.cluster.dispatchAddress,
      );
      await unary<object, Disk>(admin.disks, 'createDisk', { name: 'gw0', attributes: { size: 16n }, power: true });
      const out = await new Promise<string>((resolve, reject) =>
        execFile('nbdinfo', ['--list', `nbd://${g.cluster.nbdAddress}`], (err, stdout, stderr) =>
          err ? reject(new Error(stderr)) : resolve(stdout),
        ),
      );
      expect(out).toMatch(/export="gw0"/);
    } finally {
      await g.stop();
    }
  }, 120_000);
});

describe('bad settings stop a service at start, naming the setting and never a secret', () => {
  async function startFails(service: string, env: Record<string, string>): Promise<string> {
    const lines: string[] = [];
    const p = new ServiceProcess({ service, label: service, env: { HTTP_PORT: '0', GRPC_URL: '127.0.0.1:0', ...env } }, (_l, line) =>
      lines.push(line),
    );
    await expect(p.ready).rejects.toThrow(/exited with code 1 before it was ready/);
    return lines.join('\n');
  }

  it('a missing server key (gendisk) or client key (dispatch) names GRPC_TLS_CERTIFICATES and the file', async () => {
    const noServerKey = copyWithout(certs.dir, 'server-key.pem');
    expect(await startFails('gendisk', { GRPC_TLS_CERTIFICATES: noServerKey })).toMatch(
      /GRPC_TLS_CERTIFICATES=\S+: server-key\.pem is missing/,
    );
    const noClientKey = copyWithout(certs.dir, 'client-key.pem');
    expect(await startFails('dispatch', { GRPC_TLS_CERTIFICATES: noClientKey })).toMatch(
      /GRPC_TLS_CERTIFICATES=\S+: client-key\.pem is missing/,
    );
  });

  it("a key that is not the certificate's names both files", async () => {
    const swapped = copyWithout(certs.dir, 'server-key.pem');
    fs.copyFileSync(path.join(certs.dir, 'client-key.pem'), path.join(swapped, 'server-key.pem'));
    expect(await startFails('gendisk', { GRPC_TLS_CERTIFICATES: swapped })).toMatch(/server-key\.pem is not the key of server-cert\.pem/);
  });

  it('a malformed token file names RNULL_AUTH_TOKENS_FILE and the line, not the token', async () => {
    const file = path.join(path.dirname(certs.dir), 'tokens');
    fs.writeFileSync(file, `# tokens\n${TOKEN.read}:read\nsecret-${nonce}:superuser\n`);
    const out = await startFails('gendisk', { RNULL_AUTH_TOKENS_FILE: file });
    expect(out).toMatch(/RNULL_AUTH_TOKENS_FILE=\S+: line 3: the role must be one of read, write, admin, got "superuser"/);
    expect(out).not.toContain(`secret-${nonce}`);
    expect(out).not.toContain(TOKEN.read);
    expect(await startFails('gendisk', { RNULL_AUTH_TOKENS_FILE: `${file}.absent` })).toMatch(
      /RNULL_AUTH_TOKENS_FILE=\S+absent: no such file/,
    );
  });
});
