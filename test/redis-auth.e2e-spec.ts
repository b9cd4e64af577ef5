// Redis that checks who connects (issue 15 part 3, DESIGN I20): a private redis-server on
// loopback with the ACL file deploy/auth/make-tokens.sh makes for compose; the cluster runs
// on it with each service as its own user and does IO; a user cannot run what its rules
// leave out; a wrong or missing password stops a service at start, naming the setting and
// printing no secret. Also: with no HTTP_HOST, services serve /metrics on loopback only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { createDisk, type Fixture, startCluster, submit } from './support/cluster-fixture';
import { freePort, privateRedisServerArgs, redisAnswers } from '../tools/cluster/private-redis';
import { ServiceProcess } from '../tools/cluster/service-process';

const SERVICES = ['gendisk', 'dispatch', 'rnull', 'completion'] as const;
const ROOT = path.resolve(__dirname, '..');

let dir: string;
let redisServer: ChildProcess;
let url: string;
let port: number;
/** Each service's password, as make-tokens.sh wrote it. */
const passwords = new Map<string, string>();
const passwordFile = (service: string) => path.join(dir, `redis-${service}-password`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-redis-auth-'));
  fs.copyFileSync(path.join(ROOT, 'deploy/auth/make-tokens.sh'), path.join(dir, 'make-tokens.sh'));
  await new Promise<void>((resolve, reject) =>
    execFile('sh', [path.join(dir, 'make-tokens.sh')], (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );
  for (const s of SERVICES) passwords.set(s, fs.readFileSync(passwordFile(s), 'utf8').trim());
  port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redisServer = spawn('redis-server', [...privateRedisServerArgs(port, dir), '--aclfile', path.join(dir, 'redis-users.acl')], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await redisAnswers(url, 200)); i++) await new Promise((r) => setTimeout(r, 50));
}, 30_000);

