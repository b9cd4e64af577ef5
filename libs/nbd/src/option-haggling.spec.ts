import { execFile } from 'node:child_process';
import {
  NBD_INIT_MAGIC,
  NBD_OPTS_MAGIC,
  NBD_REP_MAGIC,
  NbdInfo,
  NbdOpt,
  NbdRep,
  TransmissionFlag,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
} from './nbd-protocol';
import { RawNbdClient } from './testing/raw-nbd-client';
import { attach, firstClose, MiB, serve, type Served } from './testing/serve';

describe('NBD option haggling (fixed newstyle)', () => {
  let s: Served;
  const clients: RawNbdClient[] = [];
  const connect = async () => {
    const c = await RawNbdClient.connect(s.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    s = await serve();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await s.server.close();
  });

  it('greets with NBDMAGIC, IHAVEOPT and the fixed-newstyle and no-zeroes flags', async () => {
    const c = await connect();
    const g = await c.handshake();
    expect(g.readBigUInt64BE(0)).toBe(NBD_INIT_MAGIC);
    expect(g.readBigUInt64BE(8)).toBe(NBD_OPTS_MAGIC);
    expect(g.readUInt16BE(16)).toBe(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
  });

  it('NBD_OPT_LIST: one NBD_REP_SERVER per export, then NBD_REP_ACK', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.LIST);
    const names: string[] = [];
    for (;;) {
      const r = await c.readOptionReply();
      expect(r.option).toBe(NbdOpt.LIST);
      if (r.type === NbdRep.ACK) break;
      expect(r.type).toBe(NbdRep.SERVER);
      const len = r.data.readUInt32BE(0);
      names.push(r.data.subarray(4, 4 + len).toString());
      expect(r.data.subarray(4 + len).toString()).toMatch(/rnull-cluster disk/);
    }
    expect(names).toEqual(['rnullb0', 'small']);
  });

  it('NBD_OPT_LIST with data is NBD_REP_ERR_INVALID and haggling goes on', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.LIST, Buffer.from('x'));
    expect((await c.readOptionReply()).type).toBe(NbdRep.ERR_INVALID);
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
  });

  it('NBD_OPT_INFO: export size and flags, name, description, block sizes; then GO enters transmission', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.INFO, RawNbdClient.infoRequest('small', [NbdInfo.NAME, NbdInfo.DESCRIPTION, NbdInfo.BLOCK_SIZE]));
    const infos = new Map<number, Buffer>();
    for (;;) {
      const r = await c.readOptionReply();
      if (r.type === NbdRep.ACK) break;
      expect(r.type).toBe(NbdRep.INFO);
      infos.set(r.data.readUInt16BE(0), r.data.subarray(2));
    }
    const exp = infos.get(NbdInfo.EXPORT)!;
    expect(exp.readBigUInt64BE(0)).toBe(MiB);
    const flags = exp.readUInt16BE(8);
    expect(flags & TransmissionFlag.HAS_FLAGS).toBeTruthy();
    expect(flags & TransmissionFlag.ROTATIONAL).toBeTruthy();
    expect(flags & TransmissionFlag.SEND_FUA).toBe(0);
    expect(flags & TransmissionFlag.SEND_TRIM).toBe(0);
    // No write cache (cache_size=0): neither FLUSH nor FUA is offered, as null_blk.
    expect(flags & TransmissionFlag.SEND_FLUSH).toBe(0);
    expect(flags & TransmissionFlag.SEND_WRITE_ZEROES).toBeTruthy();
    expect(flags & TransmissionFlag.CAN_MULTI_CONN).toBeTruthy();
    expect(infos.get(NbdInfo.NAME)!.toString()).toBe('small');
    expect(infos.get(NbdInfo.DESCRIPTION)!.toString()).toMatch(/512-byte blocks/);
    const bs = infos.get(NbdInfo.BLOCK_SIZE)!;
    expect([bs.readUInt32BE(0), bs.readUInt32BE(4), bs.readUInt32BE(8)]).toEqual([512, 512, 1024 * 1024]);
  });

  it('NBD_OPT_GO on an unknown export is NBD_REP_ERR_UNKNOWN with a message; a good GO follows', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('nope', []));
    const r = await c.readOptionReply();
    expect(r.type).toBe(NbdRep.ERR_UNKNOWN);
    expect(r.data.toString()).toMatch(/nope/);
    c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('rnullb0', []));
    let last;
    do last = await c.readOptionReply();
    while (last.type === NbdRep.INFO);
    expect(last.type).toBe(NbdRep.ACK);
  });

  it('malformed NBD_OPT_GO data is NBD_REP_ERR_INVALID', async () => {
    const c = await connect();
    await c.handshake();
    const bad = RawNbdClient.infoRequest('rnullb0', [NbdInfo.BLOCK_SIZE]);
    bad.writeUInt32BE(999, 0);
    c.sendOption(NbdOpt.GO, bad);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ERR_INVALID);
  });

  it.each([
    ['NBD_OPT_STARTTLS', NbdOpt.STARTTLS],
    ['NBD_OPT_LIST_META_CONTEXT', 10],
    ['an unknown option', 4242],
  ])('%s gets NBD_REP_ERR_UNSUP', async (_name, option) => {
    const c = await connect();
    await c.handshake();
    c.sendOption(option);
    const r = await c.readOptionReply();
    expect(r).toMatchObject({ option, type: NbdRep.ERR_UNSUP });
  });

  it('an option longer than the limit is skipped and answered NBD_REP_ERR_TOO_BIG', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.INFO, Buffer.alloc(100_000));
    expect((await c.readOptionReply()).type).toBe(NbdRep.ERR_TOO_BIG);
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
  });

  it('an option that declares 2^32-1 bytes is refused with NBD_REP_ERR_TOO_BIG at once, then the server closes', async () => {
    const c = await connect();
    await c.handshake();
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(NBD_OPTS_MAGIC, 0);
    h.writeUInt32BE(NbdOpt.GO, 8);
    h.writeUInt32BE(0xffffffff, 12);
    c.write(h); // and none of the data: the reply must not wait for it
    const r = await c.readOptionReply();
    expect(r).toMatchObject({ option: NbdOpt.GO, type: NbdRep.ERR_TOO_BIG });
    expect(r.data.toString()).toMatch(/4294967295 bytes is over the limit/);
    expect(await c.closedWithin(2000)).toBe(true);
    expect(await firstClose(s)).toMatch(/refused at once/);
  });

  it('NBD_OPT_EXPORT_NAME over the limit closes at once (it has no error reply)', async () => {
    const c = await connect();
    await c.handshake();
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(NBD_OPTS_MAGIC, 0);
    h.writeUInt32BE(NbdOpt.EXPORT_NAME, 8);
    h.writeUInt32BE(0xffffffff, 12);
    c.write(h);
    expect(await c.closedWithin(2000)).toBe(true);
  });

  it('NBD_OPT_ABORT is acknowledged, then the server closes', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.ABORT);
    const r = await c.readOptionReply();
    expect(r.type).toBe(NbdRep.ACK);
    expect(await c.closedWithin(2000)).toBe(true);
    // The server's close event may come after the client saw its socket close.
    for (let i = 0; i < 100 && !s.closes.includes('client aborted'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.closes).toContain('client aborted');
  });

  it('NBD_OPT_EXPORT_NAME answers size and flags without the 124 zero bytes when NO_ZEROES was agreed', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.EXPORT_NAME, Buffer.from('rnullb0'));
    const r = await c.read(10);
    expect(r.readBigUInt64BE(0)).toBe(4n * MiB);
    expect(r.readUInt16BE(8) & TransmissionFlag.SEND_TRIM).toBeTruthy();
  });

  it('NBD_OPT_EXPORT_NAME sends the 124 zero bytes to a client without NO_ZEROES', async () => {
    const c = await connect();
    await c.handshake(1);
    c.sendOption(NbdOpt.EXPORT_NAME, Buffer.from(''));
    const r = await c.read(134);
    expect(r.readBigUInt64BE(0)).toBe(4n * MiB);
    expect(r.subarray(10).every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['an unknown export with NBD_OPT_EXPORT_NAME', async (c: RawNbdClient) => c.sendOption(NbdOpt.EXPORT_NAME, Buffer.from('nope'))],
    ['a wrong option magic', async (c: RawNbdClient) => c.sendOption(NbdOpt.LIST, Buffer.alloc(0), 0x1234n)],
  ])('%s closes the connection, and the server keeps serving', async (_name, act) => {
    const c = await connect();
    await c.handshake();
    await act(c);
    expect(await c.closedWithin(2000)).toBe(true);
    const d = await attach(s.port);
    clients.push(d);
    expect(s.server.connectionCount).toBe(1);
  });

  it('unknown client flags close the connection', async () => {
    const c = await connect();
    await c.handshake(0x80);
    expect(await c.closedWithin(2000)).toBe(true);
    expect(await firstClose(s)).toMatch(/unknown client flags/);
  });

  it('every reply carries the option reply magic', async () => {
    const c = await connect();
    await c.handshake();
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    const raw = await c.read(20);
    expect(raw.readBigUInt64BE(0)).toBe(NBD_REP_MAGIC);
  });
});

