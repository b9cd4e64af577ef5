import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FencedPages } from './fenced-pages';
import { luaDir, luaScripts, scriptsFor } from './lua-scripts';
import { OwnerRegistry } from './owner-registry';
import { PageStore } from './page-store';
import { ScatterCommand } from './scatter-command';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('lua-scripts');
afterAll(() => env.close());

describe('lua-scripts', () => {
  it('finds the lua directory next to the sources, and from the compiled dist tree', () => {
    expect(luaDir()).toBe(path.join(__dirname, 'lua'));
    const root = path.resolve(__dirname, '../../..');
    expect(luaDir(path.join(root, 'dist/libs/redis-mq/src'))).toBe(path.join(__dirname, 'lua'));
    expect(() => luaDir('/nonexistent/a/b/c/d')).toThrow(/no lua directory/);
  });

  it('loads every verbObject-<numKeys>.lua with its key count and a KEYS/ARGV header', () => {
    const files = readdirSync(luaDir()).filter((f) => f.endsWith('.lua'));
    const scripts = luaScripts();
    expect(scripts.size).toBe(files.length);
    for (const s of scripts.values()) {
      expect(s.file).toBe(`${s.name}-${s.numberOfKeys}.lua`);
      expect(s.lua.startsWith(`-- ${s.name}:`)).toBe(true);
      expect(s.sha).toMatch(/^[0-9a-f]{40}$/);
      for (let k = 1; k <= s.numberOfKeys; k++) expect(s.lua).toContain(`KEYS[${k}]`);
    }
    expect(scripts.get('queueBatch')?.numberOfKeys).toBe(6);
    expect(scripts.get('endBatch')?.readOnly).toBe(false);
  });

  it('expands `-- #include name` from lua/include, so shared Lua lives in one file', () => {
    for (const s of luaScripts().values()) expect(s.lua).not.toMatch(/^-- #include /m);
    expect(luaScripts().get('runPageOps')?.lua).toContain('local function newPageRanges(PAGE, stored, indexKey, prefix)');
  });

  it('defines the scripts once per client and refuses a wrong key count', async () => {
    const runner = scriptsFor(env.redis);
    expect(scriptsFor(env.redis)).toBe(runner);
    expect(() => runner.run('queueBatch', ['only-one'], [])).toThrow(/queueBatch-6.lua takes 6 keys, got 1/);
    const keys = env.keys();
    const reply = await runner.run(
      'layOutTagSpace',
      [keys.tableMeta('d'), keys.tagBudget('d'), keys.owners('d')],
      [1, 4, 0, 'on-drop', ''],
    );
    expect(reply).toBe(1);
  });

  it('survives SCRIPT FLUSH by re-sending the script (NOSCRIPT fallback)', async () => {
    const runner = scriptsFor(env.redis);
    const keys = env.keys();
    const args = [keys.tableMeta('d'), keys.tagBudget('d'), keys.owners('d')];
    expect(await runner.run('layOutTagSpace', args, [1, 4, 0, 'on-drop', ''])).toBe(1);
    const other = env.redis.duplicate();
    try {
      await other.script('FLUSH');
    } finally {
      await other.quit();
    }
    expect(await runner.run('layOutTagSpace', args, [1, 4, 0, 'on-drop', ''])).toBe(0);
  });

  it('runs a script with a payload argument as a ScatterCommand EVALSHA, and after SCRIPT FLUSH once as EVAL', async () => {
    const keys = env.keys();
    const epoch = await new OwnerRegistry(env.redis, keys).register('d', 60_000);
    const pages = new FencedPages(env.redis, keys);
    const sent = jest.spyOn(env.redis, 'sendCommand');
    const write = async (data: Buffer) => {
      // 2 KiB inside page 0: not whole pages, so the bytes go to runOwnedPageOps as an argument.
      expect(await pages.runOwned('d', epoch, [{ op: 'write', sector: 1, bytes: data.length, data }])).toEqual({
        status: 'ok',
        results: [0],
      });
      expect((await new PageStore(env.redis, keys).read('d', 1, data.length)).equals(data)).toBe(true);
    };
    const scattered = () => sent.mock.calls.map(([c]) => c).filter((c) => c instanceof ScatterCommand);
    try {
      await write(randomBytes(2048));
      expect(scattered().map((c) => c.name)).toContain('evalsha');
      const other = env.redis.duplicate();
      try {
        await other.script('FLUSH');
      } finally {
        await other.quit();
      }
      sent.mockClear();
      await write(randomBytes(2048));
      expect(scattered().map((c) => c.name)).toEqual(['evalsha', 'eval']); // refused NOSCRIPT, sent again with the script's text
      sent.mockClear();
      await write(randomBytes(2048));
      expect(scattered().map((c) => c.name)).toEqual(['evalsha']); // the EVAL loaded it
    } finally {
      sent.mockRestore();
      await env.cleanup();
    }
  });
});
