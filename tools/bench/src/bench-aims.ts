// The aims of issue 11 (and the aims of issue 7 it keeps), judged against the figures of one
// run: each is met, not met, or not measured (its configuration or section was not in the
// run) — never assumed.
import type { PathResult } from './bench-result';
import type { MemoryGrowth } from './memory-growth';
import type { RecycleComparison } from './recycle-compare';
import type { SizeRow, SizeScaling } from './size-scaling';
import { sizeLabel } from './size-scaling';
import type { TimerAccuracy } from './timer-accuracy';

export interface Aim {
  readonly aim: string;
  readonly verdict: 'met' | 'not met' | 'not measured';
  /** The figure the verdict rests on, in words. */
  readonly figure: string;
}

export interface AimInputs {
  readonly rows: readonly PathResult[];
  readonly recycle?: RecycleComparison;
  readonly timer?: readonly TimerAccuracy[];
  readonly memory?: MemoryGrowth;
  readonly sizes?: SizeScaling;
}

/** The NBD path's IOPS over nbdkit memory's, 4 KiB qd 32 irqmode 1: the aim and its stretch. */
export const NBD_RATIO_AIM = 0.25;
export const NBD_RATIO_STRETCH = 0.5;
/** Server-side CPU per IO at qd 32, summed over the cluster's processes, and Redis's part. */
export const CPU_PER_IO_AIM_US = 60;
export const REDIS_PER_IO_AIM_US = 15;
/** qd 1 p50 over NBD by irqmode. */
export const NBD_QD1_P50_AIM_NS: Readonly<Record<number, number>> = { 0: 500_000, 1: 700_000 };
/** Recycle on-drop against inline: the 95 % interval of the mean IOPS difference within ±3 %. */
export const RECYCLE_BOUND = 0.03;
export const TIMER_LATENESS_AIM_NS = 200_000;
/**
 * "Cost per byte flat in IO size": server CPU per byte of the largest row of an op and
 * max_sectors at most this many times that of its smallest row (the rows span 16–256 ×
 * in size, so a cost that grew with size or with the wait list would be far above it).
 */
export const SIZE_COST_SPREAD = 2;

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const us = (ns: number) => `${(ns / 1000).toFixed(0)} µs`;

function judge(aim: string, measured: boolean, ok: boolean, figure: string): Aim {
  return { aim, verdict: !measured ? 'not measured' : ok ? 'met' : 'not met', figure: measured ? figure : '-' };
}

function worstBy<T>(items: readonly T[], f: (t: T) => number): T | undefined {
  return items.reduce<T | undefined>((w, t) => (!w || f(t) > f(w) ? t : w), undefined);
}

function nbdRatioAims(rows: readonly PathResult[]): Aim[] {
  return (['randread', 'randwrite'] as const).map((rw) => {
    const row = rows.find(
      (r) =>
        r.path === 'b' &&
        r.config.rw === rw &&
        r.config.bs === 4096 &&
        r.config.qd === 32 &&
        r.config.irqmode === 1 &&
        r.config.memoryBacked,
    );
    const ratio = row?.ratioToNbdkit;
    const stretch = (ratio ?? 0) >= NBD_RATIO_STRETCH ? 'stretch met' : `stretch ${NBD_RATIO_STRETCH} x not met`;
    return judge(
      `path b (NBD): 4k ${rw} qd32 memory_backed=1 irqmode=1 >= ${NBD_RATIO_AIM} x nbdkit memory IOPS`,
      ratio !== undefined,
      (ratio ?? 0) >= NBD_RATIO_AIM,
      `${ratio?.toFixed(3)} x (${Math.round(row?.m?.iops ?? 0)} IOPS; ${stretch})`,
    );
  });
}

function cpuAims(rows: readonly PathResult[]): Aim[] {
  // Server side (gendisk + dispatch + rnull + completion + Redis), every 4 KiB qd 32 row of
  // the cluster paths.
  const qd32 = rows.filter(
    (r) => (r.path === 'a' || r.path === 'b') && r.m?.cpu?.totalUs !== undefined && r.config.qd === 32 && r.config.bs === 4096,
  );
  const totalOf = (r: PathResult) => r.m?.cpu?.totalUs ?? NaN;
  const redisOf = (r: PathResult) => r.m?.cpu?.byProcess.redis ?? NaN;
  const wt = worstBy(qd32, totalOf);
  const wr = worstBy(qd32, redisOf);
  return [
    judge(
      `CPU per IO at qd 32 (4k, paths a and b) summed over gendisk, dispatch, rnull, completion and Redis <= ${CPU_PER_IO_AIM_US} µs`,
      wt !== undefined,
      wt !== undefined && totalOf(wt) <= CPU_PER_IO_AIM_US,
      wt ? `worst ${totalOf(wt).toFixed(1)} µs (path ${wt.path} ${wt.config.rw} irq${wt.config.irqmode}) over ${qd32.length} row(s)` : '-',
    ),
    judge(
      `Redis CPU per IO at qd 32 (4k, paths a and b) <= ${REDIS_PER_IO_AIM_US} µs`,
      wr !== undefined && Number.isFinite(redisOf(wr)),
      wr !== undefined && redisOf(wr) <= REDIS_PER_IO_AIM_US,
      wr ? `worst ${redisOf(wr).toFixed(1)} µs (path ${wr.path} ${wr.config.rw} irq${wr.config.irqmode})` : '-',
    ),
  ];
}

