// The seed's own comparison: recycle=on-drop (a tag recycles when its last RequestRef
// drops) against recycle=inline (at end, the C model), through the gRPC path over the matrix.
//
// Method: per configuration two disks, identical but for `recycle`. Each disk first runs
// once, unmeasured (`recycleWarmupSeconds`): the first run on a new disk of a new cluster
// was up to 48 % slower than the next (docs/bench/v2-recycle/). Then `samples` pairs; a
// pair gives each mode `sampleSeconds` of load in `slices` runs, alternating ABBA
// (`pairSchedule`: on-drop first in even pairs, inline first in odd ones), so that drift of
// the machine within a pair falls on both modes alike. A mode's IOPS in a pair are its IOs
// over its seconds, summed over its slices (`pooledIops`). Each pair gives
// d = (IOPS_on-drop - IOPS_inline) / IOPS_inline; the result is the mean of every d of
// every configuration with its Student-t 95 % interval, and the mean per configuration.
import type { RecycleMode } from '#blk-mq';
import type { BenchCluster } from './bench-cluster';
import { type BenchConfig, configLabel } from './bench-matrix';
import type { BenchProgress } from './bench-progress';
import { meanInterval95, relativeDifference, type MeanInterval } from './bench-stats';
import { runGrpc } from './bench-paths/grpc-path';
import { pairSchedule, pooledIops } from './recycle-schedule';

export interface RecyclePair {
  readonly config: BenchConfig;
  readonly onDropIops: number;
  readonly inlineIops: number;
}

export interface RecycleConfigSummary {
  readonly label: string;
  readonly config: BenchConfig;
  readonly onDropIops: number;
  readonly inlineIops: number;
  readonly diff: MeanInterval;
}

/** How the pairs are run: what `runRecycleCompare` is told and its report restates. */
export interface RecycleMethod {
  /** Pairs per configuration. */
  readonly samplesPerConfig: number;
  /** Seconds of load per mode and pair. */
  readonly sampleSeconds: number;
  /** Runs per mode and pair (1: one run each, as before slices; `recycleSlicesProblem`). */
  readonly slices: number;
  /** The unmeasured run of each disk before its pairs, seconds (0: none, as before; `recycleWarmupSeconds`). */
  readonly warmupSeconds: number;
}

export interface RecycleComparison extends RecycleMethod {
  readonly pairs: readonly RecyclePair[];
  /** Over every pair of every configuration. */
  readonly overall: MeanInterval;
  readonly perConfig: readonly RecycleConfigSummary[];
}

/** The statistics of a set of pairs (pure; the unit tests check it against known values). */
export function summarizeRecycle(pairs: readonly RecyclePair[], method: RecycleMethod): RecycleComparison {
  const diffs = pairs.map((p) => relativeDifference(p.onDropIops, p.inlineIops)).filter(Number.isFinite);
  const byConfig = new Map<string, RecyclePair[]>();
  for (const p of pairs) {
    const k = configLabel(p.config);
    byConfig.set(k, [...(byConfig.get(k) ?? []), p]);
  }
  const perConfig = [...byConfig].map(([label, ps]) => ({
    label,
    config: ps[0].config,
    onDropIops: ps.reduce((a, p) => a + p.onDropIops, 0) / ps.length,
    inlineIops: ps.reduce((a, p) => a + p.inlineIops, 0) / ps.length,
    diff: meanInterval95(ps.map((p) => relativeDifference(p.onDropIops, p.inlineIops))),
  }));
  return { ...method, pairs, overall: meanInterval95(diffs), perConfig };
}

export interface RecycleRunOptions extends RecycleMethod {
  readonly signal?: AbortSignal;
}

/** Steps `runRecycleCompare` will announce for `configs`: a warm-up and the pairs of each. */
export function recycleSteps(configs: readonly BenchConfig[], o: Pick<RecycleMethod, 'samplesPerConfig'>): number {
  return configs.length * (o.samplesPerConfig + 1);
}

export async function runRecycleCompare(
  bc: BenchCluster,
  configs: readonly BenchConfig[],
  o: RecycleRunOptions,
  progress: BenchProgress,
): Promise<RecycleComparison> {
  const pairs: RecyclePair[] = [];
  for (const c of configs) {
    if (o.signal?.aborted) break;
    const onDrop = await bc.createDisk(c, { recycle: 'on-drop' });
    const inline = await bc.createDisk(c, { recycle: 'inline' });
    try {
      const run = (disk: typeof onDrop, seconds: number) =>
        runGrpc(bc, c, {
          disk: disk.name,
          capacitySectors: disk.capacitySectors,
          seconds,
          signal: o.signal,
          onProgress: (p) => progress.load(p),
        });
      progress.begin(`recycle ${configLabel(c)} warm-up`);
      for (const d of [onDrop, inline]) if (!o.signal?.aborted) await run(d, o.warmupSeconds);
      for (let s = 0; s < o.samplesPerConfig && !o.signal?.aborted; s++) {
        progress.begin(`recycle ${configLabel(c)} pair ${s + 1}/${o.samplesPerConfig}`);
        const runs: Record<RecycleMode, { ios: number; seconds: number }[]> = { 'on-drop': [], inline: [] };
        for (const mode of pairSchedule(s, o.slices)) {
          if (o.signal?.aborted) break;
          runs[mode].push(await run(mode === 'on-drop' ? onDrop : inline, o.sampleSeconds / o.slices));
        }
        // A pair cut short by Ctrl-C is left out: one mode would have run less than the other.
        if (o.signal?.aborted) break;
        pairs.push({ config: c, onDropIops: pooledIops(runs['on-drop']), inlineIops: pooledIops(runs.inline) });
      }
    } finally {
      await bc.deleteDisk(onDrop.name);
      await bc.deleteDisk(inline.name);
    }
  }
  const { samplesPerConfig, sampleSeconds, slices, warmupSeconds } = o;
  return summarizeRecycle(pairs, { samplesPerConfig, sampleSeconds, slices, warmupSeconds });
}
