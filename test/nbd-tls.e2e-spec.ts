// NBD over TLS on a real cluster with real clients (README "NBD security"): the nbd-gateway
// service with NBD_TLS=require, a certificate directory made by openssl (mutual TLS) and
// NBD_AUTH_IDENTITIES giving one client certificate `write` and another `read`; dispatch's
// own NBD listener with pre-shared keys (NBD_TLS_PSK_FILE). nbdinfo, nbdcopy and qemu-img
// over nbds://, a plain client refused, a read-only identity that cannot write, and bad
// settings that stop the front end at start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { NbdCmd, NbdErrno, NbdInfo, NbdOpt, NbdRep, TransmissionFlag } from '#nbd';
import { RawNbdClient } from '../libs/nbd/src/testing/raw-nbd-client';
import { copyWithout, makeTestCertificates, type TestCertificates } from '../libs/nbd/src/testing/tls-certificates';
import { ServiceProcess } from '../tools/cluster/service-process';
import { createDisk, eventually, type Fixture, startCluster } from './support/cluster-fixture';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const READER = 'nbd reader';

/** Runs `cmd`; resolves its exit code and output instead of rejecting on failure. */
async function attempt(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let certs: TestCertificates;
let readerDir: string;
let strangerDir: string;
let work: string;

beforeAll(() => {
  certs = makeTestCertificates();
  readerDir = certs.clientDirectory(READER);
  strangerDir = certs.clientDirectory('stranger');
  work = path.dirname(certs.dir);
});
afterAll(() => certs?.remove());

describe('the nbd-gateway service with NBD_TLS=require, certificates and NBD_AUTH_IDENTITIES', () => {
  let f: Fixture;
  let host: string;
  let port: number;
  const nbds = (disk: string, dir: string) => `nbds://${host}:${port}/${disk}?tls-certificates=${dir}`;

  beforeAll(async () => {
    f = await startCluster({
      nbdGateway: 'service',
      env: {
        NBD_TLS: 'require',
        NBD_TLS_CERTIFICATES: certs.dir,
        NBD_AUTH_IDENTITIES: `${certs.clientName}:write,${READER}:read`,
      },
    });
    [host, port] = [f.cluster.nbdAddress!.split(':')[0], Number(f.cluster.nbdAddress!.split(':')[1])];
    await createDisk(f, 'tls0', { size: 16n, memoryBacked: true });
  }, 120_000);
  afterAll(() => f?.stop());

  it('nbdinfo over nbds:// with the client certificate: the export, writable for the write identity', async () => {
    const { stdout } = await run('nbdinfo', ['--json', nbds('tls0', certs.dir)]);
    const info = JSON.parse(stdout) as { exports: Array<Record<string, unknown>> };
    expect(info.exports[0]).toMatchObject({ 'export-name': 'tls0', 'export-size': 16 * MiB, is_read_only: false });
    expect(f.lines().join('\n')).toMatch(
      /"security":\{"tls":"require","verifiesClients":true,"pskUsers":0,"identities":2\},"msg":"serving NBD"/,
    );
  });

  it('qemu-img convert into the export over TLS (tls-creds-x509), nbdcopy back out: the same bytes', async () => {
    const src = path.join(work, 'src.raw');
    const back = path.join(work, 'back.raw');
    fs.writeFileSync(src, randomBytes(16 * MiB));
    await run('qemu-img', [
      'convert',
      '-n',
      '--object',
      `tls-creds-x509,id=tls0,dir=${certs.dir},endpoint=client`,
      '-f',
      'raw',
      src,
      '--target-image-opts',
      `driver=nbd,host=${host},port=${port},export=tls0,tls-creds=tls0`,
    ]);
    await run('nbdcopy', [nbds('tls0', certs.dir), back]);
    expect(fs.readFileSync(back).equals(fs.readFileSync(src))).toBe(true);
  }, 60_000);

  it('refuses a plain client: nbdinfo without TLS fails, told TLS is required', async () => {
    const plain = await attempt('nbdinfo', ['--size', `nbd://${host}:${port}/tls0`]);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/TLS/);
    const c = await RawNbdClient.connect(port, host);
    try {
      await c.handshake();
      c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('tls0', []));
      const r = await c.readOptionReply();
      expect({ type: r.type, message: r.data.toString() }).toEqual({
        type: NbdRep.ERR_TLS_REQD,
        message: 'this server requires TLS (NBD_TLS=require): send NBD_OPT_STARTTLS first',
      });
    } finally {
      c.destroy();
    }
  });

  it('serves the read identity read-only: nbdinfo says so, nbdcopy cannot write, a raw WRITE gets EPERM', async () => {
    const { stdout } = await run('nbdinfo', ['--json', nbds('tls0', readerDir)]);
    expect(JSON.parse(stdout).exports[0]).toMatchObject({ 'export-name': 'tls0', is_read_only: true, can_trim: false, can_zero: false });
    const before = path.join(work, 'before.raw');
    await run('nbdcopy', [nbds('tls0', readerDir), before]);

    const zeros = path.join(work, 'zeros.raw');
    fs.writeFileSync(zeros, Buffer.alloc(MiB, 0x77));
    const copy = await attempt('nbdcopy', [zeros, nbds('tls0', readerDir)]);
    expect(copy.code).not.toBe(0);

    const ca = fs.readFileSync(path.join(readerDir, 'ca-cert.pem'));
    const c = await RawNbdClient.connect(port, host);
    try {
      await c.handshake();
      expect(
        (
          await c.startTls({
            ca,
            cert: fs.readFileSync(path.join(readerDir, 'client-cert.pem')),
            key: fs.readFileSync(path.join(readerDir, 'client-key.pem')),
          })
        ).type,
      ).toBe(NbdRep.ACK);
      c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('tls0', [NbdInfo.BLOCK_SIZE]));
      let flags = 0;
      for (let r = await c.readOptionReply(); r.type !== NbdRep.ACK; r = await c.readOptionReply()) {
        expect(r.type).toBe(NbdRep.INFO);
        if (r.data.readUInt16BE(0) === NbdInfo.EXPORT) flags = r.data.readUInt16BE(10);
      }
      expect(flags & TransmissionFlag.READ_ONLY).toBeTruthy();
      c.send(NbdCmd.WRITE, 1n, 0n, 4096, { data: Buffer.alloc(4096, 0x77) });
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EPERM, cookie: 1n });
      c.send(NbdCmd.WRITE_ZEROES, 2n, 0n, 4096);
      expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EPERM, cookie: 2n });
    } finally {
      c.destroy();
    }
    const after = path.join(work, 'after.raw');
    await run('nbdcopy', [nbds('tls0', certs.dir), after]);
    expect(fs.readFileSync(after).equals(fs.readFileSync(before))).toBe(true);
  }, 60_000);

  it('refuses a certificate whose CN has no role, saying so; and a client without a certificate', async () => {
    // libnbd prints the server's message in its debug lines.
    const stranger = await attempt('nbdinfo', ['--size', nbds('tls0', strangerDir)], { LIBNBD_DEBUG: '1' });
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr).toMatch(/server policy prevents NBD_OPT_GO/);
    expect(stranger.stderr).toMatch(/the client certificate CN "stranger" has no role in NBD_AUTH_IDENTITIES/);
    const noCertificate = copyWithout(readerDir, 'client-key.pem');
    fs.rmSync(path.join(noCertificate, 'client-cert.pem'));
    const anonymous = await attempt('nbdinfo', ['--size', nbds('tls0', noCertificate)]);
    expect(anonymous.code).not.toBe(0);
  });
});

