// The cluster's hot path in one process, for fast tests (DESIGN §7): gendisk's registry,
// one or more dispatch block layers (engine + remote or local driver + owner lease +
// completion router), an rnull driver host with its hctx workers and a completion service, all on a
// real Redis under a key prefix of the test's own, with no Nest and no gRPC.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KeySchema, unlinkMatching } from '#redis-mq';
import { type DiskAttributes, rnullDriverFactory as rnull } from '#rnull';
import { blockingConnection, commandConnection, type DriverPlacementName } from '#service-kit';
import { BadBlockReporter, DiskDirectory, type DiskRecord, DiskRegistry, RedisDiskLifecycle } from '#gendisk';
import { type BioResult, BlockLayer, type WireSubmission } from '#dispatch';
import { CompletionWorkers, DiskDrivers, HctxWorkers } from '#driver-host';

export interface HotPathOptions {
  readonly redisUrl?: string;
  readonly ownerLeaseMs?: number;
  readonly stalledIntervalMs?: number;
  readonly timeoutScanMs?: number;
  readonly workerConcurrency?: number;
  /** Where the dispatch instances run the driver (`DRIVER_PLACEMENT`); default remote. */
  readonly placement?: DriverPlacementName;
}

/** One dispatch instance of the harness. */
export interface HarnessDispatch {
  readonly layer: BlockLayer;
  readonly directory: DiskDirectory;
}

/**
 * Contract: every key it writes is under `keys.prefix`, and `stop()` deletes them and
 * closes every connection it opened, so jest exits.
 */
export class HotPathHarness {
  readonly keys: KeySchema;
  readonly redis: Redis;
  readonly registry: DiskRegistry;
  readonly dispatches: HarnessDispatch[] = [];
  private readonly connections: Redis[] = [];
  private readonly stops: (() => Promise<unknown>)[] = [];
  private readonly url: string;
  /** Bad-block hits of every driver; a once-cleared range goes to this process's registry, as to gendisk. */
  private readonly badBlocks = new BadBlockReporter({}, (disk, command) => this.registry.configure(disk, { badblocks: command }));

  private constructor(private readonly opts: HotPathOptions) {
    this.url = opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    this.keys = new KeySchema(`test:hot-path:${process.pid}:${randomBytes(4).toString('hex')}:`);
    this.redis = this.command('harness');
    this.registry = new DiskRegistry(this.redis, this.keys, new RedisDiskLifecycle(this.redis, this.keys));
  }

  /** A harness with one dispatch instance, one rnull and one completion worker process. */
  static async start(opts: HotPathOptions = {}): Promise<HotPathHarness> {
    const h = new HotPathHarness(opts);
    await h.addDispatch();
    await h.addRnull();
    await h.addCompletion();
    return h;
  }

  /** A disk created and powered on through the registry, as `rnullctl disk create --power` does. */
  async createDisk(name: string, attributes: Partial<DiskAttributes> = {}): Promise<DiskRecord> {
    return this.registry.create(name, attributes, true);
  }

  /** Submits on dispatch instance `instance` (default the first). */
  submit(s: Partial<WireSubmission> & { disk: string; op: number }, instance = 0): Promise<BioResult> {
    const full: WireSubmission = { sector: 0, length: 0, flags: 0, ...s };
    return this.dispatches[instance].layer.submit(full);
  }

  /** Another dispatch instance (its own owner epochs for every disk). */
  async addDispatch(): Promise<HarnessDispatch> {
    const directory = await this.directory('dispatch');
    const layer = new BlockLayer(this.command('dispatch'), this.blocking('dispatch-cq'), this.keys, directory, {
      timeoutScanMs: this.opts.timeoutScanMs ?? 20,
      ownerLeaseMs: this.opts.ownerLeaseMs,
      localDriver: this.opts.placement === 'local' ? rnull : undefined,
      driverEvents: (disk) => this.badBlocks.eventsFor(disk),
    });
    await layer.start();
    const d = { layer, directory };
    this.dispatches.push(d);
    this.stops.push(() => layer.stop());
    return d;
  }

  /**
   * Instance `instance` dies as a SIGKILL leaves it: nothing is released, no lease is
   * renewed, nothing it holds ends. Its budget comes back only when its lease expires.
   */
  async killDispatch(instance: number): Promise<void> {
    await this.dispatches[instance].layer.abandon();
  }

  private async addRnull(): Promise<void> {
    const concurrency = this.opts.workerConcurrency ?? 4;
    const stalled = this.opts.stalledIntervalMs ?? 5000;
    const workers = new HctxWorkers(this.blocking('rnull-workers'), this.keys, concurrency, stalled);
    const drivers = new DiskDrivers(
      this.command('rnull'),
      this.keys,
      await this.directory('rnull'),
      rnull,
      workers.onHost,
      {},
      undefined,
      (disk) => this.badBlocks.eventsFor(disk),
    );
    workers.attach(drivers);
    await drivers.start();
    this.stops.push(async () => {
      await workers.close();
      await drivers.close();
    });
  }

  private async addCompletion(): Promise<void> {
    const workers = new CompletionWorkers(this.opts.workerConcurrency ?? 4, this.opts.stalledIntervalMs ?? 5000);
    const drivers = new DiskDrivers(this.command('completion'), this.keys, await this.directory('completion'), rnull, workers.onHost);
    workers.attach(drivers);
    await drivers.start();
    this.stops.push(async () => {
      await workers.close();
      await drivers.close();
    });
  }

  private async directory(name: string): Promise<DiskDirectory> {
    const d = new DiskDirectory(this.command(name), this.blocking(`${name}-events`), this.keys);
    await d.start();
    return d;
  }

  private command(name: string): Redis {
    const r = commandConnection(this.url, `harness-${name}`);
    this.connections.push(r);
    return r;
  }

  private blocking(name: string): Redis {
    const r = blockingConnection(this.url, `harness-${name}`);
    this.connections.push(r);
    return r;
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
    await unlinkMatching(this.redis, this.keys.prefixPattern());
    for (const r of this.connections) r.disconnect();
  }
}
