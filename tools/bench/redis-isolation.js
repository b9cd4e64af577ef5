// What the isolation scripts of tools/bench (fresh-write-cost, owned-write-cost,
// fenced-move-variants, scatter-write-cost) share: reading Redis's CPU and removing their keys.

/** Redis's CPU so far (INFO cpu: user + sys of the whole process), in µs. */
async function redisCpuUs(redis) {
  const s = await redis.info('cpu');
  return (Number(/used_cpu_user:([\d.]+)/.exec(s)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(s)[1])) * 1e6;
}

/** UNLINKs every key matching `pattern` (SCAN MATCH), 1,000 at a time. */
async function unlinkMatching(redis, pattern) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

module.exports = { redisCpuUs, unlinkMatching };