// The settings docker-compose.yml gives dispatch and the NBD gateway (x-nbd-security-env),
// with the PSK file deploy/auth/make-tokens.sh writes: its `rnull` user writes, `reader` reads.
describe("dispatch's NBD listener with NBD_TLS_PSK_FILE, as docker-compose.yml runs it", () => {
  let f: Fixture;
  let address: string;
  let pskFile: string;
  let strangerFile: string;

  beforeAll(async () => {
    const auth = path.join(work, 'auth');
    fs.mkdirSync(auth);
    fs.copyFileSync(path.join(__dirname, '../deploy/auth/make-tokens.sh'), path.join(auth, 'make-tokens.sh'));
    await run('sh', [path.join(auth, 'make-tokens.sh')]);
    pskFile = path.join(auth, 'nbd-psk');
    strangerFile = path.join(work, 'stranger.psk');
    fs.writeFileSync(strangerFile, `rnull:${randomBytes(32).toString('hex')}\n`);
    const compose = parse(fs.readFileSync(path.join(__dirname, '../docker-compose.yml'), 'utf8')) as Record<string, Record<string, string>>;
    const security = compose['x-nbd-security-env'];
    expect(security).toMatchObject({ NBD_TLS: 'require', NBD_TLS_PSK_FILE: '/run/secrets/nbd-psk' });
    f = await startCluster({
      nbdGateway: 'dispatch',
      env: {
        ...security,
        NBD_TLS_PSK_FILE: pskFile,
        NBD_HANDSHAKE_TIMEOUT_MS: '2000',
        NBD_IDLE_TIMEOUT_MS: '2000',
      },
    });
    address = f.cluster.nbdAddress!;
    await createDisk(f, 'psk0', { size: 8n, memoryBacked: true });
  }, 120_000);
  afterAll(() => f?.stop());

  const nbds = (user: string, file: string) => `nbds://${user}@${address}/psk0?tls-psk-file=${file}`;

  it('serves PSK users by their role: rnull writes (nbdcopy), reader reads only and reads the same bytes', async () => {
    const src = path.join(work, 'psk-src.raw');
    fs.writeFileSync(src, randomBytes(8 * MiB));
    await run('nbdcopy', [src, nbds('rnull', pskFile)]);
    const writer = JSON.parse((await run('nbdinfo', ['--json', nbds('rnull', pskFile)])).stdout);
    expect(writer.exports[0]).toMatchObject({ 'export-name': 'psk0', 'export-size': 8 * MiB, is_read_only: false });
    const reader = JSON.parse((await run('nbdinfo', ['--json', nbds('reader', pskFile)])).stdout);
    expect(reader.exports[0]).toMatchObject({ is_read_only: true });
    const back = path.join(work, 'psk-back.raw');
    await run('nbdcopy', [nbds('reader', pskFile), back]);
    expect(fs.readFileSync(back).equals(fs.readFileSync(src))).toBe(true);
  }, 60_000);

  it('closes a connection that does not finish haggling (NBD_HANDSHAKE_TIMEOUT_MS) and an idle one (NBD_IDLE_TIMEOUT_MS)', async () => {
    const [host, port] = [address.split(':')[0], Number(address.split(':')[1])];
    const haggler = await RawNbdClient.connect(port, host);
    const idler = await RawNbdClient.connect(port, host);
    try {
      await haggler.handshake();
      await idler.handshake();
      const [user, key] = fs.readFileSync(pskFile, 'utf8').split('\n')[0].split(':');
      await idler.startTls({
        ciphers: 'PSK',
        maxVersion: 'TLSv1.2',
        pskCallback: () => ({ identity: user, psk: Buffer.from(key, 'hex') }),
        checkServerIdentity: () => undefined,
      });
      await idler.go('psk0');
      expect(await haggler.closedWithin(15_000)).toBe(true);
      expect(await idler.closedWithin(15_000)).toBe(true);
      // The service's log lines arrive a little after the client saw the close.
      const logged = (pattern: RegExp) =>
        eventually(async () => f.lines().some((l) => l.includes('NBD connection closed') && pattern.test(l)));
      expect(await logged(/"how":"handshake-timeout \(option haggling took over 2000 ms\)"/)).toBe(true);
      expect(await logged(/"export":"psk0","how":"idle-timeout \(no command for 2000 ms\)"/)).toBe(true);
    } finally {
      haggler.destroy();
      idler.destroy();
    }
  }, 60_000);

  it('refuses a wrong key and a plain client', async () => {
    expect((await attempt('nbdinfo', ['--size', nbds('rnull', strangerFile)])).code).not.toBe(0);
    const plain = await attempt('nbdinfo', ['--size', `nbd://${address}/psk0`]);
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/TLS/);
  });
});

