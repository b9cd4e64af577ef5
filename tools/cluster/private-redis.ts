// Finds the Redis that `npm start` and the end-to-end tests use: the one at REDIS_URL if
// it answers, else a private `redis-server` on a free loopback port, else a clear error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { isRedisAuthError, readRedisCredentials, redactRedisUrl } from '#service-kit';
import { redisServerLaunch, type RedisHugePages } from './redis-server-options';

export interface RedisHandle {
  readonly url: string;
  /** Set when this process started the server; `stop()` ends it. */
  readonly child?: ChildProcess;
  stop(): Promise<void>;
}

/**
 * What `npm start` says, in one line, when no Redis answers at `url` and it cannot start
 * its own: the one package that lets it (Debian's redis-server), a container that is one,
 * or REDIS_URL for a Redis elsewhere.
 */
export const NO_REDIS_HINT = (url: string): string =>
  `no Redis answers at ${redactRedisUrl(url)} and redis-server is not on the PATH: install it (sudo apt-get install redis-server; ` +
  `npm start then runs its own), or run one (docker run -d -p 6379:6379 redis:7), or set REDIS_URL to yours`;

/**
 * Resolves true when a Redis at `url` answers PING within `timeoutMs`, or answers that it
 * wants other credentials (the services then stop at start naming REDIS_PASSWORD_FILE,
 * rather than run on a private Redis the user did not ask for).
 */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  // A refusal at connect comes as an 'error' event; the connect then fails "Connection is closed".
  let refused = false;
  r.on('error', (err) => (refused ||= isRedisAuthError(err)));
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch (err) {
    return refused || isRedisAuthError(err);
  } finally {
    r.disconnect();
  }
}

/**
 * The config file of a private redis-server, in its own 0700 directory: with REDIS_PASSWORD_FILE
 * set, the services' user (REDIS_USERNAME, or the default user) with that password, so the
 * services' settings hold against it as against any other Redis. The password goes in the
 * file, never on a command line another user's `ps` shows.
 */
function privateRedisConfig(dir: string): string {
  const credentials = readRedisCredentials(process.env);
  const file = path.join(dir, 'redis.conf');
  const lines = !credentials
    ? []
    : credentials.username
      ? ['user default off', `user ${credentials.username} on >${credentials.password} ~* &* +@all`]
      : [`requirepass ${credentials.password}`];
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  return file;
}

/**
 * The arguments every private redis-server of this project starts with: loopback only on
 * `port`, nothing kept on disk, its files in `dir`.
 */
export function privateRedisServerArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Uses REDIS_URL (default redis://127.0.0.1:6379) or starts a private redis-server, with
 * huge pages unless `hugePages` is 'off' (redis-server-options.ts).
 */
export async function findOrStartRedis(
  url = process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  hugePages: RedisHugePages = 'on',
): Promise<RedisHandle> {
  if (await redisAnswers(url)) return { url, stop: async () => undefined };
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8', env: process.env });
  if (which.status !== 0) {
    throw new Error(NO_REDIS_HINT(url));
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-redis-'));
  const launch = redisServerLaunch(hugePages);
  const child = spawn('redis-server', [privateRedisConfig(dir), ...privateRedisServerArgs(port, dir), ...launch.args], {
    stdio: 'ignore',
    env: launch.env,
  });
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(privateUrl, 200)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await redisAnswers(privateUrl))) {
    child.kill('SIGKILL');
    throw new Error(`started redis-server on port ${port} but it does not answer`);
  }
  return {
    url: privateUrl,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
