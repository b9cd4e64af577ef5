// gendisk: the disk registry service (null_blk configfs, add_disk / del_gendisk).
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DiskRegistry, REDIS, RedisDiskLifecycle, ServiceCoreModule } from '#gendisk';
import { KeySchema } from '#redis-mq';
import { GenDiskController } from './gendisk.controller';

@Module({
  imports: [ServiceCoreModule.forService('gendisk', { failFast: true })],
  controllers: [GenDiskController],
  providers: [
    {
      provide: DiskRegistry,
      inject: [REDIS, KeySchema],
      useFactory: (redis: Redis, keys: KeySchema) => new DiskRegistry(redis, keys, new RedisDiskLifecycle(redis, keys)),
    },
  ],
})
export class GenDiskModule {}
