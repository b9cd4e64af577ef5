// The providers every service process has: its environment, a command connection and a
// subscriber connection to Redis, the key schema and the disk directory. One module, so
// each service module lists only what is its own.
import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { KeySchema } from '#redis-mq';
import {
  blockingConnection,
  BlockMetrics,
  checkRedisCredentials,
  commandConnection,
  HealthChecks,
  HealthModule,
  MetricsRegistry,
  readServiceEnv,
  type ServiceEnv,
  serviceLogger,
  serviceLoggerModule,
  waitRedisReady,
} from '#service-kit';
import { DiskDirectory } from './disk-directory';

/** Injection tokens of the shared providers. */
export const SERVICE_ENV = 'SERVICE_ENV';
/** Commands. For dispatch it fails fast while Redis is away; workers' connection waits. */
export const REDIS = 'REDIS';
/** A second connection for blocking pops or BullMQ workers. */
export const REDIS_BLOCKING = 'REDIS_BLOCKING';
const REDIS_SUBSCRIBER = 'REDIS_SUBSCRIBER';
/** The process's pino logger (`serviceLogger`), for the library classes. */
export const SERVICE_LOG = 'SERVICE_LOG';

@Global()
@Module({})
export class ServiceCoreModule implements OnApplicationShutdown {
  /**
   * `failFast`: commands fail at once while Redis is away (the client-facing service
   * answers UNAVAILABLE); otherwise they wait for the reconnect (workers).
   */
  static forService(service: string, opts: { failFast: boolean }): DynamicModule {
    const env = readServiceEnv(service);
    const log = serviceLogger(service, env.instanceId);
    return {
      module: ServiceCoreModule,
      // Nest's own lines go through the same pino logger; no per-HTTP-request lines.
      imports: [HealthModule, serviceLoggerModule(log)],
      providers: [
        { provide: SERVICE_ENV, useValue: env },
        { provide: SERVICE_LOG, useValue: log },
        { provide: BlockMetrics, inject: [MetricsRegistry], useFactory: (m: MetricsRegistry) => BlockMetrics.of(m.registry, service) },
        {
          provide: REDIS,
          inject: [SERVICE_ENV],
          useFactory: async (e: ServiceEnv) => {
            const redis = (opts.failFast ? commandConnection : blockingConnection)(e, e.instanceId);
            // Wrong or missing credentials stop the service here, naming the settings (DESIGN I20).
            await checkRedisCredentials(redis, e, new KeySchema(e.keyPrefix).diskRevisionCounter()).catch((err) => {
              redis.disconnect();
              throw err;
            });
            // One Redis may come later (commands answer UNAVAILABLE meanwhile); a Redis
            // Cluster must answer at start, so a wrong REDIS_CLUSTER_NODES is an error, not a hang.
            if (e.redisClusterNodes) {
              const where = `the Redis Cluster at REDIS_CLUSTER_NODES=${e.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
              await waitRedisReady(redis, where).catch((err) => {
                redis.disconnect();
                throw err;
              });
            }
            return redis;
          },
        },
        {
          provide: REDIS_BLOCKING,
          inject: [SERVICE_ENV],
          useFactory: (e: ServiceEnv) => blockingConnection(e, `${e.instanceId}-b`),
        },
        {
          provide: REDIS_SUBSCRIBER,
          inject: [SERVICE_ENV],
          useFactory: (e: ServiceEnv) => blockingConnection(e, `${e.instanceId}-sub`),
        },
        { provide: KeySchema, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new KeySchema(e.keyPrefix) },
        {
          provide: DiskDirectory,
          inject: [REDIS, REDIS_SUBSCRIBER, KeySchema, HealthChecks],
          useFactory: (r: Redis, s: Redis, k: KeySchema, health: HealthChecks) => {
            health.add('redis', () => r.ping());
            return new DiskDirectory(r, s, k);
          },
        },
      ],
      exports: [SERVICE_ENV, SERVICE_LOG, BlockMetrics, REDIS, REDIS_BLOCKING, KeySchema, DiskDirectory],
    };
  }

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_BLOCKING) private readonly blocking: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  /**
   * Connections close last: service modules drain in `beforeApplicationShutdown`, which
   * Nest runs for every module before any `onApplicationShutdown`.
   */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.redis, this.blocking, this.subscriber].map((c) => c.quit().catch(() => undefined)));
  }
}
