// rnull: the null block driver service — hctx queue workers running RnullDriver.
import { Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BlockMetrics, type Logger, type ServiceEnv } from '#service-kit';
import {
  driverEventReporters,
  badBlocksWriterOf,
  DiskDirectory,
  GenDiskForwarder,
  REDIS,
  REDIS_BLOCKING,
  SERVICE_ENV,
  SERVICE_LOG,
  ServiceCoreModule,
} from '#gendisk';
import { DiskDrivers, HctxWorkers } from '#driver-host';
import { KeySchema } from '#redis-mq';
import { rnullDriverFactory } from '#rnull';

@Module({
  imports: [ServiceCoreModule.forService('rnull', { failFast: false })],
  providers: [
    {
      provide: HctxWorkers,
      inject: [REDIS_BLOCKING, KeySchema, SERVICE_ENV, SERVICE_LOG],
      useFactory: (r: Redis, k: KeySchema, e: ServiceEnv, log: Logger) =>
        new HctxWorkers(r, k, e.workerConcurrency, e.stalledIntervalMs, (err) =>
          log.warn({ err: (err as Error).message }, 'batch failed; delivered again after its lease'),
        ),
    },
    // Where a driver's once-cleared bad range is cleared in the registry (DESIGN I10).
    { provide: GenDiskForwarder, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new GenDiskForwarder(e.gendiskUrl, e.grpcClient) },
    {
      provide: DiskDrivers,
      inject: [REDIS, KeySchema, DiskDirectory, HctxWorkers, BlockMetrics, SERVICE_LOG, SERVICE_ENV, GenDiskForwarder],
      useFactory: (
        r: Redis,
        k: KeySchema,
        d: DiskDirectory,
        w: HctxWorkers,
        metrics: BlockMetrics,
        log: Logger,
        e: ServiceEnv,
        gendisk: GenDiskForwarder,
      ) => {
        const tel = { metrics, log: log.child({ component: 'driver-host' }) };
        const drivers = new DiskDrivers(
          r,
          k,
          d,
          rnullDriverFactory,
          w.onHost,
          tel,
          e.flush,
          driverEventReporters(tel, badBlocksWriterOf(gendisk)),
        );
        w.attach(drivers);
        return drivers;
      },
    },
  ],
})
export class RnullModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly directory: DiskDirectory,
    private readonly drivers: DiskDrivers,
    private readonly workers: HctxWorkers,
    private readonly gendisk: GenDiskForwarder,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.directory.start();
    await this.drivers.start();
  }

  /** SIGTERM: running batches finish (their requests end or move to completion), then exit. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.workers.close();
    await this.drivers.close();
    this.gendisk.close();
  }
}
