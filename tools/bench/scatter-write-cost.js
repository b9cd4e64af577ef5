// The sender's CPU per 4 KiB page of a staging MSET, as ioredis writes it (the whole command
// copied into one new Buffer, Command.toWritable) against ScatterCommand (the pages handed to
// the socket as they are, libs/redis-mq/src/scatter-command.ts), K pages a call, one call in
// flight (local placement sends one per disk at a time), against a real Redis; interleaved,
// three rounds. Prints this process's CPU (user + sys: the encoding and the socket write)
// and Redis's (INFO cpu) per page (docs/bench/v2-scatter/).
//   node tools/bench/scatter-write-cost.js REDIS_URL [K]   (needs npm run build; K default
//   15; uses the key prefix swc: and deletes it after)
const path = require('node:path');
const { Redis } = require('ioredis');
const { redisCpuUs, unlinkMatching } = require('./redis-isolation');
const { sendScattered } = require(path.join(__dirname, '../../dist/libs/redis-mq/src/index.js'));

const CALLS = 6000;
/** Stage keys reused call after call: the Redis side stays the same for both ways. */
const SLOTS = 64;

async function main() {
  if (!process.argv[2]) throw new Error('usage: node tools/bench/scatter-write-cost.js REDIS_URL [K]');
  const r = new Redis(process.argv[2]);
  const k = Number(process.argv[3] || 15);
  if (!(k >= 1)) throw new Error('K must be at least 1');
  const pages = Array.from({ length: k }, (_, i) => Buffer.alloc(4096, i));
  let call = 0;
  const args = () => {
    const slot = call++ % SLOTS;
    return pages.flatMap((p, i) => [`swc:{d}:stage:${slot}:p${i}`, p]);
  };
  const ways = {
    'ioredis mset (one Buffer)': () => r.mset(...args()),
    'sendScattered mset': () => sendScattered(r, 'mset', args()),
  };
  const redisCpu = () => redisCpuUs(r);
  for (const send of Object.values(ways)) for (let i = 0; i < 500; i++) await send(); // warm up both
  console.log(`# K=${k} pages a call, ${CALLS} calls a line, one in flight`);
  for (let round = 0; round < 3; round++) {
    for (const [name, send] of Object.entries(ways)) {
      const c0 = await redisCpu();
      const u0 = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) await send();
      const u = process.cpuUsage(u0);
      const sender = (u.user + u.system) / (CALLS * k);
      const redis = ((await redisCpu()) - c0) / (CALLS * k);
      console.log(`K=${k} ${name}: sender ${sender.toFixed(2)} µs per page, Redis ${redis.toFixed(2)}`);
    }
  }
  await unlinkMatching(r, 'swc:*');
  await r.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
