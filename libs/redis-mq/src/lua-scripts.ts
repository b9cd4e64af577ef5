// Mirrors the kernel's registration of ops tables at module init: the loader that reads
// every `lua/verbObject-<numKeys>.lua` and defines it as a command on an ioredis client.
//
// Invariants:
//   - A script's name and key count come from its file name and nowhere else.
//   - Every script opens with a header comment naming its KEYS and ARGV; a file without
//     one is refused at load, so the house rule cannot rot.
//   - Shared Lua comes from one place: a line `-- #include name` is replaced by the file
//     `lua/include/name.lua` (once per script; includes do not nest). Redis scripts cannot
//     call each other, so this is the only way two scripts share code.
//   - Each client gets each script defined once (`scriptsFor` caches per client); ioredis
//     sends EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis restart is survived.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Redis } from 'ioredis';
import { scatters, sendScattered } from './scatter-command';

/** Every script this library ships, by the verbObject part of its file name. */
export type ScriptName =
  | 'applyPageOps'
  | 'pushMessage'
  | 'claimLeases'
  | 'reclaimExpired'
  | 'unclaimLeases'
  | 'queueBatch'
  | 'registerOwner'
  | 'renewOwner'
  | 'runPageOps'
  | 'runOwnedPageOps'
  | 'moveStagedPages'
  | 'takeBudget'
  | 'takeBandwidth'
  | 'endBatch'
  | 'layOutTagSpace'
  | 'layOutSharedTags'
  | 'takeSharedTags'
  | 'leaveSharedTags'
  | 'runZoneOps';

/** One script file, parsed. */
export interface LuaScript {
  readonly name: string;
  readonly file: string;
  readonly numberOfKeys: number;
  readonly readOnly: boolean;
  readonly lua: string;
  /** SHA1 of `lua`, as EVALSHA names it. */
  readonly sha: string;
}

/** An argument to a script: ioredis sends strings and numbers as text, Buffers as bytes. */
export type ScriptArg = string | number | Buffer;

const FILE_NAME = /^([a-z][A-Za-z]*)-(\d+)\.lua$/;
const INCLUDE = /^-- #include ([a-z][A-Za-z]*)$/gm;
const COMMAND_PREFIX = 'redisMq_';

/**
 * The directory of the .lua files: next to this module when run from source (ts-jest),
 * or back in the source tree when run from `dist/libs/redis-mq/src`. `moduleDir` is
 * this module's directory; tests pass others.
 */
export function luaDir(moduleDir: string = __dirname): string {
  const candidates = [path.join(moduleDir, 'lua'), path.resolve(moduleDir, '../../../../libs/redis-mq/src/lua')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`redis-mq: no lua directory in ${candidates.join(' or ')}`);
  return found;
}

function parseScript(dir: string, file: string): LuaScript {
  const m = FILE_NAME.exec(file);
  if (!m) throw new Error(`redis-mq: ${file}: want verbObject-<numKeys>.lua`);
  const lua = readFileSync(path.join(dir, file), 'utf8');
  const header = /^(?:--.*\n)+/.exec(lua)?.[0] ?? '';
  if (!/\bKEYS\b/.test(header) || !/\bARGV\b/.test(header)) {
    throw new Error(`redis-mq: ${file}: the opening comment must list KEYS and ARGV`);
  }
  const expanded = expandIncludes(dir, file, lua);
  return {
    name: m[1],
    file,
    numberOfKeys: Number(m[2]),
    readOnly: /^-- Read-only\./m.test(header),
    lua: expanded,
    sha: createHash('sha1').update(expanded).digest('hex'),
  };
}

/** `lua` with each `-- #include name` line replaced by `include/name.lua` of `dir`. */
function expandIncludes(dir: string, file: string, lua: string): string {
  const seen = new Set<string>();
  return lua.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) throw new Error(`redis-mq: ${file}: includes ${name} twice`);
    seen.add(name);
    const included = path.join(dir, 'include', `${name}.lua`);
    if (!existsSync(included)) throw new Error(`redis-mq: ${file}: no include ${included}`);
    return readFileSync(included, 'utf8').replace(/\n$/, '');
  });
}

