// Redis CPU per 4 KiB write of ways to put a batch of whole pages into a store of one key
// per page (DESIGN I8), in isolation: K pages a call, calls in flight on one connection
// (docs/bench/v2-lean/script-variants.txt, docs/bench/v2-scatter/). What a fenced move can
// cost at best, against the floor of any such store:
//   mset-direct+sadd     MSET into the page keys and SADD, unfenced (not an option: I4)
//   stage+rename         MSET into stage keys, a script that checks the owner and RENAMEs
//   stage+rename+sadd    the same and the index SADD (what moveStagedPages-2.lua does)
//   stage+rename+bitmap  the same with a bitmap index (one BITFIELD a call) for the set
//   argv-mset+sadd       the bytes as script arguments, MSET and SADD from Lua
//   watch+multi+sadd     fenced without a script: on a connection of its own, WATCH the
//                        owners key and ZSCORE the epoch after every call, and send the next
//                        call (MULTI, MSET into the page keys, SADD, EXEC) only after that
//                        ZSCORE said alive; an owner removed since makes EXEC abort
// Each line gives Redis's CPU (INFO cpu) and this process's (the client's ioredis work)
// per write.
//   node tools/bench/fenced-move-variants.js REDIS_URL [K] [--fresh] [--in-flight N]
//   K default 11; --fresh: every write goes to a page never written before (the store
//   grows, Redis faults new memory in), else random pages of 65,536 stored ones;
//   --in-flight default 4 (local placement sends one call per disk at a time:
//   TRANSFERS_IN_FLIGHT). Uses the key prefix fmv: and deletes it after.
const { Redis } = require('ioredis');
const { redisCpuUs, unlinkMatching } = require('./redis-isolation');

const PAGES = 65536;
const BATCHES = 4000;
/** Pages --fresh spreads over; 7919 is prime, so the first FRESH_PAGES writes hit distinct pages. */
const FRESH_PAGES = 50_000_000;

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
const RENAME_BITMAP = `${FENCE}local n = (#ARGV - 1) / 3
local set = {}
for i = 1, n do
  redis.call('RENAME', ARGV[1 + i], ARGV[1 + n + i])
  local k = 4 * i - 3
  set[k], set[k + 1], set[k + 2], set[k + 3] = 'SET', 'u1', '#' .. ARGV[1 + 2 * n + i], 1
end
redis.call('BITFIELD', KEYS[3], unpack(set))
return 0`;
const ARGV_MSET = `${FENCE}local n = (#ARGV - 1) / 3
local kv, added = {}, {}
for i = 1, n do
  kv[2 * i - 1] = ARGV[1 + n + i]; kv[2 * i] = ARGV[1 + 2 * n + i]; added[i] = ARGV[1 + i]
end
redis.call('MSET', unpack(kv))
redis.call('SADD', KEYS[1], unpack(added))
return 0`;

function parseArgs(argv) {
  const url = argv[2];
  if (!url || url.startsWith('--'))
    throw new Error('usage: node tools/bench/fenced-move-variants.js REDIS_URL [K] [--fresh] [--in-flight N]');
  const rest = argv.slice(3);
  const k = rest[0] && !rest[0].startsWith('--') ? Number(rest.shift()) : 11;
  let fresh = false;
  let inFlight = 4;
  while (rest.length) {
    const a = rest.shift();
    if (a === '--fresh') fresh = true;
    else if (a === '--in-flight') inFlight = Number(rest.shift());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(k >= 1 && inFlight >= 1)) throw new Error('K and --in-flight must be at least 1');
  return { url, k, fresh, inFlight };
}

