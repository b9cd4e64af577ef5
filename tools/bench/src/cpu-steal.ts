// CPU steal over a run: the share of this VM's CPU time the host gave to others while the
// vCPUs wanted to run. On a shared VM it is what most often moves the figures between runs
// (docs/bench/v2-final/: 1 % in a calm hour, 40–60 % in a loud one, with CPU per IO 3–5 x
// higher), so the report names it beside the load average.
//
// Contract: `cpuTimes` reads the aggregate `cpu` line of /proc/stat (clock ticks);
// `stealShare` is steal / (all fields but guest time, which user time already holds)
// between two readings, or undefined where /proc/stat is missing or nothing was counted.
import * as fs from 'node:fs';

export interface CpuTimes {
  readonly steal: number;
  readonly total: number;
}

/** The aggregate line: `cpu user nice system idle iowait irq softirq steal guest guest_nice`. */
export function parseCpuTimes(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined;
  // guest and guest_nice (fields 9 and 10) are counted inside user and nice already.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { steal: f[7], total };
}

export function cpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(fs.readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

export function stealShare(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return (after.steal - before.steal) / (after.total - before.total);
}
