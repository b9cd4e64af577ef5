// Mirrors the block layer's accounting (`/sys/block/<disk>/stat`, blktrace's Q/D/C
// timestamps) as Prometheus metrics: every `rnull_` metric of a service process, defined
// once here and registered on that process's `MetricsRegistry.registry`.
import { BlkStatus, ReqOp, ZoneCond } from '#blk-mq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CounterTally } from './counter-tally';

/**
 * Latency buckets in seconds: 10 µs to 10 s, 1-2.5-5 per decade, so microsecond-scale
 * completions (irqmode 0) and second-scale timer completions both resolve.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10,
];

/** Scrape-time values are read at most this often (queue counts cost Redis calls). */
export const SCRAPE_CACHE_MS = 1000;

/** The states reported by `rnull_queue_jobs` (BullMQ's `getJobCounts` names). */
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** What the queue-depth gauge reads: a batch queue (or a BullMQ `Queue`). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

/** One gauge sample read at scrape time. */
export interface GaugeSample<L extends string> {
  labels: Record<L, string | number>;
  value: number;
}

/** Label strings made once per value (recordIo asks for an op and a status label per IO). */
const opLabels = new Map<number, string>();
const statusLabels = new Map<number, string>();
const zoneCondLabels = new Map<number, string>();

/** The lower-case name of `value` in the numeric enum `names` (its number when unnamed), from `made`. */
function enumLabel(names: Readonly<Record<number, string>>, made: Map<number, string>, value: number): string {
  let label = made.get(value);
  if (label === undefined) made.set(value, (label = (names[value] ?? String(value)).toLowerCase()));
  return label;
}

/** `read` → op label: `read`, `write`, `flush`, `discard`, `write_zeroes`. */
export function opLabel(op: number): string {
  return enumLabel(ReqOp, opLabels, op);
}

/** `BlkStatus.IOERR` → `ioerr`; `ok` for success. */
export function statusLabel(status: number): string {
  return enumLabel(BlkStatus, statusLabels, status);
}

/** `ZoneCond.IMP_OPEN` → `imp_open`; conventional zones are `not_wp`. */
export function zoneCondLabel(cond: ZoneCond): string {
  return enumLabel(ZoneCond, zoneCondLabels, cond);
}

/**
 * The zones of one zoned disk as its zone table held them at a scrape. `conds` counts
 * zones per condition; a condition left out is unknown (the census of a big table reads
 * only what is cheap), not zero. `writtenSectors` (sectors below the write pointers of
 * the sequential zones, each at most its capacity) is undefined when unknown.
 */
export interface ZoneCensus {
  readonly disk: string;
  readonly conds: ReadonlyMap<ZoneCond, number>;
  /** Sum of the capacities of the sequential zones. */
  readonly capacitySectors: number;
  readonly writtenSectors?: number;
}

const instances = new WeakMap<Registry, BlockMetrics>();

/** recordIo's tally keys: op and status each take one of this many slots (ReqOp and BlkStatus values are below it; others are counted directly). */
const IO_KEY_SLOTS = 32;

/**
 * Contract:
 *   - Created once per registry (`BlockMetrics.of`): a second `new` on the same registry
 *     throws, as prom-client refuses a name twice.
 *   - Labels are low-cardinality: disk, hctx, op, status, service, queue, state. Never a
 *     tag, generation or sector.
 *   - Recording is in-process arithmetic; the only Redis calls are the queue counts and
 *     the zone census, made on scrape and cached for `SCRAPE_CACHE_MS`.
 *   - Durations are in seconds.
 */
