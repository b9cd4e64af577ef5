// gendisk: the disk registry service (null_blk configfs, add_disk / del_gendisk).
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { commandConnection, DiskRegistry, HealthChecks, HealthModule, readServiceEnv, RedisDiskLifecycle, type ServiceEnv } from '#cluster';
import { KeySchema } from '#redis-mq';
import { GenDiskController } from './gendisk.controller';

export const SERVICE_ENV = 'SERVICE_ENV';
export const REDIS = 'REDIS';

@Module({
  imports: [HealthModule],
  controllers: [GenDiskController],
  providers: [
    { provide: SERVICE_ENV, useFactory: () => readServiceEnv('gendisk') },
    { provide: REDIS, inject: [SERVICE_ENV], useFactory: (env: ServiceEnv) => commandConnection(env.redisUrl, env.instanceId) },
    { provide: KeySchema, inject: [SERVICE_ENV], useFactory: (env: ServiceEnv) => new KeySchema(env.keyPrefix) },
    {
      provide: DiskRegistry,
      inject: [REDIS, KeySchema, HealthChecks],
      useFactory: (redis: Redis, keys: KeySchema, health: HealthChecks) => {
        health.add('redis', () => redis.ping());
        return new DiskRegistry(redis, keys, new RedisDiskLifecycle(redis, keys));
      },
    },
  ],
})
export class GenDiskModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
