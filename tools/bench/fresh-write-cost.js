// Redis CPU of local placement's writes to fresh pages in isolation: FencedPages.runOwned
// (staging MSET + runOwnedPageOps, sent together) in batches of K 4 KiB writes, each to a
// page never written before, four batches in flight. Prints Redis CPU per write (INFO cpu)
// and, per write, the time of each command Redis ran at least once every other batch
// (INFO commandstats; a script's own calls count both in it and in evalsha). What Redis
// spends outside commands (reading the payload, the event loop, page faults) is the
// difference (docs/bench/v2-thp/README.md).
//   node tools/bench/fresh-write-cost.js REDIS_URL [K]   (needs npm run build; K default 12;
//   uses the key prefix frc: and deletes it after)
const path = require('node:path');
const { Redis } = require('ioredis');
const { redisCpuUs } = require('./redis-isolation');
const { FencedPages, KeySchema, OwnerRegistry, destroyDisk } = require(path.join(__dirname, '../../dist/libs/redis-mq/src/index.js'));

const BATCHES = 8000;
/** Pages of the disk the writes spread over (8 GiB): each write gets a page of its own. */
const DISK_PAGES = 2_000_000;

async function main() {
  if (!process.argv[2]) throw new Error('usage: node tools/bench/fresh-write-cost.js REDIS_URL [K]');
  const r = new Redis(process.argv[2]);
  const k = Number(process.argv[3] || 12);
  const keys = new KeySchema('frc:');
  const epoch = await new OwnerRegistry(r, keys).register('d0', 600000);
  const pages = new FencedPages(r, keys);
  const data = Buffer.alloc(4096 * k, 7);
  let next = 0;
  // 7919 is prime and coprime to DISK_PAGES: the first DISK_PAGES writes hit distinct pages.
  const ops = () =>
    Array.from({ length: k }, (_, i) => ({
      op: 'write',
      sector: ((next++ * 7919) % DISK_PAGES) * 8,
      bytes: 4096,
      data: data.subarray(i * 4096, (i + 1) * 4096),
    }));
  const cpu = () => redisCpuUs(r);
  await r.config('RESETSTAT');
  const c0 = await cpu();
  for (let i = 0; i < BATCHES; i += 4) await Promise.all([0, 1, 2, 3].map(() => pages.runOwned('d0', epoch, ops())));
  const c1 = await cpu();
  const writes = BATCHES * k;
  const commands = (await r.info('commandstats'))
    .split('\n')
    .map((l) => /cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(l))
    .filter((m) => m && Number(m[2]) >= BATCHES / 2)
    .map((m) => `${m[1]} ${(Number(m[3]) / writes).toFixed(2)}`);
  console.log(`K=${k}: Redis CPU ${((c1 - c0) / writes).toFixed(2)} µs per fresh write; per write, ${commands.join(', ')} µs`);
  await destroyDisk(r, 'd0', keys);
  await r.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
