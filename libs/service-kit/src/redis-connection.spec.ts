// Every connection service-kit makes carries the service's Redis credentials (DESIGN I20):
// one Redis, every node of a Redis Cluster, and the duplicates made for blocking reads and
// by BullMQ. No server is needed: the options are what ioredis will authenticate with.
import type { Cluster, Redis } from 'ioredis';
import { blockingConnection, commandConnection, type RedisTarget } from './redis-connection';

const credentials = { username: 'rnull', password: 'pw-c0nn3ct', passwordFile: '/run/secrets/redis-rnull-password' };
// Nothing listens on port 1: the clients try, fail quietly and are closed.
const target: RedisTarget = { redisUrl: 'redis://127.0.0.1:1', redisCredentials: credentials };

const quiet = <T extends Redis>(r: T): T => {
  r.on('error', () => undefined);
  return r;
};

it.each([
  ['commandConnection', commandConnection],
  ['blockingConnection', blockingConnection],
])('%s to one Redis authenticates as the service, and so do its duplicates', (_, connect) => {
  const r = quiet(connect(target, 'test'));
  const dup = quiet(r.duplicate());
  try {
    for (const c of [r, dup]) expect([c.options.username, c.options.password]).toEqual(['rnull', 'pw-c0nn3ct']);
  } finally {
    r.disconnect();
    dup.disconnect();
  }
});

it('a Redis Cluster client authenticates as the service on every node', () => {
  const r = quiet(commandConnection({ ...target, redisClusterNodes: [{ host: '127.0.0.1', port: 1 }] }, 'test'));
  try {
    const options = (r as unknown as Cluster).options.redisOptions;
    expect([options?.username, options?.password]).toEqual(['rnull', 'pw-c0nn3ct']);
  } finally {
    r.disconnect();
  }
});

it('without credentials sends none (a password in REDIS_URL still applies, as ioredis reads it)', () => {
  const r = quiet(commandConnection({ redisUrl: 'redis://:in-url@127.0.0.1:1' }, 'test'));
  try {
    expect([r.options.username, r.options.password]).toEqual(['', 'in-url']);
  } finally {
    r.disconnect();
  }
});
