// dispatch: the blk-mq core service (tags, plug, hctx queues, timeouts) and the client API.
import { Inject, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BlockMetrics, type Logger, MetricsRegistry, type ServiceEnv } from '#service-kit';
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
import { BlockLayer, BlockLayerBackend, ClientBudgets, NbdFrontEnd, readNbdEnv } from '#dispatch';
import { KeySchema } from '#redis-mq';
import { rnullDriverFactory } from '#rnull';
import { BlockDeviceController } from './block-device.controller';
import { GenDiskForwardController } from './gendisk.controller';

@Module({
  imports: [ServiceCoreModule.forService('dispatch', { failFast: true })],
  controllers: [BlockDeviceController, GenDiskForwardController],
  providers: [
    {
      provide: BlockLayer,
      inject: [REDIS, REDIS_BLOCKING, KeySchema, DiskDirectory, SERVICE_ENV, BlockMetrics, SERVICE_LOG, GenDiskForwarder],
      useFactory: (
        r: Redis,
        b: Redis,
        k: KeySchema,
        d: DiskDirectory,
        e: ServiceEnv,
        metrics: BlockMetrics,
        log: Logger,
        gendisk: GenDiskForwarder,
      ) => {
        const driverEvents = driverEventReporters({ metrics, log: log.child({ component: 'driver' }) }, badBlocksWriterOf(gendisk));
        return new BlockLayer(
          r,
          b,
          k,
          d,
          {
            timeoutScanMs: e.timeoutScanMs,
            ownerLeaseMs: e.ownerLeaseMs,
            localDriver: e.driverPlacement === 'local' ? rnullDriverFactory : undefined,
            driverEvents,
            flush: e.flush,
          },
          { metrics, log: log.child({ component: 'block-layer' }) },
        );
      },
    },
    { provide: GenDiskForwarder, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new GenDiskForwarder(e.gendiskUrl, e.grpcClient) },
    { provide: ClientBudgets, inject: [SERVICE_ENV], useFactory: (e: ServiceEnv) => new ClientBudgets(e.grpcLimits.maxInflightPerClient) },
  ],
})
export class DispatchModule implements OnModuleInit, BeforeApplicationShutdown {
  /** NBD served in this process (NBD_IN_DISPATCH=1), straight into the block layer. */
  private nbd?: NbdFrontEnd;

  constructor(
    private readonly layer: BlockLayer,
    private readonly directory: DiskDirectory,
    private readonly gendisk: GenDiskForwarder,
    private readonly metrics: MetricsRegistry,
    @Inject(SERVICE_LOG) private readonly log: Logger,
    @Inject(SERVICE_ENV) private readonly env: ServiceEnv,
  ) {}

  /** The NBD listener's `host:port` when dispatch serves NBD, else undefined. */
  get nbdAddress(): string | undefined {
    return this.nbd?.address;
  }

  async onModuleInit(): Promise<void> {
    await this.directory.start();
    await this.layer.start();
    const nbdEnv = readNbdEnv();
    if (nbdEnv.inDispatch) {
      const log = this.log.child({ component: 'nbd-server' });
      this.nbd = new NbdFrontEnd(
        new BlockLayerBackend(this.layer, this.directory, this.env.flush.replicas),
        nbdEnv,
        'dispatch',
        this.metrics.registry,
        log,
      );
      log.info({ nbd: await this.nbd.listen(), security: nbdEnv.security.summary }, 'serving NBD in dispatch');
    }
  }

  /** SIGTERM: NBD clients' commands and in-flight IO complete (or time out) before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.nbd?.close();
    await this.layer.drain(8_000);
    await this.layer.stop();
    this.gendisk.close();
  }
}
