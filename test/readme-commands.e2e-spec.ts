// The README's first two lines are the commands a fresh machine runs: they name the same
// steps CI runs (.ci/run), and tools/setup.sh installs what the README says it installs,
// as root with apt-get and as a user through sudo. The installs are shown with --dry-run
// on a PATH that lacks every tool, as a fresh Debian machine does.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PORTS } from '#service-kit';

const ROOT = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const setupScript = fs.readFileSync(path.join(ROOT, 'tools/setup.sh'), 'utf8');
/** The script's `command:package` requirements. */
const requirements = [...setupScript.matchAll(/^ {2}([a-z-]+):([a-z0-9-]+)$/gm)].map(([, command, pkg]) => ({ command, pkg }));

describe("the README's commands", () => {
  const [runLine, testLine] = readme.split('\n').filter((l) => l.startsWith('- Run '));

  it('the first two lines give the run and the test command', () => {
    expect(readme.split('\n').slice(2, 4)).toEqual([runLine, testLine]);
    expect(runLine).toMatch(/^- Run the cluster: `npm ci && npm start` /);
    expect(testLine).toMatch(/^- Run the tests: `npm run setup && npm ci && npm test` /);
    // Without Redis, the run line says how to get one.
    expect(runLine).toContain('`sudo apt-get install redis-server`');
  });

  it('CI runs the same steps: the setup script, npm ci, npm test', () => {
    const steps = fs
      .readFileSync(path.join(ROOT, '.ci/run'), 'utf8')
      .split('\n')
      .filter((l) => /^(bash|npm) /.test(l));
    expect(steps).toEqual(['bash tools/setup.sh', 'npm ci --no-audit --no-fund', 'npm test']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.setup).toBe('bash tools/setup.sh');
  });

  it('the test line names every package the setup script installs', () => {
    expect(requirements.map((r) => r.pkg)).toEqual([
      'redis-server',
      'redis-tools',
      'docker-compose',
      'prometheus',
      'fio',
      'libnbd-bin',
      'qemu-utils',
      'nbdkit',
    ]);
    for (const { pkg } of requirements) expect(testLine).toContain(`\`${pkg}\``);
  });
});

describe("tools/setup.sh's reserved ports", () => {
  it('are the default ports in the ephemeral range, so no outgoing connection takes one from npm start', () => {
    const listed = setupScript
      .match(/^ephemeral_default_ports=\(([0-9 ]+)\)$/m)?.[1]
      .split(' ')
      .map(Number);
    const [low, high] = [32768, 60999]; // Linux's default ip_local_port_range
    expect(listed).toEqual(Object.values(DEFAULT_PORTS).filter((p) => p >= low && p <= high));
  });
});

describe('tools/setup.sh --dry-run on a machine with none of the tools', () => {
  let bin: string;

  beforeEach(() => {
    // bash and what the script itself calls; apt-get and sudo as stubs it only looks for.
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-setup-'));
    for (const tool of ['bash', 'dirname', 'env', 'seq', 'sleep']) fs.symlinkSync(which(tool), path.join(bin, tool));
    stub('apt-get', 'exit 99');
  });
  afterEach(() => fs.rmSync(bin, { recursive: true, force: true }));

  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!${which('bash')}\n${body}\n`, { mode: 0o755 });
  const setup = (env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(which('bash'), [path.join(ROOT, 'tools/setup.sh'), '--dry-run'], { env: { PATH: bin, ...env } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    );
  const everyPackage = () => requirements.map((r) => r.pkg).join(' ');

  it('as root: apt-get installs every package, and a Redis is started on 127.0.0.1:6379', async () => {
    stub('id', 'echo 0');
    const r = await setup();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`setup: installing ${everyPackage()}\n`);
    expect(r.stdout).toContain('setup: apt-get update -qq\n');
    expect(r.stdout).toContain(`setup: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${everyPackage()}\n`);
    expect(r.stdout).toMatch(/setup: redis-server --daemonize yes --bind 127\.0\.0\.1 --port 6379 --save {2}--appendonly no/);
  });

  it('as a user with sudo: the same through sudo', async () => {
    stub('id', 'echo 1000');
    stub('sudo', 'exit 99');
    const r = await setup();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('setup: sudo apt-get update -qq\n');
    expect(r.stdout).toContain(`setup: sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${everyPackage()}\n`);
  });

  it('as a user without sudo: fails, saying what to install as root', async () => {
    stub('id', 'echo 1000');
    const r = await setup();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run as root: apt-get install ${everyPackage()}`);
  });

  it('with only some tools missing, installs only those; with REDIS_URL set, starts no Redis', async () => {
    stub('id', 'echo 0');
    for (const { command } of requirements.filter((r) => r.pkg !== 'fio' && r.pkg !== 'nbdkit')) stub(command, 'exit 0');
    const r = await setup({ REDIS_URL: 'redis://10.0.0.5:6379' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('setup: installing fio nbdkit\n');
    expect(r.stdout).toContain('setup: REDIS_URL=redis://10.0.0.5:6379: the tests use that Redis\n');
    expect(r.stdout).not.toContain('redis-server --daemonize');
  });
});

function which(tool: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin']) if (fs.existsSync(path.join(dir, tool))) return path.join(dir, tool);
  throw new Error(`${tool} is not in /usr/bin or /bin`);
}
