import { randomBytes } from 'node:crypto';
import { NBD_SIMPLE_REPLY_MAGIC, NBD_STRUCTURED_REPLY_MAGIC, NbdCmd, NbdCmdFlag, NbdErrno, NbdReply } from './nbd-protocol';
import { RawNbdClient } from './testing/raw-nbd-client';
import { attach, MiB, serve, type Served } from './testing/serve';

const KiB = 1024;

describe('NBD transmission phase', () => {
  let s: Served;
  const clients: RawNbdClient[] = [];
  const open = async (opts?: Parameters<typeof attach>[2], name?: string) => {
    const c = await attach(s.port, name, opts);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    s = await serve();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    s.backend.releaseAll();
    await s.server.close();
  });

  it('WRITE then READ (simple replies) returns the bytes, echoing each cookie', async () => {
    const c = await open();
    const data = randomBytes(8 * KiB);
    c.send(NbdCmd.WRITE, 7n, 4096n, data.length, { data });
    expect(await c.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: 0, cookie: 7n });
    c.send(NbdCmd.READ, 8n, 4096n, data.length);
    expect(await c.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: 0, cookie: 8n });
    expect(await c.read(data.length)).toEqual(data);
  });

  it('READ with structured replies is one OFFSET_DATA chunk flagged DONE', async () => {
    const c = await open({ structured: true });
    const data = randomBytes(4 * KiB);
    c.send(NbdCmd.WRITE, 1n, 0n, data.length, { data });
    await c.readSimpleReply();
    c.send(NbdCmd.READ, 2n, 0n, data.length);
    const chunk = await c.readChunk();
    expect(chunk).toMatchObject({
      magic: NBD_STRUCTURED_REPLY_MAGIC,
      flags: NbdReply.FLAG_DONE,
      type: NbdReply.TYPE_OFFSET_DATA,
      cookie: 2n,
    });
    expect(chunk.payload.readBigUInt64BE(0)).toBe(0n);
    expect(chunk.payload.subarray(8)).toEqual(data);
  });

  it('a READ past the end gets a structured EINVAL error chunk with a message', async () => {
    const c = await open({ structured: true });
    c.send(NbdCmd.READ, 3n, 4n * MiB, 4096);
    const chunk = await c.readChunk();
    expect(chunk).toMatchObject({ type: NbdReply.TYPE_ERROR, flags: NbdReply.FLAG_DONE, cookie: 3n });
    expect(chunk.payload.readUInt32BE(0)).toBe(NbdErrno.EINVAL);
    expect(chunk.payload.subarray(6).toString()).toMatch(/past the end/);
    expect(s.backend.commands).toHaveLength(0);
  });

  it.each([
    ['WRITE past the end', NbdCmd.WRITE, 4n * MiB - 4096n, 8192, NbdErrno.ENOSPC],
    ['WRITE_ZEROES past the end', NbdCmd.WRITE_ZEROES, 4n * MiB, 4096, NbdErrno.ENOSPC],
    // doc/proto.md "Error values": EINVAL for a read or trim past the end, ENOSPC for writes.
    ['TRIM past the end', NbdCmd.TRIM, 5n * MiB, 4096, NbdErrno.EINVAL],
    ['READ past the end', NbdCmd.READ, 0xffffffffffff0000n, 4096, NbdErrno.EINVAL],
    ['READ over the maximum payload', NbdCmd.READ, 0n, 2 * 1024 * KiB, NbdErrno.EINVAL],
    ['an unaligned WRITE', NbdCmd.WRITE, 100n, 4096, NbdErrno.EINVAL],
    ['an unaligned READ after block sizes were agreed', NbdCmd.READ, 100n, 4096, NbdErrno.EINVAL],
    ['BLOCK_STATUS (not negotiated)', NbdCmd.BLOCK_STATUS, 0n, 4096, NbdErrno.EINVAL],
    ['CACHE (not advertised)', NbdCmd.CACHE, 0n, 4096, NbdErrno.EINVAL],
    ['an unknown command', 77, 0n, 4096, NbdErrno.EINVAL],
  ])('%s is refused with the documented errno and nothing reaches the device', async (_name, type, offset, length, errno) => {
    const c = await open();
    c.send(type, 42n, offset, length, type === NbdCmd.WRITE ? { data: Buffer.alloc(length) } : {});
    expect(await c.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno, cookie: 42n });
    expect(s.backend.commands).toHaveLength(0);
    c.send(NbdCmd.FLUSH, 43n, 0n, 0);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 43n });
  });

  it.each([
    ['an unknown flag bit on FLUSH', NbdCmd.FLUSH, 1 << 9],
    ['NO_HOLE on WRITE (it belongs to WRITE_ZEROES)', NbdCmd.WRITE, NbdCmdFlag.NO_HOLE],
    ['DF on READ (SEND_DF is not offered)', NbdCmd.READ, NbdCmdFlag.DF],
    ['FAST_ZERO on WRITE_ZEROES (SEND_FAST_ZERO is not offered)', NbdCmd.WRITE_ZEROES, NbdCmdFlag.FAST_ZERO],
    ['an unknown flag bit on TRIM, with FUA', NbdCmd.TRIM, NbdCmdFlag.FUA | (1 << 15)],
  ])('%s is EINVAL (doc/proto.md: "an unknown command flag"), and a WRITE payload is read past', async (_name, type, flags) => {
    const c = await open({ structured: true });
    c.send(type, 42n, 0n, 4096, { flags, data: type === NbdCmd.WRITE ? Buffer.alloc(4096, 1) : undefined });
    if (type === NbdCmd.READ) {
      const chunk = await c.readChunk();
      expect(chunk).toMatchObject({ type: NbdReply.TYPE_ERROR, cookie: 42n });
      expect(chunk.payload.readUInt32BE(0)).toBe(NbdErrno.EINVAL);
      expect(chunk.payload.subarray(6).toString()).toMatch(/does not take/);
    } else {
      expect(await c.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: NbdErrno.EINVAL, cookie: 42n });
    }
    expect(s.backend.commands).toHaveLength(0);
    c.send(NbdCmd.FLUSH, 43n, 0n, 0, { flags: NbdCmdFlag.FUA });
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 43n });
  });

  it('a WRITE over the maximum payload is read past, refused with EINVAL, and the connection goes on', async () => {
    const c = await open();
    const big = 3 * 1024 * KiB;
    c.send(NbdCmd.WRITE, 1n, 0n, big, { data: Buffer.alloc(big, 1) });
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 1n });
    c.send(NbdCmd.READ, 2n, 0n, 4096);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 2n });
    expect((await c.read(4096)).every((b) => b === 0)).toBe(true);
  });

  it('an unaligned READ from a client that did not agree block sizes is widened and cut back', async () => {
    const c = await open({ blockSize: false });
    const data = randomBytes(8192);
    c.send(NbdCmd.WRITE, 1n, 0n, 8192, { data });
    await c.readSimpleReply();
    c.send(NbdCmd.READ, 2n, 1000n, 3000);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 2n });
    expect(await c.read(3000)).toEqual(data.subarray(1000, 4000));
    expect(s.backend.commands.at(-1)).toMatchObject({ op: 'read', offset: 0n, length: 4096 });
  });

  it('an unaligned READ of the maximum payload is read in pieces the device takes, never one past its cap', async () => {
    const c = await open({ blockSize: false });
    const max = 1024 * KiB; // serve()'s maxPayload, which the MemoryBackend enforces as dispatch does
    const data = randomBytes(max + 8192);
    c.send(NbdCmd.WRITE, 1n, 0n, max, { data: data.subarray(0, max) });
    c.send(NbdCmd.WRITE, 2n, BigInt(max), 8192, { data: data.subarray(max) });
    await c.readSimpleReply();
    await c.readSimpleReply();
    c.send(NbdCmd.READ, 3n, 1000n, max);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 3n });
    expect(await c.read(max)).toEqual(data.subarray(1000, 1000 + max));
    const reads = s.backend.commands.filter((x) => x.op === 'read');
    expect(reads.map((x) => [x.offset, x.length])).toEqual([
      [0n, max],
      [BigInt(max), 4096],
    ]);
  });

  it('a 512-byte-aligned WRITE from a client that did not agree block sizes is a read-modify-write of its blocks', async () => {
    const c = await open({ blockSize: false });
    const old = randomBytes(8192);
    c.send(NbdCmd.WRITE, 1n, 0n, 8192, { data: old });
    await c.readSimpleReply();
    const data = randomBytes(1536);
    c.send(NbdCmd.WRITE, 2n, 3584n, data.length, { data });
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 2n });
    const want = Buffer.from(old);
    data.copy(want, 3584);
    expect(s.backend.data.get('rnullb0')!.subarray(0, 8192)).toEqual(want);
    // Both blocks are partial: each is read, then both written whole.
    expect(s.backend.commands.slice(1).map((x) => [x.op, x.offset, x.length])).toEqual([
      ['read', 0n, 4096],
      ['read', 4096n, 4096],
      ['write', 0n, 8192],
    ]);
  });

  it('WRITEs into the same block from such a client never lose one another (held in arrival order)', async () => {
    const c = await open({ blockSize: false });
    const sectors = Array.from({ length: 8 }, (_, i) => Buffer.alloc(512, i + 1));
    sectors.forEach((d, i) => c.send(NbdCmd.WRITE, BigInt(i), BigInt(i * 512), 512, { data: d }));
    for (let i = 0; i < 8; i++) expect((await c.readSimpleReply()).errno).toBe(0);
    expect(s.backend.data.get('rnullb0')!.subarray(0, 4096)).toEqual(Buffer.concat(sectors));
  });

  it('an unaligned WRITE of the maximum payload is written in pieces the device takes', async () => {
    const c = await open({ blockSize: false });
    const max = 1024 * KiB;
    const data = randomBytes(max);
    c.send(NbdCmd.WRITE, 1n, 100n, max, { data });
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 1n });
    expect(s.backend.data.get('rnullb0')!.subarray(100, 100 + max)).toEqual(data);
    expect(s.backend.commands.filter((x) => x.op === 'write').map((x) => [x.offset, x.length])).toEqual([
      [0n, max],
      [BigInt(max), 4096],
    ]);
  });

  it.each([
    ['punched', 0],
    ['written (NO_HOLE)', NbdCmdFlag.NO_HOLE],
  ])(
    'a misaligned WRITE_ZEROES from such a client zeroes exactly its bytes: edges read-modify-written, whole blocks %s',
    async (_how, flags) => {
      const c = await open({ blockSize: false });
      const old = randomBytes(16384);
      c.send(NbdCmd.WRITE, 1n, 0n, old.length, { data: old });
      await c.readSimpleReply();
      c.send(NbdCmd.WRITE_ZEROES, 2n, 100n, 9000, { flags });
      expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 2n });
      const want = Buffer.from(old);
      want.fill(0, 100, 9100);
      expect(s.backend.data.get('rnullb0')!.subarray(0, 16384)).toEqual(want);
      const inner = s.backend.commands.find((x) => x.offset === 4096n && x.length === 4096);
      expect(inner?.op).toBe(flags ? 'write' : 'write-zeroes');
    },
  );

  it('a device error in the read half of a read-modify-write fails the WRITE and writes nothing', async () => {
    const c = await open({ blockSize: false });
    s.backend.hold = true;
    c.send(NbdCmd.WRITE, 1n, 512n, 512, { data: Buffer.alloc(512, 7) });
    while (s.backend.held.length < 1) await new Promise((r) => setTimeout(r, 5));
    s.backend.held[0].release({ errno: NbdErrno.EIO, message: 'IOERR from the driver' });
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 1n });
    expect(s.backend.commands.map((x) => x.op)).toEqual(['read']);
  });

  it('FUA reaches the device when the export supports it; WRITE_ZEROES with NO_HOLE writes zeros, without it punches', async () => {
    const c = await open();
    c.send(NbdCmd.WRITE, 1n, 0n, 4096, { data: Buffer.alloc(4096, 9), flags: NbdCmdFlag.FUA });
    c.send(NbdCmd.WRITE_ZEROES, 2n, 4096n, 8192, { flags: NbdCmdFlag.NO_HOLE });
    c.send(NbdCmd.WRITE_ZEROES, 3n, 16384n, 4096);
    c.send(NbdCmd.TRIM, 4n, 20480n + 100n, 8192);
    const cookies = [];
    for (let i = 0; i < 4; i++) cookies.push((await c.readSimpleReply()).cookie);
    expect(cookies.sort()).toEqual([1n, 2n, 3n, 4n]);
    const ops = s.backend.commands.map((x) => [x.op, x.offset, x.length, x.fua, x.data?.every((b) => b === 0)]);
    expect(ops).toEqual([
      ['write', 0n, 4096, true, false],
      ['write', 4096n, 8192, false, true],
      ['write-zeroes', 16384n, 4096, false, undefined],
      // TRIM is advisory: only the whole block inside [20580, 28772) is discarded.
      ['discard', 24576n, 4096, false, undefined],
    ]);
  });

  it('FUA is dropped for an export without FUA; TRIM on an export without discard is EINVAL', async () => {
    const c = await open({}, 'small');
    c.send(NbdCmd.WRITE, 1n, 0n, 512, { data: Buffer.alloc(512, 1), flags: NbdCmdFlag.FUA });
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0 });
    expect(s.backend.commands[0].fua).toBe(false);
    c.send(NbdCmd.TRIM, 2n, 0n, 512);
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EINVAL, cookie: 2n });
  });

  it('keeps many requests in flight and answers them as they complete, out of order', async () => {
    const c = await open();
    s.backend.hold = true;
    for (let i = 1; i <= 32; i++) c.send(NbdCmd.READ, BigInt(i), BigInt((i - 1) * 4096), 4096);
    while (s.backend.held.length < 32) await new Promise((r) => setTimeout(r, 5));
    for (const h of [...s.backend.held].reverse()) h.release();
    const order: bigint[] = [];
    for (let i = 0; i < 32; i++) {
      order.push((await c.readSimpleReply()).cookie);
      await c.read(4096);
    }
    expect(order[0]).toBe(32n);
    expect([...order].sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 32 }, (_, i) => BigInt(i + 1)));
  });

  it('requests that arrive in one chunk, and ones split across chunks, are each served once, in full', async () => {
    const c = await open();
    // 16 WRITEs, headers and payloads back to back in one socket write: the server parses
    // them from what it has buffered without waiting on the socket.
    const pages = Array.from({ length: 16 }, () => randomBytes(4096));
    c.write(
      Buffer.concat(pages.flatMap((data, i) => [RawNbdClient.request(NbdCmd.WRITE, BigInt(i + 1), BigInt(i * 4096), 4096, 0), data])),
    );
    for (let i = 0; i < 16; i++) expect((await c.readSimpleReply()).errno).toBe(0);
    // One READ header cut in two, a few milliseconds apart.
    const head = RawNbdClient.request(NbdCmd.READ, 99n, 0n, 16 * 4096, 0);
    c.write(head.subarray(0, 11));
    await new Promise((r) => setTimeout(r, 20));
    c.write(head.subarray(11));
    expect(await c.readSimpleReply()).toEqual({ magic: NBD_SIMPLE_REPLY_MAGIC, errno: 0, cookie: 99n });
    expect(await c.read(16 * 4096)).toEqual(Buffer.concat(pages));
  });

  it('a device error is the mapped errno in the reply', async () => {
    const c = await open();
    s.backend.hold = true;
    c.send(NbdCmd.WRITE, 5n, 0n, 4096, { data: Buffer.alloc(4096) });
    while (s.backend.held.length < 1) await new Promise((r) => setTimeout(r, 5));
    s.backend.held[0].release({ errno: NbdErrno.EIO, message: 'IOERR from the driver' });
    expect(await c.readSimpleReply()).toMatchObject({ errno: NbdErrno.EIO, cookie: 5n });
  });

  it('NBD_CMD_DISC: commands in flight are answered, then the server closes', async () => {
    const c = await open();
    s.backend.hold = true;
    c.send(NbdCmd.WRITE, 1n, 0n, 4096, { data: Buffer.alloc(4096, 3) });
    c.send(NbdCmd.DISC, 2n, 0n, 0);
    while (s.backend.held.length < 1) await new Promise((r) => setTimeout(r, 5));
    setTimeout(() => s.backend.releaseAll(), 50);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 1n });
    expect(await c.closedWithin(2000)).toBe(true);
    expect(s.closes).toEqual(['disconnect']);
    expect(s.backend.sessionsClosed).toBe(1);
  });

  it('a wrong request magic closes that connection only; another keeps working', async () => {
    const bad = await open();
    const good = await open();
    bad.write(RawNbdClient.request(NbdCmd.READ, 1n, 0n, 4096, 0, 0xdeadbeef));
    expect(await bad.closedWithin(2000)).toBe(true);
    good.send(NbdCmd.FLUSH, 9n, 0n, 0);
    expect(await good.readSimpleReply()).toMatchObject({ errno: 0, cookie: 9n });
    expect(s.closes).toEqual(['bad-magic']);
  });

  it('a WRITE shorter than announced, then a vanished client: nothing is submitted, the session closes', async () => {
    const c = await open();
    c.write(Buffer.concat([RawNbdClient.request(NbdCmd.WRITE, 1n, 0n, 8192), Buffer.alloc(1000)]));
    await new Promise((r) => setTimeout(r, 50));
    c.socket.end();
    while (s.closes.length < 1) await new Promise((r) => setTimeout(r, 5));
    expect(s.closes).toEqual(['client-vanished']);
    expect(s.backend.commands).toHaveLength(0);
    expect(s.backend.sessionsClosed).toBe(1);
  });

  it('a client that vanishes with commands in flight: they still run to their end before the session closes', async () => {
    const c = await open();
    s.backend.hold = true;
    for (let i = 0; i < 8; i++) c.send(NbdCmd.WRITE, BigInt(i), BigInt(i * 4096), 4096, { data: Buffer.alloc(4096, i) });
    while (s.backend.held.length < 8) await new Promise((r) => setTimeout(r, 5));
    c.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.backend.sessionsClosed).toBe(0);
    s.backend.releaseAll();
    while (s.closes.length < 1) await new Promise((r) => setTimeout(r, 5));
    expect(s.backend.sessionsClosed).toBe(1);
    expect(s.backend.data.get('rnullb0')![7 * 4096]).toBe(7);
  });

  it('a client that does not read its replies stops being read: submissions stay bounded', async () => {
    await s.server.close();
    s = await serve({ maxInFlight: 16, maxInFlightBytes: 64 * 1024 * KiB, replyHighWaterBytes: 256 * KiB });
    const c = await open();
    c.socket.pause();
    const n = 4000;
    const frames = [];
    for (let i = 0; i < n; i++) frames.push(RawNbdClient.request(NbdCmd.READ, BigInt(i), 0n, 1024 * KiB));
    c.write(Buffer.concat(frames));
    await new Promise((r) => setTimeout(r, 1500));
    const submitted = s.backend.commands.length;
    // 4000 MiB of replies asked for; the server stops at its high-water mark plus what the
    // kernel's socket buffers hold.
    expect(submitted).toBeLessThan(200);
    expect(submitted).toBeGreaterThan(0);
    c.socket.resume();
    let got = 0;
    while (got < 50) {
      const r = await c.readSimpleReply();
      expect(r.errno).toBe(0);
      await c.read(1024 * KiB);
      got++;
    }
    expect(s.backend.commands.length).toBeGreaterThan(submitted);
  });

  it('close() answers what was read, then closes every connection', async () => {
    const c = await open();
    s.backend.hold = true;
    c.send(NbdCmd.READ, 1n, 0n, 4096);
    while (s.backend.held.length < 1) await new Promise((r) => setTimeout(r, 5));
    const closed = s.server.close();
    setTimeout(() => s.backend.releaseAll(), 50);
    expect(await c.readSimpleReply()).toMatchObject({ errno: 0, cookie: 1n });
    await closed;
    expect(await c.closedWithin(2000)).toBe(true);
    expect(s.closes).toEqual(['stopped']);
    s = await serve();
  });
});
