// The aims of issue 7, judged against the figures of one run: each is met, not met, or
// not measured (its configuration or section was not in the run) — never assumed.
import type { PathResult } from './bench-result';
import type { MemoryGrowth } from './memory-growth';
import type { RecycleComparison } from './recycle-compare';
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
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const us = (ns: number) => `${(ns / 1000).toFixed(0)} µs`;

function judge(aim: string, measured: boolean, ok: boolean, figure: string): Aim {
  return { aim, verdict: !measured ? 'not measured' : ok ? 'met' : 'not met', figure: measured ? figure : '-' };
}

export function judgeAims(x: AimInputs): Aim[] {
  const aims: Aim[] = [];
  for (const path of ['a', 'b'] as const) {
    const row = x.rows.find(
      (r) =>
        r.path === path &&
        r.config.rw === 'randread' &&
        r.config.bs === 4096 &&
        r.config.qd === 32 &&
        r.config.irqmode === 1 &&
        r.config.memoryBacked,
    );
    const ratio = row?.ratioToNbdkit;
    aims.push(
      judge(
        `path ${path}: 4k randread qd32 memory_backed=1 irqmode=1 >= 0.5 x nbdkit memory IOPS`,
        ratio !== undefined,
        (ratio ?? 0) >= 0.5,
        `${ratio?.toFixed(3)} x (${Math.round(row?.m?.iops ?? 0)} IOPS)`,
      ),
    );
  }
  // CPU per IO (v2): server side (gendisk + dispatch + rnull + completion + Redis) <= 60 µs
  // and Redis alone <= 15 µs, on every 4 KiB qd 32 row of the cluster paths.
  const qd32 = x.rows.filter(
    (r) => (r.path === 'a' || r.path === 'b') && r.m?.cpu?.totalUs !== undefined && r.config.qd === 32 && r.config.bs === 4096,
  );
  const worstBy = (f: (r: PathResult) => number) => qd32.reduce<PathResult | undefined>((w, r) => (!w || f(r) > f(w) ? r : w), undefined);
  const totalOf = (r: PathResult) => r.m?.cpu?.totalUs ?? NaN;
  const redisOf = (r: PathResult) => r.m?.cpu?.byProcess.redis ?? NaN;
  const wt = worstBy(totalOf);
  const wr = worstBy(redisOf);
  aims.push(
    judge(
      'CPU per IO at qd 32 (4k, paths a and b) summed over gendisk, dispatch, rnull, completion and Redis <= 60 µs',
      wt !== undefined,
      wt !== undefined && totalOf(wt) <= 60,
      wt ? `worst ${totalOf(wt).toFixed(1)} µs (path ${wt.path} ${wt.config.rw}) over ${qd32.length} row(s)` : '-',
    ),
  );
  aims.push(
    judge(
      'Redis CPU per IO at qd 32 (4k, paths a and b) <= 15 µs',
      wr !== undefined && Number.isFinite(redisOf(wr)),
      wr !== undefined && redisOf(wr) <= 15,
      wr ? `worst ${redisOf(wr).toFixed(1)} µs (path ${wr.path} ${wr.config.rw})` : '-',
    ),
  );
  const qd1 = x.rows.filter((r) => r.path === 'a' && r.m && r.config.qd === 1 && r.config.irqmode !== 2);
  const worst = qd1.reduce<PathResult | undefined>((w, r) => (!w || r.m!.p50Ns > w.m!.p50Ns ? r : w), undefined);
  aims.push(
    judge(
      'qd1 p50 via gRPC < 1 ms (every qd1 row of path a, irqmode 0/1)',
      worst !== undefined,
      (worst?.m?.p50Ns ?? Infinity) < 1e6,
      `worst p50 ${us(worst?.m?.p50Ns ?? NaN)} over ${qd1.length} row(s)`,
    ),
  );
  const o = x.recycle?.overall;
  aims.push(
    judge(
      'recycle on-drop vs inline: mean IOPS difference within +-3 %',
      o !== undefined && Number.isFinite(o.mean),
      Math.abs(o?.mean ?? Infinity) <= 0.03,
      `${pct(o?.mean ?? NaN)}, 95 % CI [${pct(o?.low ?? NaN)}, ${pct(o?.high ?? NaN)}] over ${o?.n} pairs`,
    ),
  );
  const t = x.timer?.find((r) => r.completionNsec === 1_000_000);
  aims.push(
    judge(
      'timer lateness p50 < 200 µs at completion_nsec=1ms',
      t !== undefined && t.firings > 0,
      (t?.p50Ns ?? Infinity) < 200_000,
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
