// Option haggling under each TLS mode (the spec's NOTLS, FORCEDTLS, SELECTIVETLS), access by
// TLS identity (DESIGN I19), and the handshake and idle timeouts, with a byte-level client.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { NbdAccessPolicy } from './nbd-access';
import { NbdCmd, NbdErrno, NbdInfo, NbdOpt, NbdRep, TransmissionFlag } from './nbd-protocol';
import type { NbdTls } from './nbd-tls';
import { RawNbdClient } from './testing/raw-nbd-client';
import { serve, type ServeOptions, type Served } from './testing/serve';
import { makeTestCertificates, type TestCertificates } from './testing/tls-certificates';

let certs: TestCertificates;
let readerDir: string;
const READER = 'reader client';

beforeAll(() => {
  certs = makeTestCertificates();
  readerDir = certs.clientDirectory(READER);
});
afterAll(() => certs.remove());

const file = (dir: string, name: string) => fs.readFileSync(path.join(dir, name));

/** The server's TLS from the test directory; mutual TLS unless `verifiesClients` is false. */
function serverTls(mode: NbdTls['mode'], verifiesClients = true): NbdTls {
  const secureContext = tls.createSecureContext({
    cert: file(certs.dir, 'server-cert.pem'),
    key: file(certs.dir, 'server-key.pem'),
    ca: verifiesClients ? file(certs.dir, 'ca-cert.pem') : undefined,
  });
  return { mode, secureContext, verifiesClients };
}

/** What a client in `dir` presents (CA, and its certificate when it has one). */
function clientTls(dir = certs.dir, withCertificate = true): tls.ConnectionOptions {
  const ca = file(dir, 'ca-cert.pem');
  return withCertificate ? { ca, cert: file(dir, 'client-cert.pem'), key: file(dir, 'client-key.pem') } : { ca };
}

let s: Served;
const clients: RawNbdClient[] = [];
async function start(options: ServeOptions): Promise<void> {
  s = await serve(undefined, true, undefined, options);
}
async function connect(): Promise<RawNbdClient> {
  const c = await RawNbdClient.connect(s.port);
  clients.push(c);
  await c.handshake();
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await s?.server.close();
});

/** The NBD_REP_INFO export flags NBD_OPT_GO answers with (then transmission begins). */
async function goFlags(c: RawNbdClient, name = 'rnullb0'): Promise<number> {
  c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest(name, [NbdInfo.BLOCK_SIZE]));
  let flags = -1;
  for (;;) {
    const r = await c.readOptionReply();
    if (r.type === NbdRep.ACK) return flags;
    if (r.type !== NbdRep.INFO) throw new Error(`NBD_OPT_GO refused: reply ${r.type} ${r.data.toString()}`);
    if (r.data.readUInt16BE(0) === NbdInfo.EXPORT) flags = r.data.readUInt16BE(10);
  }
}

/** Writes 4 KiB of `fill` at 0, reads them back, over `c` in transmission. */
async function writeAndRead(c: RawNbdClient, fill: number): Promise<Buffer> {
  c.send(NbdCmd.WRITE, 1n, 0n, 4096, { data: Buffer.alloc(4096, fill) });
  expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 1n });
  c.send(NbdCmd.READ, 2n, 0n, 4096);
  expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 2n });
  return c.read(4096);
}

describe('NBD_TLS=off (NOTLS)', () => {
  it('answers NBD_OPT_STARTTLS with NBD_REP_ERR_UNSUP and haggling goes on in plaintext', async () => {
    await start({});
    const c = await connect();
    const r = await c.startTls(clientTls());
    expect(r.type).toBe(NbdRep.ERR_UNSUP);
    expect(r.data.toString()).toMatch(/TLS is off/);
    expect(await goFlags(c)).toBeGreaterThan(0);
  });
});

