// The Redis connections of a service: reconnect forever with a capped back-off, and fail
// commands fast while Redis is away so callers can answer UNAVAILABLE (DESIGN: bad input
// and lost dependencies never take a service down).
import { Redis, type RedisOptions } from 'ioredis';

/** A connection for commands: while disconnected, commands fail at once, not queue up. */
export function commandConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    reconnectOnError: () => true,
  } satisfies RedisOptions);
}

/** A connection for BullMQ and blocking reads: BullMQ requires maxRetriesPerRequest null. */
export function blockingConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: false,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  } satisfies RedisOptions);
}

/** True when `err` says Redis could not be reached (as opposed to a script refusal). */
export function isRedisUnavailable(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return (
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|max retries per request|Stream isn't writeable|enableOfflineQueue/i.test(
      msg,
    ) || /^LOADING /.test(msg)
  );
}
