// nbd-gateway: the cluster's disks as NBD exports. It holds no Redis connection: every
// listing and every IO goes through dispatch's public gRPC API.
import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthChecks, HealthModule, MetricsRegistry, readServiceEnv, serviceLogger, serviceLoggerModule } from '#service-kit';
import { type NbdEnv, NbdFrontEnd, readNbdEnv } from '#dispatch';
import { ClusterBackend } from './cluster-backend';

const SERVICE = 'nbd-gateway';
const NBD_ENV = 'NBD_ENV';
const env = readServiceEnv(SERVICE);
const log = serviceLogger(SERVICE, env.instanceId);

@Module({
  imports: [HealthModule, serviceLoggerModule(log)],
  providers: [
    { provide: NBD_ENV, useFactory: () => readNbdEnv() },
    {
      provide: ClusterBackend,
      inject: [NBD_ENV],
      useFactory: (e: NbdEnv) => new ClusterBackend(e.dispatchUrl, undefined, env.flush.replicas, env.grpcClient),
    },
    {
      provide: NbdFrontEnd,
      inject: [ClusterBackend, NBD_ENV, MetricsRegistry],
      useFactory: (b: ClusterBackend, e: NbdEnv, m: MetricsRegistry) =>
        new NbdFrontEnd(b, e, SERVICE, m.registry, log.child({ component: 'nbd-server' })),
    },
  ],
})
export class NbdGatewayModule implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(NBD_ENV) private readonly nbdEnv: NbdEnv,
    private readonly backend: ClusterBackend,
    private readonly frontEnd: NbdFrontEnd,
    private readonly health: HealthChecks,
  ) {}

  /** `host:port` the NBD listener is bound to, once `onModuleInit` ran. */
  get address(): string {
    return this.frontEnd.address;
  }

  async onModuleInit(): Promise<void> {
    this.health.add('dispatch', () => this.backend.listExports());
    const address = await this.frontEnd.listen();
    log.info({ nbd: address, dispatch: this.nbdEnv.dispatchUrl, security: this.nbdEnv.security.summary }, 'serving NBD');
  }

  /** SIGTERM: commands already read are answered, then each connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.frontEnd.close();
  }

  onApplicationShutdown(): void {
    this.backend.close();
  }
}
