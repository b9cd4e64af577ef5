// rnull: the null block driver service — hctx queue workers running RnullDriver.
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  blockingConnection,
  DiskDirectory,
  DiskDrivers,
  HctxWorkers,
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
    { provide: SERVICE_ENV, useFactory: () => readServiceEnv('rnull') },
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
      provide: HctxWorkers,
      inject: [REDIS_WORKERS, KeySchema, SERVICE_ENV],
      useFactory: (r: Redis, k: KeySchema, e: ServiceEnv) => new HctxWorkers(r, k, e.workerConcurrency, e.stalledIntervalMs),
    },
    {
      provide: DiskDrivers,
      inject: [REDIS, KeySchema, DiskDirectory, HctxWorkers],
      useFactory: (r: Redis, k: KeySchema, d: DiskDirectory, w: HctxWorkers) => {
        const drivers = new DiskDrivers(r, k, d, w.onHost);
        w.attach(drivers);
        return drivers;
      },
    },
  ],
})
export class RnullModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly directory: DiskDirectory,
    private readonly drivers: DiskDrivers,
    private readonly workers: HctxWorkers,
    private readonly health: HealthChecks,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_WORKERS) private readonly workerRedis: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.add('redis', () => this.redis.ping());
    await this.directory.start();
    await this.drivers.start();
  }

  /** SIGTERM: running batches finish (their requests end or move to completion), then exit. */
  async onApplicationShutdown(): Promise<void> {
    await this.workers.close();
    await this.drivers.close();
    await Promise.all([this.redis, this.workerRedis, this.subscriber].map((c) => c.quit().catch(() => undefined)));
  }
}
