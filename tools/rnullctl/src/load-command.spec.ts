import { Status } from '#proto/grpc/blk/v1/block_device';
import { FakeOptions, FakeRnullServer } from './testing/fake-rnull-server';
import { runCli } from './testing/captured-io';

describe('rnullctl load (against the fake server)', () => {
  let fake: FakeRnullServer;
  const cli = (...argv: string[]) => runCli([...argv, '--address', fake.address]);

  async function start(options: FakeOptions = {}, createArgs: string[] = ['--power']): Promise<void> {
    fake = await FakeRnullServer.start(options);
    const created = await cli('disk', 'create', 'rnullb0', '--size', '64', ...createArgs);
    expect(created.code).toBe(0);
  }

  afterEach(async () => {
    await fake.stop();
  });

  it('runs --ios 2000 to a summary whose IO count is 2000', async () => {
    await start();
    const r = await cli('load', '--ios', '2000', '--qd', '32', '--batch', '8', '--rw', 'randrw');
    expect(r.err).not.toMatch(/rnullctl/); // progress lines only, no failure
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^disk\s+rnullb0 {2}rw=randrw bs=4096 qd=32 batch=8$/m);
    expect(r.out).toMatch(/^ios\s+2000 \(reads \d+, writes \d+, errors 0\)$/m);
    expect(r.out).toMatch(/^iops\s+\d+$/m);
    expect(r.out).toMatch(/^bandwidth\s+[\d.]+ MiB\/s$/m);
    expect(r.out).toMatch(/^latency\s+p50 \S+ {2}p99 \S+ {2}p99\.9 \S+ {2}max \S+/m);
    expect(fake.ios).toBe(2000);
  });

  it('prints the summary as JSON with --json', async () => {
    await start();
    const r = await cli('load', '--ios', '300', '--bs', '8k', '--rw', 'write', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ disk: 'rnullb0', rw: 'write', blockSize: 8192, ios: 300, writes: 300, bytes: 300 * 8192, errors: {} });
    expect(s.latency_ns.p99).toBeGreaterThan(0);
    expect(s.latency_ns.max).toBeGreaterThanOrEqual(s.latency_ns.p999);
  });

  it('reports errors by status and exits 1 after printing the summary', async () => {
    await start({ failEvery: { n: 100, status: Status.STATUS_TIMEOUT, message: 'injected timeout' } });
    const r = await cli('load', '--ios', '1000');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^ios\s+1000 \(.*errors 10\)$/m);
    expect(r.out).toMatch(/^ {2}STATUS_TIMEOUT\s+10 {2}e\.g\. "injected timeout"$/m);
    // A run that takes over a second on a loaded machine also prints progress lines ("[  1.0s] …").
    expect(
      r.err
        .split('\n')
        .filter((l) => !l.startsWith('['))
        .join('\n'),
    ).toBe('rnullctl load: load: 10 of 1000 IOs failed (STATUS_TIMEOUT 10)\n');
  });

  it('prints a progress line per second on a non-TTY stderr during a timed run', async () => {
    await start({ completionDelayMs: 1 });
    const r = await cli('load', '--seconds', '2', '--qd', '4');
    expect(r.code).toBe(0);
    const lines = r.err.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatch(/^\[\s+1\.\ds\]\s+\d+ IOs\s+\d+ IOPS\s+[\d.]+ MiB\/s {2}qd \d+$/);
    expect(r.out).toMatch(/^ios\s+\d+/m);
  }, 10_000);

  it('refuses a powered-off disk with the command that fixes it', async () => {
    await start({}, []);
    const r = await cli('load', '--ios', '10');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/disk rnullb0 is powered off: run 'rnullctl disk power rnullb0 on' first/);
  });

  it.each([
    [['--ios', '10', '--seconds', '1'], /give --seconds or --ios, not both/],
    [['--rw', 'sideways'], /--rw must be one of randread, randwrite, randrw, read, write, got 'sideways'/],
    [['--bs', '1000'], /--bs must be a multiple of 512/],
    [['--bs', '2048'], /--bs 2048 is not a multiple of disk rnullb0's block size 4096/],
    [['--qd', '0'], /--qd must be in 1..65536, got 0/],
  ])('rejects %j with a clear message', async (argv, message) => {
    await start();
    const r = await cli('load', ...argv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(fake.ios).toBe(0);
  });

  it('names NOT_FOUND for an unknown disk', async () => {
    await start();
    const r = await cli('load', '--disk', 'nope', '--ios', '10');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/GenDisk\.GetDisk failed: NOT_FOUND \(5\): disk 'nope' not found/);
  });
});
