// npm start on a machine without Redis: the one line that says how to get one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findOrStartRedis } from './private-redis';

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