describe('NBD_TLS=require (FORCEDTLS)', () => {
  beforeEach(() => start({ tls: serverTls('require') }));

  it('answers every option before STARTTLS but ABORT with NBD_REP_ERR_TLS_REQD, and serves after it', async () => {
    const c = await connect();
    for (const [option, data] of [
      [NbdOpt.LIST, Buffer.alloc(0)],
      [NbdOpt.STRUCTURED_REPLY, Buffer.alloc(0)],
      [NbdOpt.INFO, RawNbdClient.infoRequest('rnullb0', [])],
      [NbdOpt.GO, RawNbdClient.infoRequest('rnullb0', [])],
      [99, Buffer.from('x')],
    ] as const) {
      c.sendOption(option, data);
      const r = await c.readOptionReply();
      expect({ option: r.option, type: r.type }).toEqual({ option, type: NbdRep.ERR_TLS_REQD });
      expect(r.data.toString()).toMatch(/requires TLS \(NBD_TLS=require\): send NBD_OPT_STARTTLS first/);
    }
    expect((await c.startTls(clientTls())).type).toBe(NbdRep.ACK);
    expect(c.socket).toBeInstanceOf(tls.TLSSocket);
    const flags = await goFlags(c);
    expect(flags & TransmissionFlag.READ_ONLY).toBe(0);
    expect((await writeAndRead(c, 0x5a)).equals(Buffer.alloc(4096, 0x5a))).toBe(true);
    expect(s.backend.data.get('rnullb0')!.subarray(0, 4096).equals(Buffer.alloc(4096, 0x5a))).toBe(true);
  });

  it('acknowledges NBD_OPT_ABORT before TLS', async () => {
    const c = await connect();
    c.sendOption(NbdOpt.ABORT);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
    expect(await c.closedWithin(5000)).toBe(true);
  });

  it('closes on NBD_OPT_EXPORT_NAME before TLS (it has no error reply)', async () => {
    const c = await connect();
    c.sendOption(NbdOpt.EXPORT_NAME, Buffer.from('rnullb0'));
    expect(await c.closedWithin(5000)).toBe(true);
    await eventually(() => expect(s.closes.join()).toMatch(/NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS under NBD_TLS=require/));
  });

  it('answers a second STARTTLS with NBD_REP_ERR_INVALID, and STARTTLS with data too', async () => {
    const c = await connect();
    c.sendOption(NbdOpt.STARTTLS, Buffer.from('x'));
    expect((await c.readOptionReply()).type).toBe(NbdRep.ERR_INVALID);
    await c.startTls(clientTls());
    c.sendOption(NbdOpt.STARTTLS);
    const r = await c.readOptionReply();
    expect(r.type).toBe(NbdRep.ERR_INVALID);
    expect(r.data.toString()).toBe('TLS is already on');
    c.sendOption(NbdOpt.LIST);
    expect((await c.readOptionReply()).type).toBe(NbdRep.SERVER);
  });

  it('forgets NBD_OPT_STRUCTURED_REPLY negotiated in plaintext: READ replies are simple unless asked again', async () => {
    await s.server.close();
    await start({ tls: serverTls('on') });
    const c = await connect();
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
    await c.startTls(clientTls());
    await goFlags(c);
    c.send(NbdCmd.READ, 7n, 0n, 4096);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 7n });
    expect((await c.read(4096)).length).toBe(4096);
  });

  it('verifies client certificates (ca-cert.pem): a client without one fails the handshake and is closed', async () => {
    const c = await connect();
    // Under TLS 1.3 the client's side of the handshake may finish before the server's check.
    await c.startTls(clientTls(certs.dir, false)).catch(() => undefined);
    expect(await c.closedWithin(5000)).toBe(true);
    await eventually(() => expect(s.closes.join()).toMatch(/TLS handshake failed/));
  });
});

describe('NBD_TLS=on (SELECTIVETLS, every export optional)', () => {
  beforeEach(() => start({ tls: serverTls('on', false) }));

  it('serves a plain client', async () => {
    const c = await connect();
    await goFlags(c);
    expect((await writeAndRead(c, 1)).equals(Buffer.alloc(4096, 1))).toBe(true);
  });

  it('serves a client that upgrades, without a client certificate when no CA is given', async () => {
    const c = await connect();
    c.sendOption(NbdOpt.LIST);
    expect((await c.readOptionReply()).type).toBe(NbdRep.SERVER);
    expect((await c.readOptionReply()).type).toBe(NbdRep.SERVER);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
    expect((await c.startTls(clientTls(certs.dir, false))).type).toBe(NbdRep.ACK);
    await goFlags(c);
    expect((await writeAndRead(c, 2)).equals(Buffer.alloc(4096, 2))).toBe(true);
  });
});

