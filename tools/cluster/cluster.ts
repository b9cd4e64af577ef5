// The whole cluster on one machine, as `npm start` runs it and the end-to-end tests use
// it: Redis, then gendisk, completion, rnull, dispatch and (optionally) the NBD gateway as
// their own processes.
import { DEFAULT_PORTS } from '#service-kit';
import { findOrStartRedis, freePort, type RedisHandle } from './private-redis';
import { restartDelay } from './restart-backoff';
import { ServiceProcess, waitHealthy, type ReadyLine } from './service-process';

/** How often `Cluster.spawn` starts a process again whose picked port was taken meanwhile. */
const BUSY_PORT_TRIES = 3;

export interface ClusterOptions {
  /** Use this Redis instead of REDIS_URL / a private one. */
  redisUrl?: string;
  /**
   * Seed nodes of a Redis Cluster (`host:port,…`): every service gets REDIS_CLUSTER_NODES
   * and uses the cluster; `redisUrl` and REDIS_URL are then not used.
   */
  redisClusterNodes?: string;
  /** Prefix of every key and queue (tests isolate with a unique one). */
  keyPrefix?: string;
  /** Pick free ports instead of the documented defaults (tests). */
  ephemeralPorts?: boolean;
  rnullWorkers?: number;
  completionWorkers?: number;
  /**
   * Dispatch instances (default 1). They serve the same disks (DESIGN I3: each is an
   * owner); each has its own gRPC address and, with NBD, its own NBD listener or gateway.
   */
  dispatchInstances?: number;
  /**
   * Serve NBD: `'dispatch'` (or `true`, the faster way on this machine, see README) has
   * dispatch serve it in its own process (NBD_IN_DISPATCH=1); `'service'` runs
   * services/nbd-gateway in front of dispatch.
   */
  nbdGateway?: boolean | 'service' | 'dispatch';
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra node flags for every service process (the bench's `--expose-gc`, for `POST /debug/gc`). */
  nodeArgs?: readonly string[];
  /** Extra environment for each process of one service (e.g. its own Redis user), after `env`. */
  serviceEnv?: (service: string) => Record<string, string>;
  /** Where service output lines go. */
  out?: (label: string, line: string) => void;
  /** Called as each service becomes healthy (progress display), restarts included. */
  onReady?: (label: string, ready: ReadyLine) => void;
  /**
   * Supervise (`npm start`): a service that exits while the cluster runs is started again,
   * with the same environment, after `restartDelay` (capped back-off). Tests leave it off:
   * they kill services on purpose.
   */
  supervise?: boolean;
  /** Called when a supervised service exited and will be started again in `delayMs`. */
  onRestart?: (label: string, e: { code: number | null; signal: string | null; delayMs: number; restarts: number }) => void;
}

/**
 * Invariants:
 *   - Every service gets the same REDIS_URL (or REDIS_CLUSTER_NODES) and KEY_PREFIX; every
 *     service but gendisk gets GENDISK_URL.
 *   - `stop()` stops the NBD gateway and dispatch first (no new IO), then the workers, then gendisk, then a
 *     private Redis; it resolves only when every child has exited.
 */
export class Cluster {
  readonly processes: ServiceProcess[] = [];
  /** The first dispatch instance's gRPC `host:port`. */
  dispatchAddress = '';
  /** Every dispatch instance's gRPC `host:port`, first instance first. */
  readonly dispatchAddresses: string[] = [];
  /** The first NBD listener's `host:port` when NBD is served (`nbdGateway`), else undefined. */
  nbdAddress?: string;
  /** Every NBD listener's `host:port`, one per dispatch instance, in the same order. */
  readonly nbdAddresses: string[] = [];
  private redis?: RedisHandle;
  private gendiskAddress = '';
  private counters = new Map<string, number>();
  private stopping = false;
  /** Restarts waiting out their back-off; `stop()` cancels them. */
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Restarts by label, for the status display. */
  readonly restarts = new Map<string, number>();
  private baseEnv: Record<string, string> = {};

  constructor(private readonly opts: ClusterOptions = {}) {}

  get redisUrl(): string {
    return this.baseEnv.REDIS_URL;
  }

  async start(): Promise<this> {
    if (!this.opts.redisClusterNodes) {
      this.redis = this.opts.redisUrl ? { url: this.opts.redisUrl, stop: async () => undefined } : await findOrStartRedis();
    }
    const eph = this.opts.ephemeralPorts;
    this.baseEnv = {
      ...(this.redis ? { REDIS_URL: this.redis.url } : {}),
      KEY_PREFIX: this.opts.keyPrefix ?? process.env.KEY_PREFIX ?? '',
      ...(this.opts.redisClusterNodes ? { REDIS_CLUSTER_NODES: this.opts.redisClusterNodes } : {}),
      ...this.opts.env,
    };
    // A free port is picked just before the process that binds it starts, and picked again
    // if another socket took it in between (see `spawn`).
    await this.spawn('gendisk', async () => {
      this.gendiskAddress = `127.0.0.1:${eph ? await freePort() : DEFAULT_PORTS.gendiskGrpc}`;
      return { GRPC_URL: this.gendiskAddress };
    });
    this.baseEnv.GENDISK_URL = this.gendiskAddress;
    const workers: Promise<ServiceProcess>[] = [];
    for (let i = 0; i < (this.opts.completionWorkers ?? 1); i++) workers.push(this.spawn('completion'));
    for (let i = 0; i < (this.opts.rnullWorkers ?? 1); i++) workers.push(this.spawn('rnull'));
    await Promise.all(workers);
    for (let i = 0; i < Math.max(1, this.opts.dispatchInstances ?? 1); i++) await this.addDispatch();
    this.dispatchAddress = this.dispatchAddresses[0];
    this.nbdAddress = this.nbdAddresses[0];
    return this;
  }