describe('NBD connections over the limit', () => {
  let s: Served;
  const clients: RawNbdClient[] = [];

  beforeEach(async () => {
    s = await serve(undefined, true, 1);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await s.server.close();
  });

  it('are told why: NBD_REP_ERR_POLICY naming the limit to each option, ABORT acknowledged, then closed', async () => {
    clients.push(await attach(s.port));
    const c = await RawNbdClient.connect(s.port);
    clients.push(c);
    await c.handshake();
    c.sendOption(NbdOpt.STRUCTURED_REPLY);
    expect(await c.readOptionReply()).toMatchObject({ option: NbdOpt.STRUCTURED_REPLY, type: NbdRep.ERR_POLICY });
    c.sendOption(NbdOpt.GO, RawNbdClient.infoRequest('rnullb0', []));
    const r = await c.readOptionReply();
    expect(r).toMatchObject({ option: NbdOpt.GO, type: NbdRep.ERR_POLICY });
    expect(r.data.toString()).toMatch(/limit of 1 connections open; try again when one closes/);
    c.sendOption(NbdOpt.ABORT);
    expect((await c.readOptionReply()).type).toBe(NbdRep.ACK);
    expect(await c.closedWithin(2000)).toBe(true);
    for (let i = 0; i < 100 && s.refusals.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.refusals[0]).toMatch(/limit of 1 connections.*client aborted/);
    expect(s.server.connectionCount).toBe(1);
  });

  it('a real client (nbdinfo) says why it was refused; once a connection closes, a new one is served', async () => {
    const first = await attach(s.port);
    clients.push(first);
    const refused = await nbdinfo(s.port);
    expect(refused.code).not.toBe(0);
    // libnbd 1.14 names the refusal and shows the server's message in its debug lines.
    expect(refused.stderr).toMatch(/server policy prevents NBD_OPT_GO/);
    expect(refused.stderr).toMatch(/server error message: the server has its limit of 1 connections open/);
    first.destroy();
    for (let i = 0; i < 100 && s.server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const served = await nbdinfo(s.port);
    expect(served).toMatchObject({ code: 0 });
    expect(served.stdout).toMatch(/4194304/);
  });
});

/** `nbdinfo --size nbd://127.0.0.1:port/rnullb0` with libnbd's debug lines (Debian: libnbd-bin). */
function nbdinfo(port: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'nbdinfo',
      ['--size', `nbd://127.0.0.1:${port}/rnullb0`],
      { timeout: 10_000, env: { ...process.env, LIBNBD_DEBUG: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
