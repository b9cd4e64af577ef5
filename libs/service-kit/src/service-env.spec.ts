import { readRedisClusterNodes, readServiceEnv } from './service-env';

describe('REDIS_CLUSTER_NODES', () => {
  it('reads host:port seed lists, IPv6 in brackets, with spaces around entries', () => {
    expect(readRedisClusterNodes('127.0.0.1:7000, redis-1:7001,[::1]:7002')).toEqual([
      { host: '127.0.0.1', port: 7000 },
      { host: 'redis-1', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });
  it('is unset when empty', () => {
    expect(readRedisClusterNodes(undefined)).toBeUndefined();
    expect(readRedisClusterNodes(' ')).toBeUndefined();
  });
  it.each(['127.0.0.1', '127.0.0.1:0', 'h:70000', 'h:7000,', 'redis://h:7000'])('refuses %j naming the variable', (raw) => {
    expect(() => readRedisClusterNodes(raw)).toThrow(/^REDIS_CLUSTER_NODES must be host:port/);
  });
});

describe('what FLUSH waits for', () => {
  it('one replica on a Redis Cluster, none on one Redis, 2 s; both settable', () => {
    expect(readServiceEnv('rnull', {}).flush).toEqual({ replicas: 0, timeoutMs: 2000 });
    expect(readServiceEnv('rnull', { REDIS_CLUSTER_NODES: 'h:7000' }).flush).toEqual({ replicas: 1, timeoutMs: 2000 });
    expect(
      readServiceEnv('rnull', { REDIS_CLUSTER_NODES: 'h:7000', REDIS_FLUSH_REPLICAS: '0', REDIS_FLUSH_TIMEOUT_MS: '500' }).flush,
    ).toEqual({
      replicas: 0,
      timeoutMs: 500,
    });
  });
  it('refuses a bad count or a zero timeout naming the variable', () => {
    expect(() => readServiceEnv('rnull', { REDIS_FLUSH_REPLICAS: 'two' })).toThrow(/REDIS_FLUSH_REPLICAS/);
    expect(() => readServiceEnv('rnull', { REDIS_FLUSH_TIMEOUT_MS: '0' })).toThrow(/REDIS_FLUSH_TIMEOUT_MS must be a whole number >= 1/);
  });
});
