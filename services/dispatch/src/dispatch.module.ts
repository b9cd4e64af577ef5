// dispatch: the blk-mq core service (tags, plug, hctx queues, timeouts) and the client API.
import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  blockingConnection,
  BlockLayer,
  commandConnection,
  DiskDirectory,
  GenDiskForwarder,
  HealthChecks,
  HealthModule,
  readServiceEnv,
  type ServiceEnv,
} from '#cluster';
import { KeySchema } from '#redis-mq';
import { BlockDeviceController } from './block-device.controller';
import { GenDiskForwardController } from './gendisk.controller';

const SERVICE_ENV = 'SERVICE_ENV';
const REDIS = 'REDIS';
const REDIS_BLOCKING = 'REDIS_BLOCKING';
const REDIS_SUBSCRIBER = 'REDIS_SUBSCRIBER';

@Module({
  imports: [HealthModule],
  controllers: [BlockDeviceController, GenDiskForwardController],
  providers: [
    { provide: SERVICE_ENV, useFactory: () => readServiceEnv('dispatch') },
    { provide: REDIS, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => commandConnection(e.redisUrl, `${e.instanceId}`) },
    { provide: REDIS_BLOCKING, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => blockingConnection(e.redisUrl, `${e.instanceId}-cq`) },
    { provide: REDIS_SUBSCRIBER, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => blockingConnection(e.redisUrl, `${e.instanceId}-sub`) },
    { provide: KeySchema, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new KeySchema(e.keyPrefix) },
    {
      provide: DiskDirectory,
      inject: [REDIS, REDIS_SUBSCRIBER, KeySchema],
      useFactory: (r: Redis, s: Redis, k: KeySchema) => new DiskDirectory(r, s, k),
    },
    {
      provide: BlockLayer,
      inject: [REDIS, REDIS_BLOCKING, KeySchema, DiskDirectory, SERVICE_ENV],
      useFactory: (r: Redis, b: Redis, k: KeySchema, d: DiskDirectory, e: ServiceEnv) => new BlockLayer(r, b, k, d, e.instanceId, e.timeoutScanMs),
    },
    { provide: GenDiskForwarder, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new GenDiskForwarder(e.gendiskUrl) },
  ],
})
export class DispatchModule implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly layer: BlockLayer,
    private readonly directory: DiskDirectory,
    private readonly health: HealthChecks,
    private readonly gendisk: GenDiskForwarder,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_BLOCKING) private readonly blocking: Redis,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: Redis,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.add('redis', () => this.redis.ping());
    await this.directory.start();
    await this.layer.start();
  }

  /** SIGTERM: in-flight IO completes (or times out) before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.layer.drain(8_000);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.layer.stop();
    this.gendisk.close();
    await Promise.all([this.redis, this.blocking, this.subscriber].map((c) => c.quit().catch(() => undefined)));
  }
}
