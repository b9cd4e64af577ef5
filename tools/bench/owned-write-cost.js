// Redis CPU of local placement's whole-page writes in isolation: FencedPages.runOwned
// (from STAGE_MIN_PAGES pages a batch one MSET of the staged pages and one runOwnedPageOps
// that RENAMEs them into place; below it the bytes go in the call) over a
// 256 MiB disk whose pages all exist, in batches of K random 4 KiB overwrites, four
// batches in flight. Prints Redis CPU per write (INFO cpu) and the EVALSHA / MSET cost
// per call (INFO commandstats) for each K (docs/bench/v2-staged/README.md).
//   node tools/bench/owned-write-cost.js [redis-url] [K,...]   (needs npm run build; default
//   redis://127.0.0.1:6379 and K = 1,4,11,32; uses the key prefix owc: and deletes it after)
const path = require('node:path');
const { Redis } = require('ioredis');
const { redisCpuUs } = require('./redis-isolation');
const { FencedPages, KeySchema, OwnerRegistry, destroyDisk } = require(path.join(__dirname, '../../dist/libs/redis-mq/src/index.js'));

const PAGES = 65536;
const BATCHES = 6000;

async function main() {
  const r = new Redis(process.argv[2] || 'redis://127.0.0.1:6379');
  const ks = (process.argv[3] || '1,4,11,32').split(',').map(Number);
  const keys = new KeySchema('owc:');
  const epoch = await new OwnerRegistry(r, keys).register('d0', 600000);
  const pages = new FencedPages(r, keys);
  for (let p = 0; p < PAGES; p += 256) {
    await pages.runOwned('d0', epoch, [{ op: 'write', sector: p * 8, bytes: 4096 * 256, data: Buffer.alloc(4096 * 256, 1) }]);
  }
  const cpu = () => redisCpuUs(r);
  for (const k of ks) {
    const data = Buffer.alloc(4096 * k, 7);
    const ops = () =>
      Array.from({ length: k }, (_, i) => ({
        op: 'write',
        sector: Math.floor(Math.random() * PAGES) * 8,
        bytes: 4096,
        data: data.subarray(i * 4096, (i + 1) * 4096),
      }));
    await r.config('RESETSTAT');
    const c0 = await cpu();
    for (let i = 0; i < BATCHES; i += 4) await Promise.all([0, 1, 2, 3].map(() => pages.runOwned('d0', epoch, ops())));
    const c1 = await cpu();
    const st = await r.info('commandstats');
    const perCall = (cmd) => {
      const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+),usec=(\\d+)`).exec(st);
      return m ? (Number(m[2]) / Number(m[1])).toFixed(1) : '-';
    };
    console.log(
      `K=${k}: Redis CPU ${((c1 - c0) / (BATCHES * k)).toFixed(2)} µs per write; EVALSHA ${perCall('evalsha')} µs, MSET ${perCall('mset')} µs per call`,
    );
  }
  await destroyDisk(r, 'd0', keys);
  await r.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
