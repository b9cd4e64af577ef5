// gendisk: the disk registry service (null_blk configfs, add_disk / del_gendisk).
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BlockMetrics, type Logger } from '#service-kit';
import { DiskRegistry, HctxInitFaults, readDiskLimits, REDIS, RedisDiskLifecycle, SERVICE_LOG, ServiceCoreModule } from '#gendisk';
import { KeySchema } from '#redis-mq';
import { GenDiskController } from './gendisk.controller';

@Module({
  imports: [ServiceCoreModule.forService('gendisk', { failFast: true })],
  controllers: [GenDiskController],
  providers: [
    {
      provide: DiskRegistry,
      inject: [REDIS, KeySchema, BlockMetrics, SERVICE_LOG],
      useFactory: (redis: Redis, keys: KeySchema, metrics: BlockMetrics, log: Logger) =>
        new DiskRegistry(redis, keys, new RedisDiskLifecycle(redis, keys), new HctxInitFaults({ metrics, log }), readDiskLimits()),
    },
  ],
})
export class GenDiskModule {}
