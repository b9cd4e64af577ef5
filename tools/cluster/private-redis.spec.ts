// npm start on a machine without Redis: the one line that says how to get one.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { findOrStartRedis, freePort } from './private-redis';

describe('findOrStartRedis without a Redis and without redis-server', () => {
  const savedPath = process.env.PATH;
  let bin: string;

  beforeEach(() => {
    // A PATH with a shell and nothing else: no redis-server to start.
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-no-redis-'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
    process.env.PATH = bin;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('fails with one line naming the package, a container and REDIS_URL', async () => {
    const err = await findOrStartRedis('redis://127.0.0.1:1').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).not.toContain('\n');
    expect(err!.message).toMatch(/^no Redis answers at redis:\/\/127\.0\.0\.1:1 and redis-server is not on the PATH: /);
    expect(err!.message).toContain('sudo apt-get install redis-server');
    expect(err!.message).toContain('docker run -d -p 6379:6379 redis:7');
    expect(err!.message).toContain('REDIS_URL');
  });
});

describe("npm start's private redis-server with REDIS_PASSWORD_FILE", () => {
  const saved = { user: process.env.REDIS_USERNAME, file: process.env.REDIS_PASSWORD_FILE };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-private-auth-'));
    fs.writeFileSync(path.join(dir, 'pw'), 'pw-private-5e1d\n');
    process.env.REDIS_PASSWORD_FILE = path.join(dir, 'pw');
  });
  afterEach(() => {
    for (const [k, v] of [
      ['REDIS_USERNAME', saved.user],
      ['REDIS_PASSWORD_FILE', saved.file],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['the default user', undefined],
    ['an ACL user', 'rnull'],
  ])('takes the services’ credentials (%s), from a file rather than its command line', async (_, username) => {
    if (username) process.env.REDIS_USERNAME = username;
    else delete process.env.REDIS_USERNAME;
    const port = await freePort();
    const handle = await findOrStartRedis(`redis://127.0.0.1:${port}`, 'off');
    const known = new Redis(handle.url, { username, password: 'pw-private-5e1d', lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      expect(handle.child).toBeDefined();
      expect(handle.child!.spawnargs.join(' ')).not.toContain('pw-private-5e1d');
      // No credentials: refused (a raw socket, so no client library reconnects or retries).
      expect(await rawReply(handle.url, 'GET x')).toMatch(/^-(NOAUTH|NOPERM)/);
      await known.connect();
      expect(await known.ping()).toBe('PONG');
    } finally {
      known.disconnect();
      await handle.stop();
    }
  });
});

/** The first line of Redis's reply to one inline command, sent on a raw socket with no AUTH. */
function rawReply(url: string, command: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    s.on('error', reject);
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().split('\r\n')[0]);
    });
    s.write(`${command}\r\n`);
  });
}
