// Redis CPU per 4 KiB overwrite of four ways to put a batch of whole pages into a store of
// one key per page (DESIGN I8), in isolation: K random pages of 65,536 stored ones a call,
// four calls in flight, two rounds (docs/bench/v2-lean/script-variants.txt). What a fenced
// move can cost at best, against the floor of any such store:
//   mset-direct+sadd   MSET into the page keys and SADD, unfenced (not an option: I4)
//   stage+rename       MSET into stage keys, a script that checks the owner and RENAMEs
//   stage+rename+sadd  the same and the index SADD (what moveStagedPages-2.lua does)
//   argv-mset+sadd     the bytes as script arguments, MSET and SADD from Lua
//   node tools/bench/fenced-move-variants.js REDIS_URL [K]   (K default 11; uses the key
//   prefix fmv: and deletes it after)
const { Redis } = require('ioredis');

const PAGES = 65536;
const BATCHES = 4000;

const FENCE = "if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -6 end\n";
const RENAME = `${FENCE}local n = (#ARGV - 1) / 2
for i = 1, n do redis.call('RENAME', ARGV[1 + i], ARGV[1 + n + i]) end
return 0`;
const RENAME_SADD = `${FENCE}local n = (#ARGV - 1) / 3
local added = {}
for i = 1, n do
  redis.call('RENAME', ARGV[1 + i], ARGV[1 + n + i])
  added[i] = ARGV[1 + 2 * n + i]
end
redis.call('SADD', KEYS[1], unpack(added))
return 0`;
const ARGV_MSET = `${FENCE}local n = (#ARGV - 1) / 3
local kv, added = {}, {}
for i = 1, n do
  kv[2 * i - 1] = ARGV[1 + n + i]; kv[2 * i] = ARGV[1 + 2 * n + i]; added[i] = ARGV[1 + i]
end
redis.call('MSET', unpack(kv))
redis.call('SADD', KEYS[1], unpack(added))
return 0`;

async function main() {
  if (!process.argv[2]) throw new Error('usage: node tools/bench/fenced-move-variants.js REDIS_URL [K]');
  const r = new Redis(process.argv[2]);
  const k = Number(process.argv[3] || 11);
  const page = (p) => `fmv:{d}:p:${p}`;
  const index = 'fmv:{d}:idx';
  const owners = 'fmv:{d}:owners';
  const data = Buffer.alloc(4096, 7);
  const cpu = async () => {
    const s = await r.info('cpu');
    return (Number(/used_cpu_user:([\d.]+)/.exec(s)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(s)[1])) * 1e6;
  };
  await r.zadd(owners, 1, '7');
  for (let p = 0; p < PAGES; p += 1000) {
    const pipe = r.pipeline();
    const members = [];
    for (let q = p; q < Math.min(p + 1000, PAGES); q++) {
      pipe.set(page(q), data);
      members.push(String(q));
    }
    pipe.sadd(index, ...members);
    await pipe.exec();
  }
  const [shaR, shaRS, shaA] = await Promise.all([RENAME, RENAME_SADD, ARGV_MSET].map((lua) => r.script('LOAD', lua)));
  let batch = 0;
  const stageKeys = (pages) => {
    const b = ++batch;
    return pages.map((_, i) => `fmv:{d}:s:${b}.${i}`);
  };
  const staged = (keys) => keys.flatMap((s) => [s, data]);
  const variants = {
    'mset-direct+sadd (no fence)': (pages) => [r.mset(...pages.flatMap((p) => [page(p), data])), r.sadd(index, ...pages.map(String))],
    'stage+rename (no sadd)': (pages) => {
      const st = stageKeys(pages);
      return [r.mset(...staged(st)), r.evalsha(shaR, 2, index, owners, '7', ...st, ...pages.map(page))];
    },
    'stage+rename+sadd': (pages) => {
      const st = stageKeys(pages);
      return [r.mset(...staged(st)), r.evalsha(shaRS, 2, index, owners, '7', ...st, ...pages.map(page), ...pages.map(String))];
    },
    'argv-mset+sadd': (pages) => [
      r.evalsha(shaA, 2, index, owners, '7', ...pages.map(String), ...pages.map(page), ...pages.map(() => data)),
    ],
  };
  const pick = () => Array.from({ length: k }, () => Math.floor(Math.random() * PAGES));
  for (let round = 0; round < 2; round++) {
    for (const [name, send] of Object.entries(variants)) {
      const c0 = await cpu();
      for (let i = 0; i < BATCHES; i += 4) await Promise.all([0, 1, 2, 3].flatMap(() => send(pick())));
      console.log(`K=${k} ${name}: ${(((await cpu()) - c0) / (BATCHES * k)).toFixed(2)} µs per write`);
    }
  }
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', 'fmv:*', 'COUNT', 1000);
    if (keys.length) await r.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  await r.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
