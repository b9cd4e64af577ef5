// The seed's own comparison: recycle=on-drop (a tag recycles when its last RequestRef
// drops) against recycle=inline (at end, the C model), through the gRPC path over the matrix.
//
// Method: per configuration two disks, identical but for `recycle`; `samples` pairs of
// runs, back to back, the order alternating (on-drop first in even pairs, inline first in
// odd ones) so that drift of the machine falls on both modes alike. Each pair gives
// d = (IOPS_on-drop - IOPS_inline) / IOPS_inline; the result is the mean of every d of
// every configuration with its Student-t 95 % interval, and the mean per configuration.
import type { BenchCluster } from './bench-cluster';
import { type BenchConfig, configLabel } from './bench-matrix';
import type { BenchProgress } from './bench-progress';
import { meanInterval95, relativeDifference, type MeanInterval } from './bench-stats';
import { runGrpc } from './bench-paths/grpc-path';

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

export interface RecycleComparison {
  readonly samplesPerConfig: number;
  readonly sampleSeconds: number;
  readonly pairs: readonly RecyclePair[];
  /** Over every pair of every configuration. */
  readonly overall: MeanInterval;
  readonly perConfig: readonly RecycleConfigSummary[];
}

/** The statistics of a set of pairs (pure; the unit tests check it against known values). */
export function summarizeRecycle(pairs: readonly RecyclePair[], samplesPerConfig: number, sampleSeconds: number): RecycleComparison {
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
  return { samplesPerConfig, sampleSeconds, pairs, overall: meanInterval95(diffs), perConfig };
}

export interface RecycleRunOptions {
  readonly samples: number;
  readonly sampleSeconds: number;
  readonly signal?: AbortSignal;
}

/** Steps `runRecycleCompare` will announce for `configs`. */
export function recycleSteps(configs: readonly BenchConfig[], o: Pick<RecycleRunOptions, 'samples'>): number {
  return configs.length * o.samples;
}

export async function runRecycleCompare(
  bc: BenchCluster,
  configs: readonly BenchConfig[],
  o: RecycleRunOptions,
  progress: BenchProgress,
): Promise<RecycleComparison> {
  const pairs: RecyclePair[] = [];
  for (const c of configs) {
    const onDrop = await bc.createDisk(c, { recycle: 'on-drop' });
    const inline = await bc.createDisk(c, { recycle: 'inline' });
    try {
      for (let s = 0; s < o.samples && !o.signal?.aborted; s++) {
        progress.begin(`recycle ${configLabel(c)} pair ${s + 1}/${o.samples}`);
        const order = s % 2 === 0 ? [onDrop, inline] : [inline, onDrop];
        const iops = new Map<string, number>();
        for (const d of order) {
          const m = await runGrpc(bc, c, {
            disk: d.name,
            capacitySectors: d.capacitySectors,
            seconds: o.sampleSeconds,
            signal: o.signal,
            onProgress: (p) => progress.load(p),
          });
          iops.set(d.name, m.iops);
        }
        pairs.push({ config: c, onDropIops: iops.get(onDrop.name)!, inlineIops: iops.get(inline.name)! });
      }
    } finally {
      await bc.deleteDisk(onDrop.name);
      await bc.deleteDisk(inline.name);
    }
  }
  return summarizeRecycle(pairs, o.samples, o.sampleSeconds);
}
