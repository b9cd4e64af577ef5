// dispatch: the blk-mq core service (tags, plug, hctx queues, timeouts) and the client API.
import { Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  BlockLayer,
  BlockMetrics,
  DiskDirectory,
  GenDiskForwarder,
  type Logger,
  REDIS,
  REDIS_BLOCKING,
  SERVICE_ENV,
  SERVICE_LOG,
  ServiceCoreModule,
  type ServiceEnv,
} from '#cluster';
import { KeySchema } from '#redis-mq';
import { BlockDeviceController } from './block-device.controller';
import { GenDiskForwardController } from './gendisk.controller';

@Module({
  imports: [ServiceCoreModule.forService('dispatch', { failFast: true })],
  controllers: [BlockDeviceController, GenDiskForwardController],
  providers: [
    {
      provide: BlockLayer,
      inject: [REDIS, REDIS_BLOCKING, KeySchema, DiskDirectory, SERVICE_ENV, BlockMetrics, SERVICE_LOG],
      useFactory: (r: Redis, b: Redis, k: KeySchema, d: DiskDirectory, e: ServiceEnv, metrics: BlockMetrics, log: Logger) =>
        new BlockLayer(r, b, k, d, e.instanceId, e.timeoutScanMs, { metrics, log: log.child({ component: 'block-layer' }) }),
    },
    { provide: GenDiskForwarder, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new GenDiskForwarder(e.gendiskUrl) },
  ],
})
export class DispatchModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly layer: BlockLayer,
    private readonly directory: DiskDirectory,
    private readonly gendisk: GenDiskForwarder,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.directory.start();
    await this.layer.start();
  }

  /** SIGTERM: in-flight IO completes (or times out) before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.layer.drain(8_000);
    await this.layer.stop();
    this.gendisk.close();
  }
}