async function main() {
  const { url, k, fresh, inFlight } = parseArgs(process.argv);
  const r = new Redis(url);
  // The WATCH variant's own connection: a watch belongs to a connection, and any EXEC on it
  // ends it. No resending after a reconnect: a resent EXEC would run unwatched.
  const watcher = new Redis(url, { autoResendUnfulfilledCommands: false });
  const page = (p) => `fmv:{d}:p:${p}`;
  const index = 'fmv:{d}:idx';
  const bitmap = 'fmv:{d}:bits';
  const owners = 'fmv:{d}:owners';
  const data = Buffer.alloc(4096, 7);
  const cpu = () => redisCpuUs(r);
  await r.zadd(owners, 1, '7');
  if (!fresh) {
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
  }
  const [shaR, shaRS, shaRB, shaA] = await Promise.all([RENAME, RENAME_SADD, RENAME_BITMAP, ARGV_MSET].map((lua) => r.script('LOAD', lua)));
  let batch = 0;
  const stageKeys = (pages) => {
    const b = ++batch;
    return pages.map((_, i) => `fmv:{d}:s:${b}.${i}`);
  };
  const staged = (keys) => keys.flatMap((s) => [s, data]);
  // WATCH fence: alive is what the ZSCORE after the last WATCH said; a call goes out only
  // when it said so (else the variant would be unfenced).
  let alive = false;
  const arm = async () => {
    const res = await watcher.pipeline().watch(owners).zscore(owners, '7').exec();
    alive = res[1][1] !== null;
  };
  let watchChain = Promise.resolve();
  const watched = (pages) => {
    const call = async () => {
      for (;;) {
        if (!alive) await arm();
        if (!alive) throw new Error('owner gone');
        const kv = pages.flatMap((p) => [page(p), data]);
        const res = await watcher
          .pipeline()
          .multi()
          .mset(...kv)
          .sadd(index, ...pages.map(String))
          .exec()
          .watch(owners)
          .zscore(owners, '7')
          .exec();
        alive = res[res.length - 1][1] !== null;
        if (res[res.length - 3][1] !== null) return; // EXEC ran; null: aborted, try again
      }
    };
    // One call at a time on the watching connection: the next one needs this one's ZSCORE.
    watchChain = watchChain.then(call);
    return [watchChain];
  };
  const variants = {
    'mset-direct+sadd (no fence)': (pages) => [r.mset(...pages.flatMap((p) => [page(p), data])), r.sadd(index, ...pages.map(String))],
    'stage+rename (no index)': (pages) => {
      const st = stageKeys(pages);
      return [r.mset(...staged(st)), r.evalsha(shaR, 2, index, owners, '7', ...st, ...pages.map(page))];
    },
    'stage+rename+sadd': (pages) => {
      const st = stageKeys(pages);
      return [r.mset(...staged(st)), r.evalsha(shaRS, 2, index, owners, '7', ...st, ...pages.map(page), ...pages.map(String))];
    },
    'stage+rename+bitmap': (pages) => {
      const st = stageKeys(pages);
      return [r.mset(...staged(st)), r.evalsha(shaRB, 3, index, owners, bitmap, '7', ...st, ...pages.map(page), ...pages.map(String))];
    },
    'argv-mset+sadd': (pages) => [
      r.evalsha(shaA, 2, index, owners, '7', ...pages.map(String), ...pages.map(page), ...pages.map(() => data)),
    ],
    'watch+multi+sadd': watched,
  };
  let next = 0;
  const pick = () => {
    if (fresh) return Array.from({ length: k }, () => (next++ * 7919) % FRESH_PAGES);
    const pages = new Set();
    while (pages.size < k) pages.add(Math.floor(Math.random() * PAGES));
    return [...pages];
  };
  console.log(
    `# K=${k}, ${fresh ? 'fresh pages' : `overwrites of ${PAGES} stored pages`}, ${inFlight} call(s) in flight, ${BATCHES} calls a line`,
  );
  for (let round = 0; round < 2; round++) {
    for (const [name, send] of Object.entries(variants)) {
      const c0 = await cpu();
      const u0 = process.cpuUsage();
      for (let i = 0; i < BATCHES; i += inFlight) await Promise.all(Array.from({ length: inFlight }, () => send(pick())).flat());
      const u = process.cpuUsage(u0);
      const redisUs = ((await cpu()) - c0) / (BATCHES * k);
      const clientUs = (u.user + u.system) / (BATCHES * k);
      console.log(`K=${k} ${name}: ${redisUs.toFixed(2)} µs of Redis per write, client ${clientUs.toFixed(2)}`);
    }
  }
  await unlinkMatching(r, 'fmv:*');
  await Promise.all([r.quit(), watcher.quit()]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
