// Timer accuracy of irqmode=2: for each completion_nsec, the distribution of
// (end - due) of the PreciseTimer that fires it (the completion service's, or dispatch's
// with the driver placed there), and what a client sees.
//
// Method: a disk with irqmode=2, memory_backed=0, 4 KiB randread at qd 1 over the gRPC
// stream for `seconds`. Lateness comes from `rnull_timer_lateness_seconds` (fired - due,
// recorded by the timer itself), scraped from every completion and dispatch process before and after
// the run; the difference of the buckets is this run's distribution, and percentiles are
// interpolated linearly inside a bucket (Prometheus' histogram_quantile), so they are only
// as fine as the buckets (10, 25, 50, 100, 250, 500 µs, 1 ms, …). The client-side figure is
// the gRPC p50 latency minus completion_nsec: the whole path's overhead on top of the delay.
import type { BenchCluster } from './bench-cluster';
import type { BenchConfig } from './bench-matrix';
import type { BenchProgress } from './bench-progress';
import { histogramPercentile, type CumulativeBucket } from './bench-stats';
import { runGrpc } from './bench-paths/grpc-path';
import { bucketDelta, bucketsOf, type Sample } from './metrics-scrape';

export const LATENESS_METRIC = 'rnull_timer_lateness_seconds';

export interface TimerAccuracy {
  readonly completionNsec: number;
  /** Firings recorded in the run. */
  readonly firings: number;
  /** Lateness percentiles, ns (bucket-interpolated). */
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  /** The run's buckets (le in seconds, counts of this run only). */
  readonly buckets: readonly CumulativeBucket[];
  /** Client p50 latency minus completion_nsec, ns. */
  readonly clientOverheadP50Ns: number;
  readonly clientP50Ns: number;
}

/** Lateness buckets summed over every completion process. */
export function latenessBuckets(scrapes: ReadonlyMap<string, Sample[]>): CumulativeBucket[] {
  const sum = new Map<number, number>();
  for (const samples of scrapes.values())
    for (const b of bucketsOf(samples, LATENESS_METRIC)) sum.set(b.le, (sum.get(b.le) ?? 0) + b.count);
  return [...sum].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Percentiles (ns) of the lateness recorded between two bucket snapshots. */
export function latenessBetween(before: readonly CumulativeBucket[], after: readonly CumulativeBucket[]) {
  const delta = bucketDelta(before, after);
  const at = (p: number) => histogramPercentile(delta, p) * 1e9;
  const firings = delta.length ? delta[delta.length - 1].count : 0;
  return { buckets: delta, firings, p50Ns: at(50), p90Ns: at(90), p99Ns: at(99) };
}

export async function runTimerAccuracy(
  bc: BenchCluster,
  nsecs: readonly number[],
  seconds: number,
  progress: BenchProgress,
  signal?: AbortSignal,
): Promise<TimerAccuracy[]> {
  const out: TimerAccuracy[] = [];
  const c: BenchConfig = { rw: 'randread', bs: 4096, qd: 1, irqmode: 2, memoryBacked: false };
  for (const completionNsec of nsecs) {
    if (signal?.aborted) break;
    progress.begin(`timer accuracy completion_nsec=${completionNsec}`);
    const disk = await bc.createDisk(c, { completionNsec: BigInt(completionNsec) });
    try {
      // Timers fire in the completion service (remote placement) or in dispatch (local).
      const scrape = async () => new Map([...(await bc.scrapeAll('completion')), ...(await bc.scrapeAll('dispatch'))]);
      const before = latenessBuckets(await scrape());
      const m = await runGrpc(bc, c, {
        disk: disk.name,
        capacitySectors: disk.capacitySectors,
        seconds,
        signal,
        onProgress: (p) => progress.load(p),
      });
      const after = latenessBuckets(await scrape());
      const l = latenessBetween(before, after);
      out.push({ completionNsec, ...l, clientP50Ns: m.p50Ns, clientOverheadP50Ns: m.p50Ns - completionNsec });
    } finally {
      await bc.deleteDisk(disk.name);
    }
  }
  return out;
}
