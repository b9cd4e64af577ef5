// Memory over a long write run: page-store bytes against bytes written, and the RSS of
// every service before and after `ios` IOs (1,000,000 by the issue), with a trend test.
//
// Method: one disk (memory_backed=1, irqmode=1), 4 KiB randwrite at qd 32 over the gRPC
// stream, in 10 equal chunks. After each chunk: every service's process_resident_memory_bytes
// (from its /metrics) after a full garbage collection in each (BenchCluster.collectGarbage),
// the page store (pages x 4096, and the MEMORY USAGE of its page keys and index),
// and the distinct bytes written so far (the harness records the offset of every write).
// RSS trend: least squares of RSS against IOs over the chunk ends of the second half of the
// run (the first half is warm-up: JIT, pools, Redis connections, and V8 growing its heap in
// one-off steps, which a whole-run fit mistakes for a slope). A service "grows" when that
// slope's 95 % interval lies above 0 and the slope over the whole run would add more than
// 5 % to its RSS: a leak keeps growing into the second half, a settling heap does not.
import type { BenchCluster } from './bench-cluster';
import type { BenchConfig } from './bench-matrix';
import type { BenchProgress } from './bench-progress';
import { linearFit } from './bench-stats';
import { runGrpc } from './bench-paths/grpc-path';
import { sumOf } from './metrics-scrape';

export const MEMORY_CHUNKS = 10;

export interface MemoryPoint {
  readonly ios: number;
  readonly bytesWritten: number;
  readonly distinctBytesWritten: number;
  readonly pageStoreBytes: number;
  readonly pageStoreRedisBytes: number;
  readonly redisUsedMemory: number;
  /** RSS by service label. */
  readonly rss: Readonly<Record<string, number>>;
  /** V8 heap in use by service label (`nodejs_heap_size_used_bytes`): what a leak would fill. */
  readonly heapUsed?: Readonly<Record<string, number>>;
}

export interface RssTrend {
  readonly service: string;
  readonly before: number;
  readonly after: number;
  /** Fitted bytes per 100,000 IOs over the second half, with the half-width of its 95 % interval. */
  readonly slopePer100k: number;
  readonly slopeHalfWidthPer100k: number;
  readonly grows: boolean;
}

export interface MemoryGrowth {
  readonly ios: number;
  readonly config: BenchConfig;
  readonly points: readonly MemoryPoint[];
  readonly trends: readonly RssTrend[];
}

/** The trend rule of the file header, per service, over `points` (first one = before). */
export function rssTrends(points: readonly MemoryPoint[]): RssTrend[] {
  const services = Object.keys(points[0]?.rss ?? {});
  const fitted = points.slice(Math.max(1, Math.floor(points.length / 2)));
  return services.map((service) => {
    const fit = linearFit(
      fitted.map((p) => p.ios),
      fitted.map((p) => p.rss[service]),
    );
    const span = points.length > 1 ? points[points.length - 1].ios - points[0].ios : 0;
    const base = fitted[0]?.rss[service] ?? 0;
    const grows = fit.slope - fit.slopeHalfWidth > 0 && fit.slope * span > 0.05 * base;
    return {
      service,
      before: points[0].rss[service],
      after: points[points.length - 1].rss[service],
      slopePer100k: fit.slope * 1e5,
      slopeHalfWidthPer100k: fit.slopeHalfWidth * 1e5,
      grows,
    };
  });
}

export async function runMemoryGrowth(bc: BenchCluster, ios: number, progress: BenchProgress, signal?: AbortSignal): Promise<MemoryGrowth> {
  const c: BenchConfig = { rw: 'randwrite', bs: 4096, qd: 32, irqmode: 1, memoryBacked: true };
  const disk = await bc.createDisk(c);
  const blocks = Number(disk.capacitySectors / 8n);
  const written = new Uint8Array(blocks);
  let distinct = 0;
  // For randwrite the load generator draws exactly one value per IO, for its offset
  // (load-spec.ts: `random` is the source of offsets and of the randrw mix only).
  const random = () => {
    const r = Math.random();
    const b = Math.floor(r * blocks);
    if (!written[b]) {
      written[b] = 1;
      distinct++;
    }
    return r;
  };
  const points: MemoryPoint[] = [];
  let done = 0;
  let bytes = 0;
  const sample = async (): Promise<void> => {
    // Live memory only: without it a major collection V8 had not yet run read as a slope
    // (dispatch's heap 43 -> 97 MiB over 1,000,000 IOs, then 34-44 MiB over 3,000,000;
    // docs/bench/v2-intel-host/).
    await bc.collectGarbage();
    const rss: Record<string, number> = {};
    const heapUsed: Record<string, number> = {};
    for (const [label, samples] of await bc.scrapeAll()) {
      rss[label] = sumOf(samples, 'process_resident_memory_bytes') ?? NaN;
      heapUsed[label] = sumOf(samples, 'nodejs_heap_size_used_bytes') ?? NaN;
    }
    const store = await bc.pageStore(disk.name);
    points.push({
      ios: done,
      bytesWritten: bytes,
      distinctBytesWritten: distinct * 4096,
      pageStoreBytes: store.pageBytes,
      pageStoreRedisBytes: store.redisBytes,
      redisUsedMemory: await bc.redisUsedMemory(),
      rss,
      heapUsed,
    });
  };
  try {
    await sample();
    const chunk = Math.ceil(ios / MEMORY_CHUNKS);
    for (let i = 0; i < MEMORY_CHUNKS && !signal?.aborted; i++) {
      progress.begin(`memory: IOs ${done}..${done + chunk} of ${ios}`);
      const m = await runGrpc(bc, c, {
        disk: disk.name,
        capacitySectors: disk.capacitySectors,
        ios: chunk,
        signal,
        random,
        onProgress: (p) => progress.load(p),
      });
      done += m.ios;
      bytes += (m.ios - m.errors) * 4096;
      await sample();
    }
  } finally {
    await bc.deleteDisk(disk.name);
  }
  return { ios: done, config: c, points, trends: rssTrends(points) };
}
