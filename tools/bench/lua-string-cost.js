// What it costs Redis to make Lua strings of a script's arguments: one EVALSHA of
// `return #ARGV` with N arguments of S bytes, 500 times, timed by Redis itself
// (INFO commandstats usec per call). On this VM the cost grows with the bytes, about
// 1.3 µs per KiB, so every 4 KiB page that enters a script costs ~5 µs of Redis CPU
// (docs/bench/v2-local/README.md, "What bounds writes").
//   node tools/bench/lua-string-cost.js [redis-url]   (default redis://127.0.0.1:6379; resets its stats)
const { Redis } = require('ioredis');

async function main() {
  const r = new Redis(process.argv[2] || 'redis://127.0.0.1:6379');
  const sha = await r.script('LOAD', 'return #ARGV');
  for (const [n, size] of [
    [16, 64],
    [16, 1024],
    [16, 4096],
    [1, 65536],
  ]) {
    const data = Buffer.alloc(size, 7);
    await r.config('RESETSTAT');
    for (let i = 0; i < 500; i++) await r.evalsha(sha, 0, ...Array(n).fill(data));
    const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await r.info('commandstats'));
    const perCall = Number(m[2]) / Number(m[1]);
    console.log(`${n} x ${size} B: ${perCall.toFixed(1)} µs per call, ${((perCall * 1024) / (n * size)).toFixed(2)} µs per KiB`);
  }
  r.disconnect();
}

void main();
