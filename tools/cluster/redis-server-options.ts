// How every redis-server this project starts is run (npm start's private Redis, the bench,
// the perf probe, the Redis Cluster fixture); docker-compose.yml's `redis` service sets the
// same, and test/compose.e2e-spec.ts checks that it does.
//
// Transparent huge pages for the page store (docs/bench/v2-thp/): a memory-backed disk's
// first write to a page makes Redis allocate 4 KiB it never touched, and on this kind of VM
// the page fault that brings in fresh memory costs ~10 µs per 4 KiB page against ~0.3 µs
// when the kernel hands out 2 MiB huge pages. Measured with `redis-benchmark -t set -d 4096`
// on fresh keys: 18–21 µs of Redis CPU per SET without, 4–5 µs with.
//   - jemalloc's `thp:always` madvises its heap MADV_HUGEPAGE, so huge pages are used where
//     the host's THP mode is `madvise` (Debian's default) as well as `always`. Debian's
//     redis-server links the system jemalloc (`MALLOC_CONF`); Redis's bundled jemalloc, as in
//     the official image, is built with the `je_` prefix and reads `JE_MALLOC_CONF`.
//   - `--disable-thp no`: Redis otherwise turns THP off for itself when the host mode is
//     `always`.
// The cost: a fork (BGSAVE, an AOF rewrite) copies a 2 MiB page on the first write to it
// instead of 4 KiB, so writes during a rewrite are dearer (README "Redis on huge pages").
//
// Memory freed by a deleted disk is kept for reuse longer (`dirty_decay_ms:30000`, jemalloc's
// default is 10 s): jemalloc gives freed memory back to the kernel gradually over that time,
// with madvise calls that split the huge pages, and a disk created meanwhile faults it in
// again 4 KiB at a time. Measured with fresh-write-cost.js run twice, 8 s apart (the second
// run writes into the memory the first one's deleted disk freed): 21.6–24.0 µs of Redis CPU
// per write at 10 s, 15.0–16.4 at 30 s (docs/bench/v2-lean/). The cost: Redis's resident
// memory falls back more slowly after a disk is deleted (`MEMORY PURGE` gives it back at once).

/** jemalloc's run-time options for a redis-server. */
export const REDIS_SERVER_MALLOC_CONF = 'thp:always,dirty_decay_ms:30000';

/** Environment to add to a spawned redis-server's. */
export const REDIS_SERVER_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_CONF: REDIS_SERVER_MALLOC_CONF,
  JE_MALLOC_CONF: REDIS_SERVER_MALLOC_CONF,
});

/** Arguments to add to a spawned redis-server's. */
export const REDIS_SERVER_ARGS: readonly string[] = Object.freeze(['--disable-thp', 'no']);

/** Whether a spawned redis-server uses huge pages; `off` runs it as Redis ships (for A/B runs). */
export type RedisHugePages = 'on' | 'off';

/** The environment and extra arguments of a redis-server started with `hugePages`. */
export function redisServerLaunch(hugePages: RedisHugePages = 'on'): { env: NodeJS.ProcessEnv; args: string[] } {
  if (hugePages === 'off') return { env: { ...process.env }, args: [] };
  return { env: { ...process.env, ...REDIS_SERVER_ENV }, args: [...REDIS_SERVER_ARGS] };
}
