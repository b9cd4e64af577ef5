// completion: the softirq and timer completion service.
import { Inject, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BlockMetrics, type Logger, type ServiceEnv } from '#service-kit';
import { DiskDirectory, REDIS, SERVICE_ENV, SERVICE_LOG, ServiceCoreModule } from '#gendisk';
import { CompletionWorkers, DiskDrivers } from '#driver-host';
import { KeySchema } from '#redis-mq';
import { rnullDriverFactory } from '#rnull';

@Module({
  imports: [ServiceCoreModule.forService('completion', { failFast: false })],
  providers: [
    {
      provide: CompletionWorkers,
      inject: [SERVICE_ENV, BlockMetrics, SERVICE_LOG],
      useFactory: (e: ServiceEnv, metrics: BlockMetrics, log: Logger) =>
        new CompletionWorkers(e.workerConcurrency * 4, e.stalledIntervalMs, { metrics, log: log.child({ component: 'completion' }) }),
    },
    {
      provide: DiskDrivers,
      inject: [REDIS, KeySchema, DiskDirectory, CompletionWorkers, BlockMetrics, SERVICE_LOG],
      useFactory: (r: Redis, k: KeySchema, d: DiskDirectory, w: CompletionWorkers, metrics: BlockMetrics, log: Logger) => {
        // The driver's `complete` runs here: the same driver as the rnull service's.
        const drivers = new DiskDrivers(r, k, d, rnullDriverFactory, w.onHost, { metrics, log: log.child({ component: 'driver-host' }) });
        w.attach(drivers);
        return drivers;
      },
    },
  ],
})
export class CompletionModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly directory: DiskDirectory,
    private readonly drivers: DiskDrivers,
    private readonly workers: CompletionWorkers,
    @Inject(SERVICE_ENV) readonly env: ServiceEnv,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.directory.start();
    await this.drivers.start();
  }

  /** SIGTERM: armed timers fire and running batches end their requests, then exit. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.workers.close();
    await this.drivers.close();
  }
}
