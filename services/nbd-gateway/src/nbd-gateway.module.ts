// nbd-gateway: the cluster's disks as NBD exports. It holds no Redis connection: every
// listing and every IO goes through dispatch's public gRPC API.
import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Counter, Gauge } from 'prom-client';
import { HealthChecks, HealthModule, MetricsRegistry, readServiceEnv, serviceLogger, type Logger, type ServiceEnv } from '#cluster';
import { commandName, NbdErrno, NbdServer } from '#nbd';
import { ClusterBackend } from './cluster-backend';
import { type GatewayEnv, readGatewayEnv } from './gateway-env';

const SERVICE = 'nbd-gateway';
const ENV = 'SERVICE_ENV';
const GATEWAY_ENV = 'GATEWAY_ENV';
const LOG = 'SERVICE_LOG';
const env = readServiceEnv(SERVICE);
const log = serviceLogger(SERVICE, env.instanceId);

/** The errno's name for a metric label (`ok`, `EINVAL`, …). */
function errnoLabel(errno: number): string {
  if (errno === NbdErrno.OK) return 'ok';
  return Object.entries(NbdErrno).find(([, v]) => v === errno)?.[0] ?? String(errno);
}

@Module({
  imports: [HealthModule, LoggerModule.forRoot({ pinoHttp: { logger: log, autoLogging: false } })],
  providers: [
    { provide: ENV, useValue: env },
    { provide: LOG, useValue: log },
    { provide: GATEWAY_ENV, useFactory: () => readGatewayEnv() },
    { provide: ClusterBackend, inject: [GATEWAY_ENV], useFactory: (g: GatewayEnv) => new ClusterBackend(g.dispatchUrl) },
  ],
})
export class NbdGatewayModule implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private server?: NbdServer;
  /** `host:port` the NBD listener is bound to, once `onModuleInit` ran. */
  address = '';

  constructor(
    @Inject(GATEWAY_ENV) private readonly gateway: GatewayEnv,
    @Inject(ENV) private readonly serviceEnv: ServiceEnv,
    @Inject(LOG) private readonly log: Logger,
    private readonly backend: ClusterBackend,
    private readonly health: HealthChecks,
    private readonly metrics: MetricsRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const registry = this.metrics.registry;
    const commands = new Counter({
      name: 'rnull_nbd_commands_total',
      help: 'NBD commands answered, by command and reply error',
      labelNames: ['service', 'command', 'error'],
      registers: [registry],
    });
    const connections = new Gauge({ name: 'rnull_nbd_connections', help: 'Open NBD connections', labelNames: ['service'], registers: [registry] });
    connections.set({ service: SERVICE }, 0);
    const log = this.log.child({ component: 'nbd-server' });
    this.server = new NbdServer({
      backend: this.backend,
      maxConnections: this.gateway.maxConnections,
      limits: { maxInFlight: this.gateway.maxInFlight, maxInFlightBytes: 64 * 1024 * 1024, replyHighWaterBytes: 4 * 1024 * 1024 },
      events: {
        onConnectionOpen: (peer) => {
          connections.inc({ service: SERVICE });
          log.debug({ peer }, 'connection opened');
        },
        onConnectionClose: (peer, exportName, how) => {
          connections.dec({ service: SERVICE });
          const line = { peer, export: exportName, how };
          if (how.startsWith('error') || how === 'bad-magic') log.warn(line, 'connection closed');
          else log.info(line, 'connection closed');
        },
        onCommand: (type, errno, message) => {
          commands.inc({ service: SERVICE, command: commandName(type), error: errnoLabel(errno) });
          if (errno !== NbdErrno.OK) log.warn({ command: commandName(type), error: errnoLabel(errno), reason: message }, 'command failed');
        },
      },
    });
    this.health.add('dispatch', () => this.backend.listExports());
    const port = await this.server.listen(this.gateway.nbdPort, this.gateway.nbdHost);
    this.address = `${this.gateway.nbdHost}:${port}`;
    log.info({ nbd: this.address, dispatch: this.gateway.dispatchUrl, instance: this.serviceEnv.instanceId }, 'serving NBD');
  }

  /** SIGTERM: commands already read are answered, then each connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }

  onApplicationShutdown(): void {
    this.backend.close();
  }
}