export class BlockMetrics {
  /** Requests ended on dispatch, by final status (errors by BlkStatus are the non-`ok` ones). */
  readonly iosCompleted: Counter<'disk' | 'hctx' | 'op' | 'status'>;
  /** Bytes of requests that ended `ok`. */
  readonly bytesCompleted: Counter<'disk' | 'hctx' | 'op'>;
  /** Request latency on dispatch: request created (submit) → its end answered. */
  readonly ioLatency: Histogram<'disk' | 'op'>;
  /** recordIo's increments of iosCompleted and bytesCompleted, added when those are read. */
  private readonly iosTally: CounterTally<'disk' | 'hctx' | 'op' | 'status'>;
  private readonly bytesTally: CounterTally<'disk' | 'hctx' | 'op'>;
  /** rnull: batch pushed by dispatch (the batch header's `atMs`) → the worker starts it, before queueRqs. */
  readonly queueWait: Histogram<'disk' | 'hctx'>;
  /** rnull: time spent inside the driver's `queueRqs` for one batch. */
  readonly driverTime: Histogram<'disk' | 'hctx'>;
  /**
   * dispatch: the driver (or completion service) sent an end message → the owner applied
   * it, ending the requests and recycling their tags (the end's transit, read data inside).
   */
  readonly recycleLag: Histogram<'disk'>;
  /** dispatch: tags held by this instance's requests (the engine's busy slots per hctx). */
  readonly tagsInUse: Gauge<'disk' | 'hctx'>;
  /** dispatch: requests of this instance plugged, waiting for a tag or holding one. */
  readonly requestsInFlight: Gauge<'disk'>;
  /** rnull: requests the driver sent back with a requeue status. */
  readonly requeues: Counter<'disk' | 'hctx'>;
  /** dispatch: requests ended with TIMEOUT by the timeout scan. */
  readonly timeouts: Counter<'disk'>;
  /** IOs that touched a bad range (`badblocks`) and ended IOERR, counted where the driver runs. */
  readonly badBlockHits: Counter<'disk'>;
  /** Faults injected on purpose (`timeout`, `requeue`: where the driver runs; `init_hctx`: gendisk). */
  readonly injectedFaults: Counter<'disk' | 'kind'>;
  /** Time the mbps throttle kept the disk's queues stopped (DEV_RESOURCE until the next refill), where the driver runs. */
  readonly throttledSeconds: Counter<'disk'>;
  /** Requests the mbps throttle refused with DEV_RESOURCE (each is requeued and runs after a refill). */
  readonly throttledRequests: Counter<'disk'>;
  /**
   * Bytes in the disk's write-back cache (`cache_size`, DESIGN I13) after this process's
   * newest batch on it: every process that drives the disk reports what it last saw.
   */
  readonly cacheBytes: Gauge<'disk'>;
  /** Bytes the write-back cache wrote back to the page store (FLUSH, FUA, a full cache), where the driver runs. */
  readonly cacheWritebackBytes: Counter<'disk'>;
  /** Ends refused as stale or double: by the table (rnull, completion) or unknown notices (dispatch). */
  readonly staleEnds: Counter<'disk' | 'service'>;
  /** Counts of the queues this service watches, read on scrape. */
  readonly queueJobs: Gauge<'queue' | 'state'>;
  /** completion: PreciseTimer lateness, fired − due. */
  readonly timerLateness: Histogram;
  /** dispatch: zones per condition of each powered zoned disk, read from its zone table on scrape. */
  readonly zones: Gauge<'disk' | 'cond'>;
  /** dispatch: sectors below the write pointers of a zoned disk's sequential zones, on scrape. */
  readonly zoneWrittenSectors: Gauge<'disk'>;
  /** dispatch: the summed capacity of a zoned disk's sequential zones, on scrape. */
  readonly zoneCapacitySectors: Gauge<'disk'>;

  private tagSource: () => GaugeSample<'disk' | 'hctx'>[] = () => [];
  private inFlightSource: () => GaugeSample<'disk'>[] = () => [];
  private readonly queueSources: (() => CountableQueue[])[] = [];
  private queueCache?: { atMs: number; samples: Promise<GaugeSample<'queue' | 'state'>[]> };
  private zoneSource: () => Promise<ZoneCensus[]> = () => Promise.resolve([]);
  private zoneCache?: { atMs: number; census: Promise<ZoneCensus[]> };

  /** Records the write-back cache as one batch on `disk` left it (pages of `pageBytes`). */
  observeCache(disk: string, state: { readonly pages: number; readonly writtenBack: number }, pageBytes: number): void {
    this.cacheBytes.set({ disk }, state.pages * pageBytes);
    if (state.writtenBack > 0) this.cacheWritebackBytes.inc({ disk }, state.writtenBack * pageBytes);
  }

  /**
   * The disk is off or gone: its write-back cache was dropped (I13), so its cache gauge
   * goes too, until a batch of its next power on reports again.
   */
  forgetCache(disk: string): void {
    this.cacheBytes.remove({ disk });
  }

  /** The process's BlockMetrics on `registry`, created on first use. */
  static of(registry: Registry, service: string): BlockMetrics {
    let m = instances.get(registry);
    if (!m) {
      m = new BlockMetrics(registry, service);
      instances.set(registry, m);
    }
    return m;
  }

