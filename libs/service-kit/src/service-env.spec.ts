import { readRedisClusterNodes, readServiceEnv, SERVICE_ENV_VARIABLES } from './service-env';

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

describe('gRPC security settings (README "Security")', () => {
  it('off by default: a plaintext server with no token check where the service has gRPC, a plaintext client without a token', () => {
    const env = readServiceEnv('gendisk', {});
    expect(env.grpcServer?.toJSON()).toEqual({ tls: false, verifiesClients: false, tokens: 0 });
    expect(env.grpcClient.toJSON()).toEqual({ tls: false, token: false });
    expect(readServiceEnv('rnull', {}).grpcServer).toBeUndefined();
  });

  it('reads tokens and the service token, and lists every variable for the compose drift test', () => {
    const env = readServiceEnv('dispatch', { RNULL_AUTH_TOKENS: 'a:read,b:admin', RNULL_TOKEN: 'b' });
    expect(env.grpcServer?.tokens?.roleOf('b')).toBe('admin');
    expect(env.grpcClient.hasToken).toBe(true);
    expect(SERVICE_ENV_VARIABLES).toEqual(
      expect.arrayContaining(['GRPC_TLS_CERTIFICATES', 'RNULL_AUTH_TOKENS', 'RNULL_AUTH_TOKENS_FILE', 'RNULL_TOKEN', 'RNULL_TOKEN_FILE']),
    );
  });

  it('a bad setting throws naming it', () => {
    expect(() => readServiceEnv('gendisk', { GRPC_TLS_CERTIFICATES: '/nonexistent/pki' })).toThrow(
      /^GRPC_TLS_CERTIFICATES=\/nonexistent\/pki: no such directory/,
    );
    expect(() => readServiceEnv('gendisk', { RNULL_AUTH_TOKENS: 'a:root' })).toThrow(
      /^RNULL_AUTH_TOKENS: entry 1: the role must be one of/,
    );
    expect(() => readServiceEnv('rnull', { RNULL_TOKEN_FILE: '/nonexistent/token' })).toThrow(
      /^RNULL_TOKEN_FILE=\/nonexistent\/token: no such file/,
    );
  });
});
