import { readServiceEnv, SERVICE_ENV_VARIABLES } from './service-env';
import { GRPC_LIMIT_VARIABLES, readGrpcLimits } from './grpc-limits';

it('has defaults: 64 MiB messages, 100 streams a connection, 1024 connections, 4096 submissions in flight a client', () => {
  expect(readGrpcLimits({})).toEqual({
    maxMessageBytes: 64 * 1024 * 1024,
    maxConcurrentStreams: 100,
    maxConnections: 1024,
    maxInflightPerClient: 4096,
  });
  expect(readServiceEnv('dispatch', { GRPC_MAX_CONNECTIONS: '8' }).grpcLimits.maxConnections).toBe(8);
  expect(SERVICE_ENV_VARIABLES).toEqual(expect.arrayContaining([...GRPC_LIMIT_VARIABLES]));
});

it.each(GRPC_LIMIT_VARIABLES.flatMap((name) => ['0', '-1', '1.5', 'many'].map((v) => [name, v] as const)))(
  'refuses %s=%s at start, naming the setting',
  (name, value) => {
    expect(() => readServiceEnv('dispatch', { [name]: value })).toThrow(new RegExp(`^${name} must be a whole number`));
  },
);
