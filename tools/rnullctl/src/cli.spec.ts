import { COMMANDS } from './cli';
import { FakeRnullServer } from './testing/fake-rnull-server';
import { runCli } from './testing/captured-io';

describe('rnullctl top level', () => {
  it('prints the tool help with every command on --help, help, and -h', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: rnullctl COMMAND/);
      for (const c of COMMANDS) expect(r.out).toContain(`  ${c.words.join(' ')}`);
    }
  });

  it.each(COMMANDS.map((c) => [c.words.join(' ')]))('has --help for %s', async (words) => {
    const r = await runCli([...words.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^usage: rnullctl ${words}`));
    expect(r.out).toContain('--address HOST:PORT');
  });

  it('prints a group help for `disk --help` and `help io`', async () => {
    const disk = await runCli(['disk', '--help']);
    expect(disk.code).toBe(0);
    expect(disk.out).toMatch(/^usage: rnullctl disk COMMAND/);
    expect(disk.out).toContain('disk create NAME');
    expect(disk.out).not.toContain('io write');
    const io = await runCli(['help', 'io']);
    expect(io.out).toMatch(/^usage: rnullctl io COMMAND/);
    expect(io.out).toContain('io write-zeroes');
    const create = await runCli(['help', 'disk', 'create']);
    expect(create.code).toBe(0);
    expect(create.out).toMatch(/^usage: rnullctl disk create NAME \[options\]/);
  });

  it('fails with exit code 1 and the help on stderr for no or an unknown command', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^rnullctl: no command given\n/);
    const unknown = await runCli(['disk', 'explode', 'd0']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^rnullctl: unknown command 'disk explode'\n\nusage: rnullctl disk COMMAND/);
    expect(unknown.out).toBe('');
  });

  it('names an unknown option and points at the command help', async () => {
    const r = await runCli(['disk', 'list', '--colour']);
    expect(r.code).toBe(1);
    expect(r.err).toBe("rnullctl disk list: unknown option --colour (see 'rnullctl disk list --help')\n");
  });

  it('refuses a token with spaces and a certificate directory that is not there, before any call, never echoing the token', async () => {
    const token = await runCli(['disk', 'list', '--address', '127.0.0.1:1'], { env: { RNULL_TOKEN: 'secret value' } });
    expect(token.code).toBe(1);
    expect(token.err).toBe(
      "rnullctl disk list: --token (or RNULL_TOKEN) must be one token of visible ASCII characters (see 'rnullctl disk list --help')\n",
    );
    const tls = await runCli(['disk', 'list', '--address', '127.0.0.1:1', '--tls-certificates', '/nonexistent/pki']);
    expect(tls.err).toBe('rnullctl disk list: --tls-certificates=/nonexistent/pki: no such directory\n');
  });

  it('says UNAVAILABLE and which address it tried when nothing listens', async () => {
    const fake = await FakeRnullServer.start();
    const address = fake.address;
    await fake.stop();
    const r = await runCli(['disk', 'list', '--address', address, '--deadline-ms', '5000']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /GenDisk\.ListDisks failed: UNAVAILABLE \(14\): .*\(is dispatch listening on 127\.0\.0\.1:\d+\? set --address or RNULL_ADDRESS; if it speaks TLS, --tls-certificates DIR\)/,
    );
  });

  describe('address', () => {
    let fake: FakeRnullServer;

    beforeEach(async () => {
      fake = await FakeRnullServer.start();
    });

    afterEach(async () => {
      await fake.stop();
    });

    it('takes RNULL_ADDRESS from the environment', async () => {
      const r = await runCli(['disk', 'create', 'env0'], { env: { RNULL_ADDRESS: fake.address } });
      expect(r.code).toBe(0);
      expect(fake.disks.has('env0')).toBe(true);
    });

    it('prefers --address to RNULL_ADDRESS and accepts global options before the command', async () => {
      const r = await runCli(['--address', fake.address, 'disk', 'create', 'g0'], { env: { RNULL_ADDRESS: '127.0.0.1:1' } });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(fake.disks.has('g0')).toBe(true);
      const eq = await runCli([`--address=${fake.address}`, 'disk', 'show', 'g0', '--json']);
      expect(JSON.parse(eq.out).name).toBe('g0');
      const between = await runCli(['disk', '--address', fake.address, 'list']);
      expect(between.code).toBe(0);
      expect(between.out).toMatch(/^g0\s+off/m);
    });
  });
});