  /**
   * Starts one more dispatch instance (and its NBD listener or gateway when NBD is served),
   * records its addresses, and returns them. The first instance takes the documented ports
   * (unless ephemeral); the others always pick free ones.
   */
  async addDispatch(): Promise<{ process: ServiceProcess; grpc: string; nbd?: string }> {
    const first = this.dispatchAddresses.length === 0;
    const picks = Boolean(this.opts.ephemeralPorts) || !first;
    const nbdPort = picks ? '0' : String(DEFAULT_PORTS.nbdGateway);
    const nbdMode = this.opts.nbdGateway === true ? 'dispatch' : this.opts.nbdGateway || undefined;
    let grpcAddress = '';
    const dispatch = await this.spawn('dispatch', async () => {
      grpcAddress = `127.0.0.1:${picks ? await freePort() : DEFAULT_PORTS.dispatchGrpc}`;
      return { GRPC_URL: grpcAddress, ...(nbdMode === 'dispatch' ? { NBD_IN_DISPATCH: '1', NBD_PORT: nbdPort } : {}) };
    });
    let nbd: string | undefined;
    if (nbdMode === 'dispatch') nbd = (await dispatch.ready).nbd!;
    if (nbdMode === 'service') nbd = (await (await this.spawn('nbd-gateway', { DISPATCH_URL: grpcAddress, NBD_PORT: nbdPort })).ready).nbd!;
    this.dispatchAddresses.push(grpcAddress);
    if (nbd) this.nbdAddresses.push(nbd);
    return { process: dispatch, grpc: grpcAddress, nbd };
  }

  /**
   * Starts one more process of `service` (e.g. a second rnull) and waits for its health.
   * `env` may be a function that picks ports: a free port found by `freePort()` can be taken
   * by any other socket before the child binds it, so when the child exits on a port in use
   * and its ports were picked here (ephemeral, or a second process of a service), it is
   * started again on fresh ones, up to `BUSY_PORT_TRIES` times.
   */
  async spawn(service: string, env: Record<string, string> | (() => Promise<Record<string, string>>) = {}): Promise<ServiceProcess> {
    const n = this.counters.get(service) ?? 0;
    this.counters.set(service, n + 1);
    const label = n === 0 ? service : `${service}.${n}`;
    const picksPorts = Boolean(this.opts.ephemeralPorts) || n > 0;
    for (let attempt = 1; ; attempt++) {
      const httpPort = picksPorts ? await freePort() : defaultHttpPort(service);
      const extra = typeof env === 'function' ? await env() : env;
      const own = this.opts.serviceEnv?.(service) ?? {};
      const p = new ServiceProcess(
        { service, label, env: { ...this.baseEnv, ...own, HTTP_PORT: String(httpPort), ...extra }, nodeArgs: this.opts.nodeArgs },
        this.opts.out,
      );
      this.processes.push(p);
      let ready: ReadyLine;
      try {
        ready = await p.ready;
      } catch (err) {
        if (!picksPorts || attempt >= BUSY_PORT_TRIES || !p.failedOnBusyPort()) throw err;
        this.opts.out?.(label, `a port picked for ${label} was taken before it bound it; starting it again on fresh ports`);
        this.processes.splice(this.processes.indexOf(p), 1);
        continue;
      }
      await waitHealthy(ready.http);
      this.opts.onReady?.(label, ready);
      if (this.opts.supervise) this.supervise(p, 0);
      return p;
    }
  }

  /** Starts `p`'s service again when it exits on its own, as long as the cluster runs. */
  private supervise(p: ServiceProcess, quickFailures: number): void {
    const startedAt = Date.now();
    void p.exited.then(async (code) => {
      if (this.stopping) return;
      const label = p.spec.label;
      const next = restartDelay(quickFailures, Date.now() - startedAt);
      const restarts = (this.restarts.get(label) ?? 0) + 1;
      this.restarts.set(label, restarts);
      this.opts.onRestart?.(label, { code, signal: p.child.signalCode, delayMs: next.delayMs, restarts });
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.restartTimers.delete(t);
          resolve();
        }, next.delayMs);
        this.restartTimers.add(t);
      });
      if (this.stopping) return;
      const again = new ServiceProcess(p.spec, this.opts.out);
      this.processes[this.processes.indexOf(p)] = again;
      try {
        const ready = await again.ready;
        await waitHealthy(ready.http);
        this.opts.onReady?.(label, ready);
      } catch {
        // It died before it was healthy: its exit below schedules the next try.
      }
      this.supervise(again, next.quickFailures);
    });
  }

  /** The processes that still run (`ServiceProcess.running`), of `service` or of every service. */
  live(service?: string): ServiceProcess[] {
    return this.processes.filter((p) => p.running && (service === undefined || p.spec.service === service));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const order = ['nbd-gateway', 'dispatch', 'rnull', 'completion', 'gendisk'];
    for (const service of order) {
      await Promise.all(this.processes.filter((p) => p.spec.service === service).map((p) => p.stop()));
    }
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.redis?.stop();
  }
}

function defaultHttpPort(service: string): number {
  switch (service) {
    case 'dispatch':
      return DEFAULT_PORTS.dispatchHttp;
    case 'gendisk':
      return DEFAULT_PORTS.gendiskHttp;
    case 'rnull':
      return DEFAULT_PORTS.rnullHttp;
    case 'completion':
      return DEFAULT_PORTS.completionHttp;
    case 'nbd-gateway':
      return DEFAULT_PORTS.nbdGatewayHttp;
    default:
      return 0;
  }
}