  constructor(
    registry: Registry,
    /** The `service` label of `staleEnds` recorded by this process. */
    readonly service: string,
  ) {
    const registers = [registry];
    const buckets = [...LATENCY_BUCKETS_SECONDS];
    const self = this;
    this.iosCompleted = new Counter({
      name: 'rnull_ios_completed_total',
      help: 'Requests ended, by final BlkStatus',
      labelNames: ['disk', 'hctx', 'op', 'status'],
      registers,
      collect: () => self.iosTally.flush(),
    });
    this.bytesCompleted = new Counter({
      name: 'rnull_bytes_completed_total',
      help: 'Bytes of requests that ended ok',
      labelNames: ['disk', 'hctx', 'op'],
      registers,
      collect: () => self.bytesTally.flush(),
    });
    this.iosTally = new CounterTally(this.iosCompleted, (disk, key) => ({
      disk,
      hctx: Math.floor(key / (IO_KEY_SLOTS * IO_KEY_SLOTS)),
      op: opLabel(Math.floor(key / IO_KEY_SLOTS) % IO_KEY_SLOTS),
      status: statusLabel(key % IO_KEY_SLOTS),
    }));
    this.bytesTally = new CounterTally(this.bytesCompleted, (disk, key) => ({
      disk,
      hctx: Math.floor(key / IO_KEY_SLOTS),
      op: opLabel(key % IO_KEY_SLOTS),
    }));
    this.ioLatency = new Histogram({
      name: 'rnull_io_latency_seconds',
      help: 'Request latency, submit to end, on dispatch',
      labelNames: ['disk', 'op'],
      buckets,
      registers,
    });
    this.queueWait = new Histogram({
      name: 'rnull_queue_wait_seconds',
      help: 'Batch wait in the hctx queue before queueRqs',
      labelNames: ['disk', 'hctx'],
      buckets,
      registers,
    });
    this.driverTime = new Histogram({
      name: 'rnull_driver_seconds',
      help: 'Time inside the driver queueRqs per batch',
      labelNames: ['disk', 'hctx'],
      buckets,
      registers,
    });
    this.recycleLag = new Histogram({
      name: 'rnull_recycle_lag_seconds',
      help: 'End message sent by the driver to its ends applied (tags recycled) by the owner',
      labelNames: ['disk'],
      buckets,
      registers,
    });
    this.tagsInUse = new Gauge({
      name: 'rnull_tags_in_use',
      help: 'Tags held by requests of this dispatch instance',
      labelNames: ['disk', 'hctx'],
      registers,
      collect() {
        this.reset();
        for (const s of self.tagSource()) this.set(s.labels, s.value);
      },
    });
    this.requestsInFlight = new Gauge({
      name: 'rnull_requests_in_flight',
      help: 'Requests of this dispatch instance not yet ended',
      labelNames: ['disk'],
      registers,
      collect() {
        this.reset();
        for (const s of self.inFlightSource()) this.set(s.labels, s.value);
      },
    });
    this.requeues = new Counter({
      name: 'rnull_requeues_total',
      help: 'Requests the driver requeued',
      labelNames: ['disk', 'hctx'],
      registers,
    });
    this.timeouts = new Counter({
      name: 'rnull_timeouts_total',
      help: 'Requests ended with TIMEOUT by the timeout scan',
      labelNames: ['disk'],
      registers,
    });
    this.badBlockHits = new Counter({
      name: 'rnull_badblock_hits_total',
      help: 'IOs that touched a bad range (badblocks) and ended IOERR, counted by the process that runs the driver',
      labelNames: ['disk'],
      registers,
    });
    this.injectedFaults = new Counter({
      name: 'rnull_injected_faults_total',
      help: 'Faults injected by the timeout, requeue and init_hctx attributes (null_blk fault injection), by kind',
      labelNames: ['disk', 'kind'],
      registers,
    });
    this.throttledSeconds = new Counter({
      name: 'rnull_throttled_seconds_total',
      help: 'Time the mbps throttle kept the queues stopped, summed over the processes that run the driver',
      labelNames: ['disk'],
      registers,
    });
    this.throttledRequests = new Counter({
      name: 'rnull_throttled_requests_total',
      help: 'Requests the mbps throttle refused with DEV_RESOURCE (requeued, run after a refill)',
      labelNames: ['disk'],
      registers,
    });
    this.cacheBytes = new Gauge({
      name: 'rnull_cache_bytes',
      help: "Bytes in the disk's write-back cache (cache_size) after this process's newest batch on it",
      labelNames: ['disk'],
      registers,
    });
    this.cacheWritebackBytes = new Counter({
      name: 'rnull_cache_writeback_bytes_total',
      help: 'Bytes the write-back cache wrote back to the page store (FLUSH, FUA, a full cache), counted where the driver runs',
      labelNames: ['disk'],
      registers,
    });
    this.staleEnds = new Counter({
      name: 'rnull_stale_ends_total',
      help: 'Ends refused as stale or double',
      labelNames: ['disk', 'service'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: 'rnull_queue_jobs',
      help: 'Batches per queue and state: waiting (not taken), active (leased by a worker); cached for 1 s',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const samples = await self.queueSamples();
        this.reset();
        for (const s of samples) this.set(s.labels, s.value);
      },
    });
    this.timerLateness = new Histogram({
      name: 'rnull_timer_lateness_seconds',
      help: 'PreciseTimer firing lateness, fired minus due',
      buckets,
      registers,
    });
    const sameEverywhere = 'read from the zone table in Redis, the same on every dispatch instance (aggregate with max); cached for 1 s';
    this.zones = new Gauge({
      name: 'rnull_zones',
      help: `Zones of a powered zoned disk per condition (not_wp: conventional), ${sameEverywhere}`,
      labelNames: ['disk', 'cond'],
      registers,
      async collect() {
        const census = await self.zoneCensus();
        this.reset();
        for (const c of census) for (const [cond, n] of c.conds) this.set({ disk: c.disk, cond: zoneCondLabel(cond) }, n);
      },
    });
    this.zoneWrittenSectors = new Gauge({
      name: 'rnull_zone_written_sectors',
      help: `Sectors below the write pointers of a zoned disk's sequential zones (each at most its capacity), ${sameEverywhere}`,
      labelNames: ['disk'],
      registers,
      async collect() {
        const census = await self.zoneCensus();
        this.reset();
        for (const c of census) if (c.writtenSectors !== undefined) this.set({ disk: c.disk }, c.writtenSectors);
      },
    });
    this.zoneCapacitySectors = new Gauge({
      name: 'rnull_zone_capacity_sectors',
      help: `Summed capacity of a zoned disk's sequential zones (written / capacity is its fill), ${sameEverywhere}`,
      labelNames: ['disk'],
      registers,
      async collect() {
        const census = await self.zoneCensus();
        this.reset();
        for (const c of census) this.set({ disk: c.disk }, c.capacitySectors);
      },
    });
  }

