import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO_CHUNK_BYTES } from './io-commands';
import { FakeRnullServer } from './testing/fake-rnull-server';
import { runCli, CliRunOptions } from './testing/captured-io';

describe('rnullctl io (against the fake server)', () => {
  let fake: FakeRnullServer;
  let dir: string;
  const cli = (argv: string[], options?: CliRunOptions) => runCli([...argv, '--address', fake.address], options);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rnullctl-io-'));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    fake = await FakeRnullServer.start();
    const created = await cli(['disk', 'create', 'd0', '--size', '16', '--discard', '1', '--power']);
    expect(created.code).toBe(0);
  });

  afterEach(async () => {
    await fake.stop();
  });

  async function file(name: string, data: Buffer): Promise<string> {
    const p = path.join(dir, name);
    await fs.writeFile(p, data);
    return p;
  }

  it('writes a file and reads the same bytes back to stdout, across request-size chunks', async () => {
    const data = randomBytes(IO_CHUNK_BYTES + 8192);
    const w = await cli(['io', 'write', '--disk', 'd0', '--sector', '64', '--file', await file('big.bin', data)]);
    expect(w.err).toBe('');
    expect(w.code).toBe(0);
    expect(w.out).toBe(`wrote ${data.length} bytes to d0 at sector 64\n`);
    expect(fake.ios).toBe(2);

    const r = await cli(['io', 'read', '--disk', 'd0', '--sector', '64', '--length', String(data.length)]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('reads into a file with --out and reads unwritten sectors as zeros', async () => {
    const data = randomBytes(4096);
    await cli(['io', 'write', '--disk', 'd0', '--sector', '0', '--file', await file('one.bin', data)]);
    const out = path.join(dir, 'out.bin');
    const r = await cli(['io', 'read', '--disk', 'd0', '--sector', '0', '--length', '8k', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`read 8192 bytes from d0 at sector 0 to ${out}\n`);
    const back = await fs.readFile(out);
    expect(back.subarray(0, 4096).equals(data)).toBe(true);
    expect(back.subarray(4096).equals(Buffer.alloc(4096))).toBe(true);
  });

  it('refuses to write raw bytes to a terminal', async () => {
    const r = await cli(['io', 'read', '--disk', 'd0', '--sector', '0', '--length', '4096'], { stdoutIsTTY: true });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to write raw bytes to a terminal: give --out F or pipe stdout/);
    expect(r.stdout.length).toBe(0);
  });

  it('writes stdin with --file -', async () => {
    const data = randomBytes(3 * 4096);
    const w = await cli(['io', 'write', '--disk', 'd0', '--sector', '8', '--file', '-'], { stdin: data });
    expect(w.code).toBe(0);
    const r = await cli(['io', 'read', '--disk', 'd0', '--sector', '8', '--length', String(data.length)]);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('refuses a file that is not a multiple of the block size, before any IO', async () => {
    const p = await file('odd.bin', randomBytes(5000));
    const w = await cli(['io', 'write', '--disk', 'd0', '--sector', '0', '--file', p]);
    expect(w.code).toBe(1);
    expect(w.err).toBe(`rnullctl io write: ${p} is 5000 bytes, not a multiple of disk d0's block size 4096\n`);
    expect(fake.ios).toBe(0);
  });

  it.each([
    [['--sector', '3', '--length', '4096'], /sector 3 is not aligned to disk d0's block size 4096 \(use a multiple of 8\)/],
    [['--sector', '32760', '--length', '8192'], /sectors 32760\.\.32775 run past the end of disk d0 \(32768 sectors\)/],
    [['--sector', '0', '--length', '100'], /--length is 100 bytes, not a multiple of disk d0's block size 4096/],
    [['--sector', 'x', '--length', '4096'], /--sector must be an integer, got 'x' \(see 'rnullctl io read --help'\)/],
    [['--length', '4096'], /missing --sector/],
  ])('rejects a bad read range %j with a clear message', async (extra, message) => {
    const r = await cli(['io', 'read', '--disk', 'd0', ...extra]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.stdout.length).toBe(0);
  });

  it('names a file it cannot read', async () => {
    const r = await cli(['io', 'write', '--disk', 'd0', '--sector', '0', '--file', path.join(dir, 'missing.bin')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*missing\.bin: ENOENT/);
  });

  it('names the gRPC status of an unknown disk and of a powered-off one', async () => {
    const unknown = await cli(['io', 'flush', '--disk', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/BlockDevice\.Submit failed: NOT_FOUND \(5\): disk 'nope' not found/);

    await cli(['disk', 'power', 'd0', 'off']);
    const off = await cli(['io', 'read', '--disk', 'd0', '--sector', '0', '--length', '4096']);
    expect(off.code).toBe(1);
    expect(off.err).toBe("rnullctl io read: BlockDevice.Submit failed: UNAVAILABLE (14): disk 'd0' is powered off\n");
  });

  it('discards and writes zeroes over written data', async () => {
    await cli(['io', 'write', '--disk', 'd0', '--sector', '0', '--file', await file('ff.bin', Buffer.alloc(16384, 0xff))]);
    const d = await cli(['io', 'discard', '--disk', 'd0', '--sector', '0', '--length', '4k']);
    expect(d.out).toBe('discarded 4096 bytes of d0 at sector 0\n');
    const z = await cli(['io', 'write-zeroes', '--disk', 'd0', '--sector', '16', '--length', '4096']);
    expect(z.out).toBe('zeroed 4096 bytes of d0 at sector 16\n');
    const r = await cli(['io', 'read', '--disk', 'd0', '--sector', '0', '--length', '16k']);
    const expected = Buffer.concat([Buffer.alloc(4096), Buffer.alloc(4096, 0xff), Buffer.alloc(4096), Buffer.alloc(4096, 0xff)]);
    expect(r.stdout.equals(expected)).toBe(true);
  });

  it('fails with the completion status name and message when the IO ends non-OK', async () => {
    await cli(['disk', 'create', 'nodiscard', '--size', '4', '--power']);
    const r = await cli(['io', 'discard', '--disk', 'nodiscard', '--sector', '0', '--length', '4096']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'rnullctl io discard: DISCARD nodiscard sector 0 (4096 bytes) completed with STATUS_NOTSUPP: discard: disk has discard=0\n',
    );
  });

  it('flushes', async () => {
    const r = await cli(['io', 'flush', '--disk', 'd0']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('flushed d0\n');
  });
});