describe('access by TLS identity (DESIGN I19)', () => {
  const seen: (string | undefined)[] = [];
  const access: NbdAccessPolicy = (identity) => {
    seen.push(identity && `${identity.kind}:${identity.name}`);
    if (identity?.name === READER) return { readOnly: true };
    if (identity?.name === certs.clientName) return { readOnly: false };
    return { refused: `no role for ${identity ? `the TLS identity ${JSON.stringify(identity.name)}` : 'a client without a TLS identity'}` };
  };
  beforeEach(() => {
    seen.length = 0;
    return start({ tls: serverTls('require'), access });
  });

  it('serves a read role read-only: NBD_FLAG_READ_ONLY, reads work, WRITE, TRIM and WRITE_ZEROES get EPERM', async () => {
    s.backend.data.get('rnullb0')!.fill(0x33, 0, 4096);
    const c = await connect();
    await c.startTls(clientTls(readerDir));
    const flags = await goFlags(c);
    expect(seen).toContain(`certificate:${READER}`);
    expect(flags & TransmissionFlag.READ_ONLY).toBeTruthy();
    expect(flags & (TransmissionFlag.SEND_TRIM | TransmissionFlag.SEND_WRITE_ZEROES | TransmissionFlag.SEND_FUA)).toBe(0);
    c.send(NbdCmd.READ, 1n, 0n, 4096);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 1n });
    expect((await c.read(4096)).equals(Buffer.alloc(4096, 0x33))).toBe(true);
    c.send(NbdCmd.WRITE, 2n, 0n, 4096, { data: Buffer.alloc(4096, 9) });
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EPERM, cookie: 2n });
    c.send(NbdCmd.TRIM, 3n, 0n, 4096);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EPERM, cookie: 3n });
    c.send(NbdCmd.WRITE_ZEROES, 4n, 0n, 4096);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EPERM, cookie: 4n });
    c.send(NbdCmd.FLUSH, 5n, 0n, 0);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 5n });
    expect(s.backend.data.get('rnullb0')!.subarray(0, 4096).equals(Buffer.alloc(4096, 0x33))).toBe(true);
    expect(s.backend.commands.map((cmd) => cmd.op)).toEqual(['read', 'flush']);
  });

  it('serves a write role read-write', async () => {
    const c = await connect();
    await c.startTls(clientTls());
    expect((await goFlags(c)) & TransmissionFlag.READ_ONLY).toBe(0);
    expect((await writeAndRead(c, 7)).equals(Buffer.alloc(4096, 7))).toBe(true);
  });

  it('refuses an identity without a role with NBD_REP_ERR_POLICY saying why (LIST, INFO, GO), and EXPORT_NAME closes', async () => {
    const strangerDir = certs.clientDirectory('stranger');
    const c = await connect();
    await c.startTls(clientTls(strangerDir));
    for (const [option, data] of [
      [NbdOpt.LIST, Buffer.alloc(0)],
      [NbdOpt.INFO, RawNbdClient.infoRequest('rnullb0', [])],
      // Not NBD_REP_ERR_UNKNOWN: it does not learn which exports exist either.
      [NbdOpt.INFO, RawNbdClient.infoRequest('no-such-disk', [])],
      [NbdOpt.GO, RawNbdClient.infoRequest('rnullb0', [])],
    ] as const) {
      c.sendOption(option, data);
      const r = await c.readOptionReply();
      expect({ option: r.option, type: r.type, message: r.data.toString() }).toEqual({
        option,
        type: NbdRep.ERR_POLICY,
        message: 'no role for the TLS identity "stranger"',
      });
    }
    c.sendOption(NbdOpt.EXPORT_NAME, Buffer.from('rnullb0'));
    expect(await c.closedWithin(5000)).toBe(true);
    expect(s.backend.sessionsOpen).toBe(0);
  });
});

describe('timeouts', () => {
  it('closes a connection that has not finished option haggling within the handshake timeout', async () => {
    await start({ handshakeTimeoutMs: 300 });
    const c = await connect();
    c.sendOption(NbdOpt.LIST);
    expect((await c.readOptionReply()).type).toBe(NbdRep.SERVER);
    expect(await c.closedWithin(10_000)).toBe(true);
    await eventually(() => expect(s.closes).toEqual(['handshake-timeout (option haggling took over 300 ms)']));
  });

  it('counts the TLS handshake in it: a client that never sends its ClientHello is closed', async () => {
    await start({ handshakeTimeoutMs: 300, tls: serverTls('require') });
    const c = await connect();
    c.sendOption(NbdOpt.STARTTLS);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
    expect(await c.closedWithin(10_000)).toBe(true);
    await eventually(() => expect(s.closes.join()).toMatch(/^handshake-timeout/));
  });

  it('does not close a connection that entered transmission in time', async () => {
    await start({ handshakeTimeoutMs: 300 });
    const c = await connect();
    await goFlags(c);
    await new Promise((r) => setTimeout(r, 600));
    expect((await writeAndRead(c, 3)).equals(Buffer.alloc(4096, 3))).toBe(true);
  });

  it('closes an idle transmission-phase connection after the idle timeout, over TLS too', async () => {
    await start({ idleTimeoutMs: 300, tls: serverTls('on') });
    const plain = await connect();
    await goFlags(plain);
    const secure = await connect();
    await secure.startTls(clientTls());
    await goFlags(secure);
    expect(await plain.closedWithin(10_000)).toBe(true);
    expect(await secure.closedWithin(10_000)).toBe(true);
    await eventually(() => expect(s.closes).toEqual(['idle-timeout (no command for 300 ms)', 'idle-timeout (no command for 300 ms)']));
  });

  it('is not idle while a command is in flight: a slow device does not get the connection closed', async () => {
    await start({ idleTimeoutMs: 200 });
    const c = await connect();
    await goFlags(c);
    s.backend.hold = true;
    c.send(NbdCmd.READ, 1n, 0n, 4096);
    await eventually(() => expect(s.backend.held).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 700));
    expect(s.closes).toEqual([]);
    s.backend.releaseAll();
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.OK, cookie: 1n });
    await c.read(4096);
    expect(await c.closedWithin(10_000)).toBe(true);
    await eventually(() => expect(s.closes).toEqual(['idle-timeout (no command for 200 ms)']));
  });
});

/** Retries `check` until it passes (5 s). */
async function eventually(check: () => void): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
