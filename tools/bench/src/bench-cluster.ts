// The cluster under benchmark: a private Redis (unless --redis-url), or a Redis Cluster
// (--redis-cluster: a local one started here, or the seed nodes of one that runs), every
// service on ephemeral ports under a unique KEY_PREFIX with as many processes of each as
// asked (--dispatch, --rnull, --completion), NBD served per dispatch instance, and the
// disks the harness creates — all of it removed again by `stop()`.
//
// Invariants:
//   - Every disk created through `createDisk` is deleted by `deleteDisk` or by `stop()`.
//   - `stop()` is idempotent and leaves no key of the prefix in Redis and no child running.
//   - Redis figures (commands, CPU, memory) are summed over every Redis process of the run:
//     commands and memory over the masters (what clients send and what is stored), CPU as
//     `redis` (masters) and `redis-replica` (replicas: the cost of replication).
import { randomBytes } from 'node:crypto';
import { Cluster as RedisClusterClient, Redis } from 'ioredis';
import { KeySchema, unlinkMatching } from '#redis-mq';
import { type DriverPlacementName, readRedisClusterNodes } from '#service-kit';
import type { Disk, DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { Cluster, type ClusterOptions } from '../../cluster/cluster';
import { findOrStartRedis, freePort, type RedisHandle } from '../../cluster/private-redis';
import { RedisCluster } from '../../cluster/redis-cluster';
import type { RedisHugePages } from '../../cluster/redis-server-options';
import { RnullClients } from '../../rnullctl/src/grpc-clients';
import type { BenchConfig, RedisPurge } from './bench-matrix';
import { type CpuSources, parseRedisCpuSeconds, selfCpuSeconds } from './cpu-per-io';
import { parseClusterNodes, type RedisProcess } from './redis-processes';
import { scrape, type Sample } from './metrics-scrape';

export interface BenchClusterOptions {
  readonly redisUrl?: string;
  /** `local` (start a 3+3 Redis Cluster on loopback) or seed nodes `host:port,…`. */
  readonly redisCluster?: string;
  /** Huge pages for the redis-servers started here (default on). */
  readonly redisHugePages?: RedisHugePages;
  /** `MEMORY PURGE` after each deleted disk (`deleteDisk`; default on). */
  readonly redisPurge?: RedisPurge;
  /** Processes per service (default 1 each). */
  readonly dispatch?: number;
  readonly rnull?: number;
  readonly completion?: number;
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

/** Redis work counters (`BenchCluster.redisTraffic`). */
export interface RedisTraffic {
  readonly commands: number;
  readonly bytes: number;
}

/** Redis commands and bytes per IO between two `redisTraffic` readings (undefined without IO). */
export function trafficPerIo(
  before: RedisTraffic,
  after: RedisTraffic,
  ios: number,
): { redisCommandsPerIo?: number; redisBytesPerIo?: number } {
  if (ios <= 0) return {};
  return { redisCommandsPerIo: (after.commands - before.commands) / ios, redisBytesPerIo: (after.bytes - before.bytes) / ios };
}

export class BenchCluster {
  readonly prefix = `bench-${randomBytes(4).toString('hex')}:`;
  readonly keys = new KeySchema(this.prefix);
  private redisHandle?: RedisHandle;
  private localRedisCluster?: RedisCluster;
  private cluster?: Cluster;
  /** One client per dispatch instance, first instance first. */
  private clientList: RnullClients[] = [];
  /** The keyspace: one Redis, or a Redis Cluster client typed as one (DESIGN I7). */
  private redis?: Redis;
  /** Every Redis process, for INFO (one Redis: that one). */
  private redisProcesses: RedisProcess[] = [];
  private readonly disks = new Set<string>();
  private readonly lastLines: string[] = [];
  private diskCounter = 0;
  private stopping?: Promise<void>;

  constructor(private readonly opts: BenchClusterOptions) {}

  async start(): Promise<this> {
    let seeds: string | undefined;
    if (this.opts.redisCluster) {
      if (this.opts.redisCluster === 'local')
        this.localRedisCluster = await new RedisCluster({ hugePages: this.opts.redisHugePages }).start();
      seeds = this.localRedisCluster?.seedList ?? this.opts.redisCluster;
      const seedNodes = readRedisClusterNodes(seeds)!;
      this.redis = new RedisClusterClient([...seedNodes], {
        redisOptions: { maxRetriesPerRequest: 2 },
        scaleReads: 'master',
      }) as unknown as Redis;
      const first = new Redis(seedNodes[0].port, seedNodes[0].host, { maxRetriesPerRequest: 2 });
      const nodes = parseClusterNodes(String(await first.call('CLUSTER', 'NODES')));
      first.disconnect();
      // Each node's own INFO says what it is: the seed's CLUSTER NODES can still show a
      // replica that has just been attached as a slotless master.
      this.redisProcesses = await Promise.all(
        nodes.map(async (n) => {
          const conn = new Redis(n.port, n.host, { maxRetriesPerRequest: 2 });
          return { ...n, replica: /^role:slave/m.test(await conn.info('replication')), conn };
        }),
      );
    } else {
      this.redisHandle = this.opts.redisUrl
        ? { url: this.opts.redisUrl, stop: async () => undefined }
        : await findOrStartRedis(`redis://127.0.0.1:${await freePort()}`, this.opts.redisHugePages);
      this.redis = new Redis(this.redisHandle.url, { maxRetriesPerRequest: 2 });
      this.redisProcesses = [{ host: '', port: 0, replica: false, conn: this.redis }];
    }
    const options: ClusterOptions = {
      ...(seeds ? { redisClusterNodes: seeds } : { redisUrl: this.redisHandle!.url }),
      keyPrefix: this.prefix,
      ephemeralPorts: true,
      nbdGateway: this.opts.nbdMode ?? 'dispatch',
      dispatchInstances: this.opts.dispatch ?? 1,
      rnullWorkers: this.opts.rnull ?? 1,
      completionWorkers: this.opts.completion ?? 1,
      env: { DRIVER_PLACEMENT: this.opts.placement ?? 'local' },
      // For collectGarbage (POST /debug/gc); the flag alone changes nothing a service does.
      nodeArgs: ['--expose-gc'],
      out: (label: string, line: string) => {
        this.lastLines.push(`[${label}] ${line}`);
        if (this.lastLines.length > 50) this.lastLines.shift();
      },
      onReady: (label: string) => this.opts.onReady?.(label),
    };
    this.cluster = new Cluster(options);
    await this.cluster.start();
    this.clientList = this.cluster.dispatchAddresses.map((a) => new RnullClients(a, 30_000));
    return this;
  }

  /** The first dispatch instance's client (disk management, single-stream loads). */
  get client(): RnullClients {
    const c = this.clientList[0];
    if (!c) throw new Error('bench cluster not started');
    return c;
  }

  /** One client per dispatch instance (path a spreads its streams over them). */
  get clients(): readonly RnullClients[] {
    return this.clientList;
  }

  /** 'host:PORT' of the first NBD listener, or undefined when NBD is not served. */
  get nbdAddress(): string | undefined {
    return this.cluster?.nbdAddress || undefined;
  }

  /** 'host:PORT' of every NBD listener, one per dispatch instance. */
  get nbdAddresses(): readonly string[] {
    return this.cluster?.nbdAddresses ?? [];
  }

  /** Where Redis is: its URL, or the Redis Cluster's seed nodes and shape. */
  get redisUrl(): string {
    if (!this.opts.redisCluster) return this.redisHandle?.url ?? '';
    const masters = this.redisProcesses.filter((p) => !p.replica).length;
    const where = this.localRedisCluster ? 'local' : this.opts.redisCluster;
    return `redis cluster ${where}: ${masters} masters, ${this.redisProcesses.length - masters} replicas`;
  }

  /** Whether the harness runs its own Redis (so INFO counts only this cluster). */
  get privateRedis(): boolean {
    return !this.opts.redisUrl && (!this.opts.redisCluster || this.opts.redisCluster === 'local');
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

  /**
   * Powers the disk off (as configfs wants before removal) and deletes it, then (unless
   * `redisPurge` is off: `--redis-purge off`) asks every Redis process to hand the memory
   * it freed back to the kernel (`MEMORY PURGE`; jemalloc would keep it for its decay time:
   * `tools/cluster/redis-server-options.ts`). So the next disk's writes fault fresh memory
   * in, as a new nbdkit export does, whatever the row before freed: without it a 1 MiB size
   * row right after the memory section wrote into the 1.3 GiB Redis had just freed (7.4 CPU
   * ns per byte) and the 256 MiB row into new memory (15.9).
   */
  async deleteDisk(name: string): Promise<void> {
    this.disks.delete(name);
    await this.client.powerDisk(name, false);
    await this.client.deleteDisk(name);
    if (this.opts.redisPurge !== 'off') await this.purgeRedisMemory();
  }

  /** `MEMORY PURGE` on every Redis process; a Redis that refuses it (ACL, not jemalloc) keeps its memory. */
  private async purgeRedisMemory(): Promise<void> {
    await Promise.all(this.redisProcesses.map((p) => p.conn.call('MEMORY', 'PURGE').catch(() => undefined)));
  }

  /** Redis commands processed so far (INFO stats total_commands_processed). */
  async commandsProcessed(): Promise<number> {
    return (await this.redisTraffic()).commands;
  }

  /**
   * Commands processed and network bytes in + out so far, summed over the masters (INFO
   * stats total_commands_processed, total_net_input_bytes, total_net_output_bytes; the
   * output includes what masters send their replicas).
   */
  async redisTraffic(): Promise<RedisTraffic> {
    let commands = 0;
    let bytes = 0;
    for (const p of this.redisProcesses.filter((x) => !x.replica)) {
      const info = await p.conn.info('stats');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
      commands += field('total_commands_processed');
      bytes += field('total_net_input_bytes') + field('total_net_output_bytes');
    }
    return { commands, bytes };
  }

  /**
   * Page bytes stored for `disk` and Redis memory they take: the index's MEMORY USAGE plus
   * one page key's times the page count (every page key is the same size, DESIGN I8).
   */
  async pageStore(disk: string): Promise<PageStoreBytes> {
    const index = this.keys.pageIndex(disk);
    const redis = this.redis!;
    const [pages, sample] = await Promise.all([redis.scard(index), redis.srandmember(index)]);
    const pageUsage = sample === null ? 0 : await this.memoryUsage(this.keys.page(disk, Number(sample)));
    return { pageBytes: pages * 4096, redisBytes: (await this.memoryUsage(index)) + pages * pageUsage };
  }

  /** MEMORY USAGE of `key` (SAMPLES 0), asked of every master: the one that holds it answers. */
  private async memoryUsage(key: string): Promise<number> {
    for (const p of this.redisProcesses.filter((x) => !x.replica)) {
      const n = await p.conn.call('MEMORY', 'USAGE', key, 'SAMPLES', '0').catch(() => null);
      if (n !== null) return Number(n);
    }
    return 0;
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

  /**
   * Redis CPU seconds (INFO cpu used_cpu_sys + used_cpu_user, works whoever started it):
   * `redis` summed over the masters (one Redis: itself), `redis-replica` over the replicas.
   */
  async redisCpuSeconds(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const p of this.redisProcesses) {
      const label = p.replica ? 'redis-replica' : 'redis';
      out.set(label, (out.get(label) ?? 0) + parseRedisCpuSeconds(await p.conn.info('cpu')));
    }
    return out;
  }

  /** Pid of every live service process, by label (`gendisk`, `dispatch`, `rnull`, …). */
  servicePids(): Map<string, number | undefined> {
    const out = new Map<string, number | undefined>();
    for (const p of this.cluster?.live() ?? []) out.set(p.spec.label, p.pid);
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
    let sum = 0;
    for (const p of this.redisProcesses.filter((x) => !x.replica)) {
      const m = /used_memory:(\d+)/.exec(await p.conn.info('memory'));
      sum += m ? Number(m[1]) : NaN;
    }
    return sum;
  }

  /**
   * One full garbage collection in every live service process (`POST /debug/gc`; the bench
   * starts them with --expose-gc), so what is read next is live memory, not garbage V8 has
   * not collected yet.
   */
  async collectGarbage(): Promise<void> {
    for (const p of this.cluster?.live() ?? []) {
      const http = (await p.ready).http;
      const where = `POST :${http}/debug/gc (${p.spec.label})`;
      const res = await fetch(`http://127.0.0.1:${http}/debug/gc`, { method: 'POST' }).catch((err: unknown) => {
        throw new Error(`${where} failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      if (!res.ok) throw new Error(`${where} answered ${res.status}: ${await res.text()}`);
    }
  }

  /** /metrics of every live service process, by label (`rnull`, `completion`, …). */
  async scrapeAll(service?: string): Promise<Map<string, Sample[]>> {
    const out = new Map<string, Sample[]>();
    for (const p of this.cluster?.live(service) ?? []) {
      out.set(p.spec.label, await scrape((await p.ready).http));
    }
    return out;
  }

  /** Deletes the harness' disks, stops every service and a private Redis. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const d of [...this.disks]) await this.deleteDisk(d).catch(() => undefined);
      for (const c of this.clientList) c.close();
      await this.cluster?.stop();
      if (this.redis && !this.privateRedis) await unlinkMatching(this.redis, this.keys.prefixPattern()).catch(() => undefined);
      for (const p of this.redisProcesses) if (p.conn !== this.redis) p.conn.disconnect();
      this.redis?.disconnect();
      await this.redisHandle?.stop();
      await this.localRedisCluster?.stop();
    })();
    return this.stopping;
  }
}
