// The recycle comparison's schedule (recycle-compare.ts): the warm-up of each disk, the
// order of a pair's runs (ABBA slices) and how a mode's runs make its IOPS. Pure, so the
// unit tests pin it; the measured effect of each choice is in docs/bench/v2-recycle/.
import type { RecycleMode } from '#blk-mq';

/** Longest warm-up run of a disk before its pairs, seconds. */
export const RECYCLE_WARMUP_MAX_SECONDS = 1;

/** The warm-up run of each disk: `RECYCLE_WARMUP_MAX_SECONDS`, or one sample if shorter. */
export function recycleWarmupSeconds(sampleSeconds: number): number {
  return Math.min(RECYCLE_WARMUP_MAX_SECONDS, sampleSeconds);
}

/** Shortest run of one slice, seconds: below it a run's set-up (a stream, the CPU readings) outweighs its load. */
export const RECYCLE_SLICE_MIN_SECONDS = 0.05;

/**
 * Why `slices` runs per mode of `sampleSeconds` each cannot be run, or undefined when they can:
 * `slices` is 1 or even (an odd count > 1 ends on an unpaired A B, and the mean position of
 * the two modes' runs differs), and a slice lasts at least `RECYCLE_SLICE_MIN_SECONDS`.
 */
export function recycleSlicesProblem(slices: number, sampleSeconds: number): string | undefined {
  if (slices !== 1 && slices % 2 !== 0) return `--recycle-slices: ${slices} runs per mode cannot alternate ABBA; give 1 or an even number`;
  if (sampleSeconds / slices < RECYCLE_SLICE_MIN_SECONDS)
    return `--recycle-slices ${slices} with --sample-seconds ${sampleSeconds}: slices of ${(sampleSeconds / slices).toFixed(3)} s, shorter than ${RECYCLE_SLICE_MIN_SECONDS} s`;
  return undefined;
}

/**
 * The order of the runs of pair `pair` split in `slices` runs per mode: ABBA repeated
 * (A B, B A, A B, ...), A being on-drop in even pairs and inline in odd ones. Each mode
 * runs `slices` times; with 1 or an even number of slices (`recycleSlicesProblem`) a drift
 * linear in time weighs on both alike within every ABBA.
 */
export function pairSchedule(pair: number, slices: number): RecycleMode[] {
  const first: RecycleMode[] = pair % 2 === 0 ? ['on-drop', 'inline'] : ['inline', 'on-drop'];
  const order: RecycleMode[] = [];
  for (let i = 0; i < slices; i++) order.push(...(i % 2 === 0 ? first : [...first].reverse()));
  return order;
}

/**
 * IOs over seconds, summed over a mode's runs of one pair; 0 without runs or seconds. A
 * run's seconds are its longest stream's (runGrpc), so with several dispatch instances
 * this is the IOs over the wall time, not the sum of each stream's rate.
 */
export function pooledIops(runs: readonly { ios: number; seconds: number }[]): number {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return seconds > 0 ? runs.reduce((a, r) => a + r.ios, 0) / seconds : 0;
}
