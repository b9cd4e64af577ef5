// completion: the softirq and timer completion service.
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  blockingConnection,
  CompletionWorkers,
  DiskDirectory,
  DiskDrivers,
  HealthChecks,
  HealthModule,
  readServiceEnv,
  type ServiceEnv,
} from '#cluster';
import { KeySchema } from '#redis-mq';

const SERVICE_ENV = 'SERVICE_ENV';
const REDIS = 'REDIS';
const REDIS_WORKERS = 'REDIS_WORKERS';
const REDIS_SUBSCRIBER = 'REDIS_SUBSCRIBER';

@Module({
  imports: [HealthModule],
  providers: [
    { provide: SERVICE_ENV, useFactory: () => readServiceEnv('completion') },
    { provide: REDIS, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => blockingConnection(e.redisUrl, e.instanceId) },
    { provide: REDIS_WORKERS, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => blockingConnection(e.redisUrl, `${e.instanceId}-w`) },
    { provide: REDIS_SUBSCRIBER, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => blockingConnection(e.redisUrl, `${e.instanceId}-sub`) },
    { provide: KeySchema, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new KeySchema(e.keyPrefix) },
    {
      provide: DiskDirectory,
      inject: [REDIS, REDIS_SUBSCRIBER, KeySchema],
      useFactory: (r: Redis, s: Redis, k: KeySchema) => new DiskDirectory(r, s, k),
    },
    {
      provide: DiskDrivers,
      inject: [REDIS, KeySchema, DiskDirectory],
      useFactory: (r: Redis, k: KeySchema, d: DiskDirectory) => new DiskDrivers(r, k, d),
    },
  ],
})
export class CompletionModule implements OnModuleInit, OnApplicationShutdown {
  private workers?: CompletionWorkers;

  constructor(
    private readonly directory: DiskDirectory,
    private readonly drivers: DiskDrivers,
    private readonly health: HealthChecks,
    @Inject(SERVICE_ENV) private readonly env: ServiceEnv,
    @Inject(KeySchema) private readonly keys: KeySchema,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_WORKERS) private readonly workerRedis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.add('redis', () => this.redis.ping());
    await this.directory.start();
    await this.drivers.start();
    this.workers = new CompletionWorkers(this.workerRedis, this.keys, this.drivers, this.env.workerConcurrency * 4, this.env.stalledIntervalMs);
  }

  /** SIGTERM: armed timers fire and running batches end their requests, then exit. */
  async onApplicationShutdown(): Promise<void> {
    await this.workers?.close();
    await this.drivers.close();
    await Promise.all([this.redis, this.workerRedis, this.subscriber].map((c) => c.quit().catch(() => undefined)));
  }
}