let loaded: ReadonlyMap<string, LuaScript> | undefined;

/** Every script of `luaDir()`, read once per process. */
export function luaScripts(): ReadonlyMap<string, LuaScript> {
  if (!loaded) {
    const dir = luaDir();
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.lua'))
      .sort();
    const map = new Map<string, LuaScript>();
    for (const file of files) {
      const script = parseScript(dir, file);
      if (map.has(script.name)) throw new Error(`redis-mq: two scripts named ${script.name} in ${dir}`);
      map.set(script.name, script);
    }
    loaded = map;
  }
  return loaded;
}

type ScriptFn = (...args: ScriptArg[]) => Promise<unknown>;

/** The scripts defined on one client, called by name with their KEYS and ARGV. */
export class ScriptRunner {
  private readonly scripts: ReadonlyMap<string, LuaScript>;

  constructor(readonly redis: Redis) {
    this.scripts = luaScripts();
    for (const s of this.scripts.values()) {
      const command = COMMAND_PREFIX + s.name;
      if (!(command in redis)) {
        redis.defineCommand(command, { lua: s.lua, numberOfKeys: s.numberOfKeys, readOnly: s.readOnly });
      }
    }
  }

  /** Runs `name`; bulk replies come back as strings. */
  run(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (scatters(args)) return this.runScattered(name, keys, args, 'utf8');
    return this.fn(name, keys, '')(...keys, ...args);
  }

  /** Runs `name`; bulk replies come back as Buffers (binary page data). */
  runBuffer(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (scatters(args)) return this.runScattered(name, keys, args, null);
    return this.fn(name, keys, 'Buffer')(...keys, ...args);
  }

  /**
   * Runs `name` with payloads among its arguments as a ScatterCommand EVALSHA, so the
   * payloads are not copied into one Buffer first (scatter-command.ts). A NOSCRIPT reply
   * (Redis restarted, SCRIPT FLUSH, a Redis Cluster node that never ran it) sends it again
   * as EVAL with the script's text, which runs it and loads it on that very node (as
   * ioredis's own scripts do; SCRIPT LOAD could land on another node of a Cluster). Sent at
   * once, synchronously, like the defined commands: order with the commands around it on
   * the connection is kept (sendTogether).
   */
  private runScattered(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[], encoding: 'utf8' | null): Promise<unknown> {
    const s = this.script(name, keys);
    const rest = [s.numberOfKeys, ...keys, ...args];
    return sendScattered(this.redis, 'evalsha', [s.sha, ...rest], encoding).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return sendScattered(this.redis, 'eval', [s.lua, ...rest], encoding);
    });
  }

  private script(name: ScriptName, keys: readonly string[]): LuaScript {
    const s = this.scripts.get(name);
    if (!s) throw new Error(`redis-mq: no script ${name} in ${luaDir()}`);
    if (keys.length !== s.numberOfKeys) {
      throw new Error(`redis-mq: ${s.file} takes ${s.numberOfKeys} keys, got ${keys.length}`);
    }
    return s;
  }

  private fn(name: ScriptName, keys: readonly string[], suffix: '' | 'Buffer'): ScriptFn {
    this.script(name, keys);
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[COMMAND_PREFIX + name + suffix];
    return fn.bind(this.redis);
  }
}

const runners = new WeakMap<Redis, ScriptRunner>();

/** The one `ScriptRunner` of `redis`, defining the scripts on first use. */
export function scriptsFor(redis: Redis): ScriptRunner {
  let runner = runners.get(redis);
  if (!runner) {
    runner = new ScriptRunner(redis);
    runners.set(redis, runner);
  }
  return runner;
}
