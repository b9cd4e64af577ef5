// Test helper: records the writes a connection's socket makes, to check that commands sent
// together leave in one socket write (send-together.spec, scatter-command.spec).
import type { Redis } from 'ioredis';

type WriteFn = (...a: unknown[]) => unknown;

/**
 * Counts the socket writes of `redis` (ready) while `run` runs: a net.Socket hands its
 * buffered chunks to `_writev` (several) or `_write` (one), one system call each. Returns
 * `run`'s result and, per write, how many chunks it carried.
 */
export async function recordSocketWrites<T>(redis: Redis, run: () => Promise<T>): Promise<{ result: T; writes: number[] }> {
  const sock = (redis as unknown as { stream: Record<'_write' | '_writev', WriteFn> }).stream;
  const writes: number[] = [];
  const [w1, wv] = [sock._write, sock._writev];
  sock._write = function (this: unknown, ...a: unknown[]) {
    writes.push(1);
    return w1.apply(this, a);
  };
  sock._writev = function (this: unknown, ...a: unknown[]) {
    writes.push((a[0] as unknown[]).length);
    return wv.apply(this, a);
  };
  try {
    return { result: await run(), writes };
  } finally {
    sock._write = w1;
    sock._writev = wv;
  }
}
