// Mirrors the block layer's plug for Redis commands: commands issued together leave in
// one socket write, so Redis reads them at once and the process pays one syscall.
import type { Redis } from 'ioredis';

/**
 * Runs `send`, which must issue its commands on `redis` synchronously, with the socket
 * corked: they go out in one write when it returns. Order is kept (one connection), so
 * Redis runs them one after another, each seeing what the one before did.
 * Commands issued while the connection is not ready wait in ioredis' offline queue as usual.
 */
export function sendTogether<T>(redis: Redis, send: () => T): T {
  const stream = corkableStream(redis);
  stream?.cork();
  try {
    return send();
  } finally {
    stream?.uncork();
  }
}

/** The socket of a ready connection, when it can be corked; else undefined (send at once). */
function corkableStream(redis: Redis): { cork(): void; uncork(): void } | undefined {
  const stream = (redis as unknown as { stream?: { cork?: () => void; uncork?: () => void } } | undefined)?.stream;
  if (redis?.status !== 'ready' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return undefined;
  return stream as { cork(): void; uncork(): void };
}

/**
 * Corks `redis`'s socket until the next check phase (`setImmediate`): every command issued
 * meanwhile, across microtasks and handlers, leaves in one write. For a worker that starts
 * several batches at once; it delays those writes by the rest of this loop iteration only.
 */
export function plugUntilNextTick(redis: Redis): void {
  const stream = corkableStream(redis);
  if (!stream) return;
  stream.cork();
  setImmediate(() => stream.uncork());
}