  /** Where `rnull_tags_in_use` reads its values at scrape time (in-process, no Redis). */
  watchTags(source: () => GaugeSample<'disk' | 'hctx'>[]): void {
    this.tagSource = source;
  }

  /** Where `rnull_requests_in_flight` reads its values at scrape time (in-process). */
  watchInFlight(source: () => GaugeSample<'disk'>[]): void {
    this.inFlightSource = source;
  }

  /** Adds queues whose counts `rnull_queue_jobs` reports. */
  watchQueues(source: () => CountableQueue[]): void {
    this.queueSources.push(source);
  }

  /**
   * Where `rnull_zones`, `rnull_zone_written_sectors` and `rnull_zone_capacity_sectors`
   * read their values at scrape time (Redis calls: called at most once per
   * `SCRAPE_CACHE_MS`; a failed read reports no zoned disk).
   */
  watchZones(source: () => Promise<ZoneCensus[]>): void {
    this.zoneSource = source;
  }

  /** One ended request, recorded on dispatch. `latencySeconds` is submit → end. */
  recordIo(disk: string, hctx: number, op: number, status: number, bytes: number, latencySeconds: number): void {
    if (op < IO_KEY_SLOTS && status < IO_KEY_SLOTS) {
      const hctxOp = hctx * IO_KEY_SLOTS + op;
      this.iosTally.add(disk, hctxOp * IO_KEY_SLOTS + status);
      if (status === BlkStatus.OK) this.bytesTally.add(disk, hctxOp, bytes);
    } else {
      this.iosCompleted.inc({ disk, hctx, op: opLabel(op), status: statusLabel(status) });
      if (status === BlkStatus.OK) this.bytesCompleted.inc({ disk, hctx, op: opLabel(op) }, bytes);
    }
    this.ioLatency.observe({ disk, op: opLabel(op) }, latencySeconds);
  }

  private queueSamples(): Promise<GaugeSample<'queue' | 'state'>[]> {
    const now = Date.now();
    if (!this.queueCache || now - this.queueCache.atMs >= SCRAPE_CACHE_MS) {
      this.queueCache = { atMs: now, samples: this.readQueues() };
    }
    return this.queueCache.samples;
  }

  private zoneCensus(): Promise<ZoneCensus[]> {
    const now = Date.now();
    if (!this.zoneCache || now - this.zoneCache.atMs >= SCRAPE_CACHE_MS) {
      this.zoneCache = { atMs: now, census: this.zoneSource().catch(() => []) };
    }
    return this.zoneCache.census;
  }

  private async readQueues(): Promise<GaugeSample<'queue' | 'state'>[]> {
    const queues = this.queueSources.flatMap((s) => s());
    const counts = await Promise.all(queues.map((q) => q.getJobCounts(...JOB_STATES).catch(() => undefined)));
    const out: GaugeSample<'queue' | 'state'>[] = [];
    queues.forEach((q, i) => {
      const c = counts[i];
      if (c) for (const state of JOB_STATES) out.push({ labels: { queue: q.name, state }, value: c[state] ?? 0 });
    });
    return out;
  }
}
