// The cluster under benchmark: a private Redis (unless --redis-url), every service on
// ephemeral ports under a unique KEY_PREFIX, the NBD gateway when the build has one, and
// the disks the harness creates — all of it removed again by `stop()`.
//
// Invariants:
//   - Every disk created through `createDisk` is deleted by `deleteDisk` or by `stop()`.
//   - `stop()` is idempotent and leaves no key of the prefix in Redis and no child running.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KeySchema, unlinkMatching } from '#redis-mq';
import type { DriverPlacementName } from '#service-kit';
import type { Disk, DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { Cluster, type ClusterOptions } from '../../cluster/cluster';
import { findOrStartRedis, freePort, type RedisHandle } from '../../cluster/private-redis';
import { RnullClients } from '../../rnullctl/src/grpc-clients';
import type { BenchConfig } from './bench-matrix';
import { type CpuSources, parseRedisCpuSeconds, selfCpuSeconds } from './cpu-per-io';
import { scrape, type Sample } from './metrics-scrape';

export interface BenchClusterOptions {
  readonly redisUrl?: string;
  readonly sizeMiB: number;
  readonly completionNsec: number;
  /** Where NBD is served (path b): inside dispatch or by the nbd-gateway service. */
  readonly nbdMode?: 'dispatch' | 'service';
  /** `DRIVER_PLACEMENT` of dispatch; default local. */
  readonly placement?: DriverPlacementName;
  /** Told each service as it becomes healthy. */
  readonly onReady?: (label: string) => void;
}

/** The page store of one disk: logical pages and what Redis says the key takes. */
export interface PageStoreBytes {
  /** Pages in the store x 4096. */
  readonly pageBytes: number;
  /** MEMORY USAGE of the page hash (SAMPLES 0: every field counted). */
  readonly redisBytes: number;
}

export class BenchCluster {
  readonly prefix = `bench-${randomBytes(4).toString('hex')}:`;
  readonly keys = new KeySchema(this.prefix);
  private redisHandle?: RedisHandle;
  private cluster?: Cluster;
  private clients?: RnullClients;
  private redis?: Redis;
  private readonly disks = new Set<string>();
  private readonly lastLines: string[] = [];
  private diskCounter = 0;
  private stopping?: Promise<void>;

  constructor(private readonly opts: BenchClusterOptions) {}

  async start(): Promise<this> {
    this.redisHandle = this.opts.redisUrl
      ? { url: this.opts.redisUrl, stop: async () => undefined }
      : await findOrStartRedis(`redis://127.0.0.1:${await freePort()}`);
    this.redis = new Redis(this.redisHandle.url, { maxRetriesPerRequest: 2 });
    const options: ClusterOptions = {
      redisUrl: this.redisHandle.url,
      keyPrefix: this.prefix,
      ephemeralPorts: true,
      nbdGateway: this.opts.nbdMode ?? 'dispatch',
      env: { DRIVER_PLACEMENT: this.opts.placement ?? 'local' },
      out: (label: string, line: string) => {
        this.lastLines.push(`[${label}] ${line}`);
        if (this.lastLines.length > 50) this.lastLines.shift();
      },
      onReady: (label: string) => this.opts.onReady?.(label),
    };
    this.cluster = new Cluster(options);
    await this.cluster.start();
    this.clients = new RnullClients(this.cluster.dispatchAddress, 30_000);
    return this;
  }

  get client(): RnullClients {
    if (!this.clients) throw new Error('bench cluster not started');
    return this.clients;
  }

  /** 'host:PORT' of the NBD gateway, or undefined when it does not run. */
  get nbdAddress(): string | undefined {
    return this.cluster?.nbdAddress || undefined;
  }

  get redisUrl(): string {
    return this.redisHandle?.url ?? '';
  }

  /** Whether the harness runs its own Redis (so INFO counts only this cluster). */
  get privateRedis(): boolean {
    return !this.opts.redisUrl;
  }

  /** The newest service output lines, for error messages. */
  recentOutput(): string {
    return this.lastLines.slice(-15).join('\n');
  }

  /** Creates and powers a disk for `c` (hw_queue_depth >= qd); extra attributes win. */
  async createDisk(c: BenchConfig, extra: Partial<DiskAttributes> = {}): Promise<Disk> {
    const name = `bench${this.diskCounter++}`;
    const attributes: DiskAttributes = {
      size: BigInt(this.opts.sizeMiB),
      irqmode: c.irqmode,
      memoryBacked: c.memoryBacked,
      completionNsec: BigInt(this.opts.completionNsec),
      hwQueueDepth: Math.max(64, c.qd),
      ...extra,
    };
    this.disks.add(name);
    return this.client.createDisk({ name, attributes, power: true });
  }

  /** Powers the disk off (as configfs wants before removal) and deletes it. */
  async deleteDisk(name: string): Promise<void> {
    this.disks.delete(name);
    await this.client.powerDisk(name, false);
    await this.client.deleteDisk(name);
  }

  /** Redis commands processed so far (INFO stats total_commands_processed). */
  async commandsProcessed(): Promise<number> {
    const info = await this.redis!.info('stats');
    const m = /total_commands_processed:(\d+)/.exec(info);
    return m ? Number(m[1]) : NaN;
  }

  /**
   * Page bytes stored for `disk` and Redis memory they take: the index's MEMORY USAGE plus
   * one page key's times the page count (every page key is the same size, DESIGN I8).
   */
  async pageStore(disk: string): Promise<PageStoreBytes> {
    const index = this.keys.pageIndex(disk);
    const redis = this.redis!;
    const [pages, indexUsage, sample] = await Promise.all([
      redis.scard(index),
      redis.call('MEMORY', 'USAGE', index, 'SAMPLES', '0'),
      redis.srandmember(index),
    ]);
    const pageUsage = sample === null ? 0 : Number((await redis.call('MEMORY', 'USAGE', this.keys.page(disk, Number(sample)))) ?? 0);
    return { pageBytes: pages * 4096, redisBytes: Number(indexUsage ?? 0) + pages * pageUsage };
  }

  /**
   * Redis commands per second of the idle cluster (no disk busy) over `ms`: the background
   * (BullMQ workers, notice routers, scrapes) that every per-IO command count includes.
   */
  async idleCommandRate(ms = 2000): Promise<number> {
    const before = await this.commandsProcessed();
    await new Promise((r) => setTimeout(r, ms));
    // The two INFO calls themselves are not background.
    return ((await this.commandsProcessed()) - before - 1) / (ms / 1000);
  }

  /** Redis CPU seconds (INFO cpu used_cpu_sys + used_cpu_user): works whoever started it. */
  async redisCpuSeconds(): Promise<number> {
    return parseRedisCpuSeconds(await this.redis!.info('cpu'));
  }

  /** Pid of every live service process, by label (`gendisk`, `dispatch`, `rnull`, …). */
  servicePids(): Map<string, number | undefined> {
    const out = new Map<string, number | undefined>();
    for (const p of this.cluster?.processes ?? [])
      if (p.child.exitCode === null && p.child.signalCode === null) out.set(p.spec.label, p.pid);
    return out;
  }

  /**
   * What CPU per IO samples on this cluster: every service, Redis, and `client` (this
   * process: the gRPC load generator runs in it).
   */
  cpuSources(clientInProcess: boolean): CpuSources {
    return {
      pids: this.servicePids(),
      redis: () => this.redisCpuSeconds(),
      extra: clientInProcess ? new Map([['client', selfCpuSeconds]]) : undefined,
    };
  }

  /** Redis `used_memory` (INFO memory). */
  async redisUsedMemory(): Promise<number> {
    const m = /used_memory:(\d+)/.exec(await this.redis!.info('memory'));
    return m ? Number(m[1]) : NaN;
  }

  /** /metrics of every live service process, by label (`rnull`, `completion`, …). */
  async scrapeAll(service?: string): Promise<Map<string, Sample[]>> {
    const out = new Map<string, Sample[]>();
    for (const p of this.cluster?.processes ?? []) {
      if (p.child.exitCode !== null || (service && p.spec.service !== service)) continue;
      out.set(p.spec.label, await scrape((await p.ready).http));
    }
    return out;
  }

  /** Deletes the harness' disks, stops every service and a private Redis. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const d of [...this.disks]) await this.deleteDisk(d).catch(() => undefined);
      this.clients?.close();
      await this.cluster?.stop();
      if (this.redis && !this.privateRedis) await unlinkMatching(this.redis, this.keys.prefixPattern()).catch(() => undefined);
      this.redis?.disconnect();
      await this.redisHandle?.stop();
    })();
    return this.stopping;
  }
}