function nbdQd1Aim(rows: readonly PathResult[]): Aim {
  const qd1 = rows.filter((r) => r.path === 'b' && r.m && r.config.qd === 1 && NBD_QD1_P50_AIM_NS[r.config.irqmode] !== undefined);
  // The worst row is the one furthest over (or least under) its irqmode's bound.
  const worst = worstBy(qd1, (r) => r.m!.p50Ns / NBD_QD1_P50_AIM_NS[r.config.irqmode]);
  return judge(
    'qd1 p50 over NBD (every qd1 row of path b) <= 500 µs at irqmode 0, <= 700 µs at irqmode 1',
    worst !== undefined,
    qd1.every((r) => r.m!.p50Ns <= NBD_QD1_P50_AIM_NS[r.config.irqmode]),
    worst ? `worst p50 ${us(worst.m!.p50Ns)} (${worst.config.rw} irq${worst.config.irqmode}) over ${qd1.length} row(s)` : '-',
  );
}

function pathDAim(rows: readonly PathResult[]): Aim {
  const d = rows.filter((r) => r.path === 'd' && r.ratioToNbdkit !== undefined);
  const worst = worstBy(d, (r) => -(r.ratioToNbdkit ?? 0));
  return judge(
    'path d (in-process engine) >= 1 x nbdkit IOPS (every row of path d with a path c row)',
    worst !== undefined,
    d.every((r) => (r.ratioToNbdkit ?? 0) >= 1),
    worst
      ? `worst ${worst.ratioToNbdkit!.toFixed(3)} x (${worst.config.rw} ${worst.config.bs / 1024}k qd${worst.config.qd}) over ${d.length} row(s)`
      : '-',
  );
}

function sizeAims(sizes: SizeScaling | undefined): Aim[] {
  const rows = sizes?.rows ?? [];
  // Per op and max_sectors: the largest row's CPU per byte over the smallest's.
  const groups = new Map<string, SizeRow[]>();
  for (const r of rows) {
    const key = `${r.op} max_sectors=${r.maxSectors ?? 'default'}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const spreads = [...groups].flatMap(([key, group]) => {
    const sorted = [...group].sort((x, y) => x.bytes - y.bytes);
    const small = sorted[0];
    const large = sorted[sorted.length - 1];
    if (small === large || small.cpuNsPerByte === undefined || large.cpuNsPerByte === undefined) return [];
    return [{ spread: large.cpuNsPerByte / small.cpuNsPerByte, what: `${key}: ${sizeLabel(large)} / ${sizeLabel(small)}` }];
  });
  const worst = worstBy(spreads, (x) => x.spread);
  const failedRow = rows.find((r) => r.status !== 'ok');
  const ok = failedRow === undefined && spreads.every((x) => x.spread <= SIZE_COST_SPREAD);
  const probes = rows.filter((r) => r.probe !== undefined);
  const starved = probes.find((r) => !r.probe!.firstEndedBeforeWrite);
  const slowest = worstBy(probes, (r) => r.probe!.firstNs);
  return [
    judge(
      `cost per byte flat in IO size: server CPU per byte of the largest write / write-zeroes row <= ${SIZE_COST_SPREAD} x the smallest's`,
      rows.length > 0,
      ok,
      failedRow ? `${sizeLabel(failedRow)}: ${failedRow.status}` : worst ? `worst ${worst.spread.toFixed(2)} x (${worst.what})` : '-',
    ),
    judge(
      'tag waits fair: a 4 KiB read on another channel ends before a 16 MiB write does',
      probes.length > 0,
      starved === undefined,
      starved
        ? `${sizeLabel(starved)}: the first read ended after the write`
        : `first read after ${us(slowest?.probe?.firstNs ?? NaN)} at worst over ${probes.length} row(s)`,
    ),
  ];
}

export function judgeAims(x: AimInputs): Aim[] {
  const aims: Aim[] = [...nbdRatioAims(x.rows), ...cpuAims(x.rows), nbdQd1Aim(x.rows), pathDAim(x.rows), ...sizeAims(x.sizes)];
  const o = x.recycle?.overall;
  aims.push(
    judge(
      `recycle on-drop vs inline: the 95 % interval of the mean IOPS difference within +-${RECYCLE_BOUND * 100} %`,
      o !== undefined && Number.isFinite(o.mean),
      o !== undefined && o.low >= -RECYCLE_BOUND && o.high <= RECYCLE_BOUND,
      `${pct(o?.mean ?? NaN)}, 95 % CI [${pct(o?.low ?? NaN)}, ${pct(o?.high ?? NaN)}] over ${o?.n} pairs`,
    ),
  );
  const t = x.timer?.find((r) => r.completionNsec === 1_000_000);
  aims.push(
    judge(
      `timer lateness p50 < ${us(TIMER_LATENESS_AIM_NS)} at completion_nsec=1ms`,
      t !== undefined && t.firings > 0,
      (t?.p50Ns ?? Infinity) < TIMER_LATENESS_AIM_NS,
      `p50 ${us(t?.p50Ns ?? NaN)} (${t?.firings} firings)`,
    ),
  );
  const grows = x.memory?.trends.filter((tr) => tr.grows) ?? [];
  aims.push(
    judge(
      `no RSS growth trend over ${x.memory?.ios ?? 1_000_000} IOs`,
      x.memory !== undefined,
      grows.length === 0,
      grows.length ? `grows: ${grows.map((g) => g.service).join(', ')}` : `no service grows (${x.memory?.trends.length} services)`,
    ),
  );
  return aims;
}
