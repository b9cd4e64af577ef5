// completion: the softirq and timer completion service.
import { Inject, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  BlockMetrics,
  CompletionWorkers,
  DiskDirectory,
  DiskDrivers,
  type Logger,
  REDIS,
  REDIS_BLOCKING,
  SERVICE_ENV,
  SERVICE_LOG,
  ServiceCoreModule,
  type ServiceEnv,
} from '#cluster';
import { KeySchema } from '#redis-mq';

@Module({
  imports: [ServiceCoreModule.forService('completion', { failFast: false })],
  providers: [
    {
      provide: DiskDrivers,
      inject: [REDIS, KeySchema, DiskDirectory, BlockMetrics, SERVICE_LOG],
      useFactory: (r: Redis, k: KeySchema, d: DiskDirectory, metrics: BlockMetrics, log: Logger) =>
        new DiskDrivers(r, k, d, undefined, { metrics, log: log.child({ component: 'driver-host' }) }),
    },
  ],
})
export class CompletionModule implements OnModuleInit, BeforeApplicationShutdown {
  private workers?: CompletionWorkers;

  constructor(
    private readonly directory: DiskDirectory,
    private readonly drivers: DiskDrivers,
    @Inject(SERVICE_ENV) private readonly env: ServiceEnv,
    @Inject(KeySchema) private readonly keys: KeySchema,
    @Inject(REDIS_BLOCKING) private readonly workerRedis: Redis,
    private readonly metrics: BlockMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.directory.start();
    await this.drivers.start();
    this.workers = new CompletionWorkers(this.workerRedis, this.keys, this.drivers, this.env.workerConcurrency * 4, this.env.stalledIntervalMs, { metrics: this.metrics });
  }

  /** SIGTERM: armed timers fire and running batches end their requests, then exit. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.workers?.close();
    await this.drivers.close();
  }
}