afterAll(async () => {
  if (redisServer && redisServer.exitCode === null) {
    const exited = new Promise((r) => redisServer.once('exit', r));
    redisServer.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The secrets no output line may hold. */
const secrets = () => [...passwords.values()];

describe('the cluster on a Redis with an ACL user per service', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startCluster({
      redisUrl: url,
      serviceEnv: (service) => ({ REDIS_USERNAME: service, REDIS_PASSWORD_FILE: passwordFile(service) }),
    });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  it('does IO, each service connected as its own user, and no line of output holds a password', async () => {
    await createDisk(f, 'auth0', { size: 16n });
    const block = Buffer.alloc(4096, 0x5a);
    expect((await submit(f, { disk: 'auth0', op: Op.OP_WRITE, length: 4096, data: block })).status).toBe(Status.STATUS_OK);
    const read = await submit(f, { disk: 'auth0', op: Op.OP_READ, length: 4096 });
    expect([read.status, Buffer.from(read.data).equals(block)]).toEqual([Status.STATUS_OK, true]);
    const lines = f.lines().join('\n');
    for (const s of secrets()) expect(lines).not.toContain(s);
  });

  it("refuses a service user's commands outside its rules (FLUSHALL, CONFIG, KEYS, ACL, FUNCTION) and every command but PING without a user", async () => {
    const asDispatch = new Redis(url, { username: 'dispatch', password: passwords.get('dispatch'), maxRetriesPerRequest: 0 });
    const anonymous = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    anonymous.on('error', () => undefined);
    try {
      const refusal = (p: Promise<unknown>) =>
        p.then(
          () => 'allowed',
          (e: Error) => e.message.split(' ')[0],
        );
      expect(await asDispatch.set(`${f.prefix}probe`, '1')).toBe('OK');
      expect({
        flushall: await refusal(asDispatch.flushall()),
        config: await refusal(asDispatch.config('SET', 'maxmemory', '1')),
        keys: await refusal(asDispatch.keys('*')),
        acl: await refusal(asDispatch.call('ACL', 'LIST')),
        function: await refusal(asDispatch.call('FUNCTION', 'FLUSH')),
        shutdown: await refusal(asDispatch.call('SHUTDOWN', 'NOSAVE')),
      }).toEqual({ flushall: 'NOPERM', config: 'NOPERM', keys: 'NOPERM', acl: 'NOPERM', function: 'NOPERM', shutdown: 'NOPERM' });
      await asDispatch.del(`${f.prefix}probe`);
      // The default user: the health check's PING, nothing else (no data).
      const raw = await rawCommands(port, ['PING', `GET ${f.prefix}x`]);
      expect(raw).toEqual(['+PONG', expect.stringMatching(/^-NOPERM/)]);
    } finally {
      asDispatch.disconnect();
      anonymous.disconnect();
    }
  });

  it('serves /metrics and /healthz on loopback only when HTTP_HOST is unset', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    expect(external).toBeDefined();
    for (const p of f.cluster.processes) {
      const { http } = await p.ready;
      expect([p.spec.label, await connects('127.0.0.1', http)]).toEqual([p.spec.label, true]);
      expect([p.spec.label, await connects(external!, http)]).toEqual([p.spec.label, false]);
    }
  });
});

describe('a service whose Redis credentials are wrong or missing', () => {
  /** Starts gendisk alone with `env`, waits for it to exit, returns its exit code and output. */
  async function startAlone(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const p = new ServiceProcess({
      service: 'gendisk',
      label: 'gendisk',
      env: { REDIS_URL: url, KEY_PREFIX: 'e2e-auth-alone:', HTTP_PORT: '0', GRPC_URL: `127.0.0.1:${await freePort()}`, ...env },
    });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([p.exited, new Promise<'running'>((r) => (timer = setTimeout(() => r('running'), 20_000)))]);
    clearTimeout(timer);
    if (code === 'running') await p.kill();
    return { code: code === 'running' ? null : code, output: p.recentLines().join('\n') };
  }

  const wrongFile = () => {
    const file = path.join(dir, 'wrong-password');
    fs.writeFileSync(file, 'wrong-7b2e91-not-the-password\n');
    return file;
  };

  it.each([
    [
      'a wrong password',
      () => ({ REDIS_USERNAME: 'gendisk', REDIS_PASSWORD_FILE: wrongFile() }),
      /REDIS_USERNAME=gendisk and REDIS_PASSWORD_FILE=.*wrong-password/,
    ],
    [
      "another service's password",
      () => ({ REDIS_USERNAME: 'gendisk', REDIS_PASSWORD_FILE: passwordFile('rnull') }),
      /REDIS_PASSWORD_FILE=/,
    ],
    ['no password', () => ({}), /REDIS_PASSWORD_FILE \(unset/],
    [
      'a wrong password in REDIS_URL',
      () => ({ REDIS_URL: `redis://gendisk:wrong-7b2e91-in-url@127.0.0.1:${port}` }),
      /REDIS_URL=redis:\/\/gendisk:\*\*\*@/,
    ],
    [
      'a missing password file',
      () => ({ REDIS_USERNAME: 'gendisk', REDIS_PASSWORD_FILE: path.join(dir, 'absent') }),
      /REDIS_PASSWORD_FILE=.*absent cannot be read/,
    ],
  ])(
    'stops at start on %s, naming the setting and printing no secret',
    async (_, env, names) => {
      const { code, output } = await startAlone(env());
      expect(code).toBe(1);
      expect(output).toMatch(names);
      for (const s of [...secrets(), 'wrong-7b2e91']) expect(output).not.toContain(s);
    },
    30_000,
  );
});

/** Sends inline commands to Redis on a raw socket (no client-side auth, no HELLO) and returns each reply's first line. */
function rawCommands(redisPort: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(redisPort, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      const lines = got.split('\r\n').filter(Boolean);
      if (lines.length >= commands.length) {
        s.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
    s.on('error', reject);
    s.write(commands.map((c) => `${c}\r\n`).join(''));
  });
}

/** True when a TCP connection to host:port is accepted. */
function connects(host: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p, host);
    s.setTimeout(3000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
