// `npm start` as a user runs it: start (with two devices, null_blk's nr_devices), wait
// for ready, write and read with rnullctl, Ctrl-C, nothing left running.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { deleteKeys, REDIS_URL } from './support/cluster-fixture';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts the cluster with --nr-devices 2, serves rnullctl IO on rnullb0 and stops everything on Ctrl-C', async () => {
  const prefix = `e2e-start-${randomBytes(3).toString('hex')}:`;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-start-logs-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KEY_PREFIX: prefix, REDIS_URL, LOG_DIR: logDir };
  delete env.LOG_LEVEL;
  const child = spawn('npm', ['start', '--', '--nr-devices', '2'], {
    cwd: ROOT,
    env,
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const redis = new Redis(REDIS_URL);
  try {
    const until = Date.now() + 90_000;
    while (!out.includes('is ready') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain('rnull-cluster is ready');
    expect(out).toContain('127.0.0.1:50051');
    expect(out).toMatch(/disks rnullb0, rnullb1: 4096 MiB, blocksize 4096, irqmode 0, memory_backed 1, power on/);
    // A short status: full URLs, no service JSON inline; each service's log in its file.
    expect(out).toContain('http://127.0.0.1:9101/metrics');
    expect(out).not.toMatch(/"level":"info"/);
    expect(out).toContain(`service logs: ${logDir}/<service>.log`);
    expect(fs.readFileSync(path.join(logDir, 'dispatch.log'), 'utf8')).toMatch(/"service":"dispatch"/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-start-'));
    const data = randomBytes(3 * 4096);
    fs.writeFileSync(path.join(dir, 'in.bin'), data);
    const ctl = path.join(ROOT, 'bin/rnullctl');
    await run(ctl, ['io', 'write', '--disk', 'rnullb0', '--sector', '64', '--file', path.join(dir, 'in.bin')]);
    await run(ctl, [
      'io',
      'read',
      '--disk',
      'rnullb0',
      '--sector',
      '64',
      '--length',
      String(data.length),
      '--out',
      path.join(dir, 'out.bin'),
    ]);
    expect(Buffer.compare(fs.readFileSync(path.join(dir, 'out.bin')), data)).toBe(0);
    const list = await run(ctl, ['disk', 'list']);
    expect(list.stdout).toMatch(/rnullb0\s+on/);
    expect(list.stdout).toMatch(/rnullb1\s+on/);
    // The NBD gateway runs too, on its default port, with rnullb0 as an export.
    expect(out).toContain('NBD: nbd://127.0.0.1:10809/rnullb0');
    const info = JSON.parse((await run('nbdinfo', ['--json', 'nbd://127.0.0.1:10809/rnullb0'])).stdout);
    expect(info.exports[0]).toMatchObject({ 'export-name': 'rnullb0', 'export-size': 4096 * 1024 * 1024 });
    fs.rmSync(dir, { recursive: true, force: true });

    // The supervisor: a service killed under it comes back by itself.
    const { stdout: pids } = await run('pgrep', ['-g', String(child.pid), '-f', 'dist/services/completion/src/main.js']);
    process.kill(Number(pids.trim().split('\n')[0]), 'SIGKILL');
    const restarted = /↻ completion exited \(signal SIGKILL\); restart 1 in 0\.25 s[\s\S]*✓ completion/;
    for (const until = Date.now() + 30_000; !restarted.test(out) && Date.now() < until;) await new Promise((r) => setTimeout(r, 200));
    expect(out).toMatch(restarted);

    // Ctrl-C: SIGINT to the whole foreground process group.
    process.kill(-child.pid!, 'SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    expect(code).not.toBe('hung');
    expect(out).toContain('stopped.');
    expect(await waitGone(child.pid!)).toBe(false);
  } finally {
    if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    await deleteKeys(redis, `${prefix}*`);
    await redis.quit();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
});

async function waitGone(pgid: number): Promise<boolean> {
  for (let i = 0; i < 50 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  return groupAlive(pgid);
}

it('on a machine without Redis and without redis-server, says in one line how to get one', async () => {
  // A PATH with node and a shell only, and a REDIS_URL nothing answers at.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-no-redis-'));
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  try {
    const result = await run(path.join(bin, 'node'), [path.join(ROOT, 'dist/tools/cluster/start-cluster.js')], {
      cwd: ROOT,
      env: { PATH: bin, REDIS_URL: 'redis://127.0.0.1:1', HOME: os.tmpdir() },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    // "starting rnull-cluster…", then the one line.
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^npm start failed: no Redis answers at redis:\/\/127\.0\.0\.1:1 and redis-server is not on the PATH: /);
    expect(lines[1]).toContain('sudo apt-get install redis-server');
    expect(lines[1]).toContain('docker run -d -p 6379:6379 redis:7');
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});