describe('bad NBD settings stop the front end at start, naming the setting', () => {
  async function startFails(env: Record<string, string>): Promise<string> {
    const lines: string[] = [];
    const p = new ServiceProcess(
      { service: 'nbd-gateway', label: 'nbd-gateway', env: { HTTP_PORT: '0', NBD_PORT: '0', ...env } },
      (_l, line) => lines.push(line),
    );
    await expect(p.ready).rejects.toThrow(/exited with code 1 before it was ready/);
    return lines.join('\n');
  }

  it('NBD_TLS=require without certificates', async () => {
    expect(await startFails({ NBD_TLS: 'require' })).toMatch(/NBD_TLS=require needs NBD_TLS_CERTIFICATES=DIR/);
  });

  it('a missing certificate file names NBD_TLS_CERTIFICATES and the file', async () => {
    const noCert = copyWithout(certs.dir, 'server-cert.pem');
    expect(await startFails({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: noCert })).toMatch(
      /NBD_TLS_CERTIFICATES=\S+: server-cert\.pem is missing/,
    );
  });

  it('a PSK file with a bad line names NBD_TLS_PSK_FILE and the line, not the key', async () => {
    const file = path.join(work, 'bad.psk');
    fs.writeFileSync(file, 'alice:00ff00ff\nbob=1234\n');
    const out = await startFails({ NBD_TLS: 'require', NBD_TLS_PSK_FILE: file });
    expect(out).toMatch(/NBD_TLS_PSK_FILE=\S+bad\.psk: line 2 is not username:hexkey/);
    expect(out).not.toContain('00ff00ff');
  });

  it('a malformed identity mapping names NBD_AUTH_IDENTITIES and the entry', async () => {
    expect(await startFails({ NBD_TLS: 'require', NBD_TLS_CERTIFICATES: certs.dir, NBD_AUTH_IDENTITIES: 'alice:read,bob' })).toMatch(
      /NBD_AUTH_IDENTITIES: entry 2 is not name:role/,
    );
  });
});
