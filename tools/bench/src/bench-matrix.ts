// The benchmark matrix of `npm run bench`: the command line, the `--quick` preset, and
// the list of configurations (rw x bs x qd x irqmode x memory_backed) it expands to.
//
// Contract:
//   - Every list option takes comma-separated values; an unknown value or option throws a
//     `BenchUsageError` that names it and the accepted values. Nothing is silently dropped.
//   - `--quick` replaces the defaults of every option the user did not give; options given
//     on the same command line win over the preset, whatever their order.
//   - `expandMatrix` is the cartesian product in the order rw, bs, qd, irqmode,
//     memory_backed (the last varies fastest), without duplicates.

import { type DriverPlacementName, readRedisClusterNodes } from '#service-kit';
import type { RedisHugePages } from '../../cluster/redis-server-options';
import { recycleSlicesProblem } from './recycle-schedule';

export const RW_VALUES = ['randread', 'randwrite', 'read', 'write', 'randrw'] as const;
export const PRECONDITIONS = ['none', 'fill'] as const;
export type Precondition = (typeof PRECONDITIONS)[number];
export type BenchRw = (typeof RW_VALUES)[number];
export const PATH_IDS = ['a', 'b', 'c', 'd'] as const;
export type PathId = (typeof PATH_IDS)[number];
export const SECTIONS = ['matrix', 'recycle', 'timer', 'memory', 'sizes'] as const;
export type Section = (typeof SECTIONS)[number];

/** One point of the matrix: what fio calls a job. */
export interface BenchConfig {
  readonly rw: BenchRw;
  /** Bytes per IO. */
  readonly bs: number;
  readonly qd: number;
  /** 0 none, 1 softirq, 2 timer. */
  readonly irqmode: number;
  readonly memoryBacked: boolean;
}

/** Whether each deleted disk is followed by `MEMORY PURGE` on every Redis process (`--redis-purge`). */
export type RedisPurge = 'on' | 'off';

export interface BenchOptions {
  readonly rw: readonly BenchRw[];
  readonly bs: readonly number[];
  readonly qd: readonly number[];
  readonly irqmode: readonly number[];
  readonly memoryBacked: readonly boolean[];
  readonly paths: readonly PathId[];
  readonly sections: readonly Section[];
  /** Seconds each path runs each configuration. */
  readonly seconds: number;
  /** Paired samples per configuration in the recycle comparison. */
  readonly samples: number;
  /** Seconds of each recycle-comparison sample. */
  readonly sampleSeconds: number;
  /** Runs per mode in each recycle pair, alternating ABBA (recycle-schedule.ts). */
  readonly recycleSlices: number;
  /** IOs of the memory-growth run (1,000,000 by the issue; `--quick` uses fewer). */
  readonly memoryIos: number;
  /** Timer delays whose lateness is measured, ns. */
  readonly timerNsec: readonly number[];
  /** Disk `completion_nsec` for irqmode 2 in the matrix. */
  readonly completionNsec: number;
  /** gRPC deadline of each submission of the sizes section, seconds. */
  readonly sizesTimeout: number;
  /** Disk size in MiB (also the nbdkit peer's size). */
  readonly sizeMiB: number;
  readonly out: string;
  readonly quick: boolean;
  /** Use this Redis instead of a private redis-server. */
  readonly redisUrl?: string;
  /**
   * Run the cluster on a Redis Cluster: `local` starts one on loopback (3 masters, 3
   * replicas, `tools/cluster/redis-cluster.ts`), else the seed nodes `host:port,…` of one
   * that runs (REDIS_CLUSTER_NODES).
   */
  readonly redisCluster?: string;
  /**
   * Whether the redis-servers the bench starts back their heap with transparent huge pages
   * (`tools/cluster/redis-server-options.ts`); `off` runs them as Redis ships, for A/B runs.
   */
  readonly redisHugePages: RedisHugePages;
  /**
   * `on`: each deleted disk is followed by `MEMORY PURGE` on every Redis process, so the
   * next disk's writes fault fresh memory in, as a new nbdkit export does; `off`: Redis keeps
   * what it freed for jemalloc's decay time (`tools/cluster/redis-server-options.ts`), as the
   * cluster does between disks, and a new disk may write into it.
   */
  readonly redisPurge: RedisPurge;
  /** Processes of each service in the bench cluster (scale-out): dispatch, rnull, completion. */
  readonly dispatch: number;
  readonly rnull: number;
  readonly completion: number;
  /** Where path b's NBD is served: inside dispatch (the default) or by the nbd-gateway service. */
  readonly nbdMode: 'dispatch' | 'service';
  /** `DRIVER_PLACEMENT` of the bench cluster's dispatch: local (as npm start) or remote. */
  readonly placement: DriverPlacementName;
  /**
   * `fill`: before a memory-backed configuration that writes, every target (the cluster's
   * disk, nbdkit's export) is written once end to end, unmeasured, so the measured writes
   * overwrite stored pages (steady state); `none`: they land on fresh ones.
   */
  readonly precondition: Precondition;
  readonly help: boolean;
}

export class BenchUsageError extends Error {}

export const FULL_DEFAULTS: BenchOptions = Object.freeze({
  rw: [...RW_VALUES],
  bs: [4096, 65536, 1048576],
  qd: [1, 8, 32, 128],
  irqmode: [0, 1, 2],
  memoryBacked: [false, true],
  paths: [...PATH_IDS],
  // `sizes` runs only when asked for (--sections sizes): its rows on an unfixed data path
  // can take minutes.
  sections: SECTIONS.filter((x) => x !== 'sizes'),
  sizesTimeout: 120,
  seconds: 5,
  // 80 pairs over the aims' 8 configurations. With one run per mode and pair the spread of
  // a pair's difference was 8-16 % here: 40 pairs of 3 s gave 95 % intervals 5.0-10.1
  // points wide in three runs, 96 pairs of 2 s one 5.1 wide (docs/bench/v2-two-hosts/).
  // Four runs per mode, ABBA, brought it to 6.7-8.0 % against 12.1-13.7 % in interleaved
  // runs of 48 pairs (docs/bench/v2-recycle/).
  samples: 10,
  sampleSeconds: 2,
  recycleSlices: 4,
  memoryIos: 1_000_000,
  timerNsec: [100_000, 1_000_000, 10_000_000],
  completionNsec: 1_000_000,
  sizeMiB: 1024,
  out: 'docs/bench',
  nbdMode: 'dispatch',
  placement: 'local',
  redisHugePages: 'on',
  redisPurge: 'on',
  dispatch: 1,
  rnull: 1,
  completion: 1,
  precondition: 'none',
  quick: false,
  help: false,
});

/** A few minutes on 2 cores: the configurations the aims name, short runs. */
export const QUICK_PRESET: Partial<BenchOptions> = Object.freeze({
  rw: ['randread', 'randwrite'] as BenchRw[],
  bs: [4096],
  qd: [1, 32],
  irqmode: [1],
  memoryBacked: [true],
  seconds: 3,
  samples: 3,
  sampleSeconds: 1.5,
  recycleSlices: 2,
  memoryIos: 200_000,
  quick: true,
});

type OptionKey = Exclude<keyof BenchOptions, 'quick' | 'help'>;

const FLAGS: Record<string, OptionKey> = {
  '--rw': 'rw',
  '--bs': 'bs',
  '--qd': 'qd',
  '--irqmode': 'irqmode',
  '--memory-backed': 'memoryBacked',
  '--paths': 'paths',
  '--sections': 'sections',
  '--seconds': 'seconds',
  '--samples': 'samples',
  '--sample-seconds': 'sampleSeconds',
  '--recycle-slices': 'recycleSlices',
  '--memory-ios': 'memoryIos',
  '--timer-nsec': 'timerNsec',
  '--completion-nsec': 'completionNsec',
  '--size': 'sizeMiB',
  '--sizes-timeout': 'sizesTimeout',
  '--out': 'out',
  '--redis-url': 'redisUrl',
  '--redis-cluster': 'redisCluster',
  '--redis-thp': 'redisHugePages',
  '--redis-purge': 'redisPurge',
  '--dispatch': 'dispatch',
  '--rnull': 'rnull',
  '--completion': 'completion',
  '--nbd-mode': 'nbdMode',
  '--placement': 'placement',
  '--precondition': 'precondition',
};

export const USAGE = `usage: npm run bench -- [options]
  --rw LIST            ${RW_VALUES.join(',')} (default all)
  --bs LIST            block sizes, e.g. 4k,64k,1M (default 4k,64k,1M)
  --qd LIST            queue depths (default 1,8,32,128)
  --irqmode LIST       0,1,2 (default all)
  --memory-backed LIST 0,1 (default both)
  --paths LIST         a grpc stream, b nbd gateway + fio, c nbdkit + fio, d in-process (default all)
  --sections LIST      ${SECTIONS.join(',')} (default all but sizes)
  --seconds S          per path and configuration (default 5)
  --samples N          paired recycle samples per configuration (default 10)
  --sample-seconds S   per recycle sample (default 2)
  --recycle-slices N   runs per mode in each recycle pair, alternating ABBA: 1 or even (default 4)
  --memory-ios N       IOs of the memory-growth run (default 1000000)
  --timer-nsec LIST    completion_nsec values for timer accuracy (default 100000,1000000,10000000)
  --completion-nsec N  completion_nsec of irqmode 2 in the matrix (default 1000000)
  --size MIB           disk size (default 1024; the sizes section uses its own 1024 MiB disks)
  --sizes-timeout S    gRPC deadline of each sizes-section row (default 120)
  --out DIR            where CSV, JSON and SVG go (default docs/bench)
  --redis-url URL      use this Redis (default: a private redis-server on a free port)
  --redis-cluster[=NODES]  run on a Redis Cluster: alone, one started on loopback (3 masters,
                       3 replicas); with =host:port,… the seed nodes of one that runs
  --redis-thp on|off   the Redis the bench starts uses transparent huge pages (default on; off
                       runs it as Redis ships: fresh-page writes then pay 4 KiB page faults)
  --redis-purge on|off MEMORY PURGE on every Redis process after each deleted disk (default on:
                       each configuration's writes fault fresh memory in; off: Redis keeps what
                       it freed for jemalloc's decay time and a new disk may write into it)
  --dispatch N         dispatch instances (default 1): path a spreads its queue depth over one
                       stream per instance, path b one fio job (NBD connection) per instance
  --rnull N            rnull worker processes (default 1; they serve --placement remote)
  --completion N       completion worker processes (default 1; they serve --placement remote)
  --nbd-mode MODE      path b's NBD: dispatch (served inside dispatch, default) or service (nbd-gateway)
  --placement WHERE    the cluster's driver placement (DRIVER_PLACEMENT): local (inside dispatch, as npm start; default) or remote (rnull/completion workers)
  --precondition HOW  none (writes land on fresh pages, default) or fill (each target written once end to
                       end before a memory-backed configuration that writes: steady-state overwrites)
  --quick              rw randread,randwrite bs 4k qd 1,32 irqmode 1 memory_backed 1, 3 s runs,
                       3 recycle pairs of 1.5 s in 2 slices, 200000 memory IOs: a few minutes on 2 cores
`;

/** Most processes of one service the bench starts (`--dispatch`, `--rnull`, `--completion`). */
export const MAX_INSTANCES = 16;

/** `local`, or a `host:port,…` seed list checked entry by entry (as REDIS_CLUSTER_NODES is). */
function parseClusterNodes(flag: string, text: string | undefined): string {
  if (text === undefined || text === 'local') return 'local';
  try {
    readRedisClusterNodes(text);
  } catch (err) {
    throw new BenchUsageError(`${flag}: ${(err as Error).message.replace('REDIS_CLUSTER_NODES', 'seed nodes')}`);
  }
  return text;
}

/** `4k` -> 4096, `1M` -> 1048576, `512` -> 512. */
export function parseSize(text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new BenchUsageError(`bad block size ${JSON.stringify(text)}: use e.g. 4k, 64k, 1M`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1024 : 1048576);
  if (n < 512 || n % 512 !== 0) throw new BenchUsageError(`bad block size ${text}: a multiple of 512 is needed`);
  return n;
}

/** 4096 -> `4k`, 1048576 -> `1M`. */
export function formatSize(bytes: number): string {
  if (bytes % 1048576 === 0) return `${bytes / 1048576}M`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return String(bytes);
}

function list(text: string | undefined, flag: string): string[] {
  if (text === undefined || text.startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new BenchUsageError(`${flag} needs at least one value`);
  return [...new Set(items)];
}

function oneOf<T extends string>(flag: string, items: string[], allowed: readonly T[]): T[] {
  for (const i of items) {
    if (!allowed.includes(i as T))
      throw new BenchUsageError(`${flag}: unknown value ${JSON.stringify(i)} (accepted: ${allowed.join(', ')})`);
  }
  return items as T[];
}

function number(flag: string, text: string, min: number, max: number, integer = true): number {
  const n = Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new BenchUsageError(`${flag}: ${JSON.stringify(text)} is not ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
  }
  return n;
}

function parseValue(key: OptionKey, flag: string, text: string | undefined): unknown {
  switch (key) {
    case 'rw':
      return oneOf(flag, list(text, flag), RW_VALUES);
    case 'paths':
      return oneOf(flag, list(text, flag), PATH_IDS);
    case 'sections':
      return oneOf(flag, list(text, flag), SECTIONS);
    case 'bs':
      return list(text, flag).map(parseSize);
    case 'qd':
      return list(text, flag).map((v) => number(flag, v, 1, 4096));
    case 'irqmode':
      return list(text, flag).map((v) => number(flag, v, 0, 2));
    case 'memoryBacked':
      return oneOf(flag, list(text, flag), ['0', '1']).map((v) => v === '1');
    case 'timerNsec':
      return list(text, flag).map((v) => number(flag, v, 1, 1e10));
    case 'seconds':
    case 'sampleSeconds':
    case 'sizesTimeout':
      return number(flag, list(text, flag)[0], 0.1, 86400, false);
    case 'samples':
      return number(flag, list(text, flag)[0], 2, 1000);
    case 'recycleSlices':
      return number(flag, list(text, flag)[0], 1, 64);
    case 'memoryIos':
      return number(flag, list(text, flag)[0], 1000, 1e9);
    case 'completionNsec':
      return number(flag, list(text, flag)[0], 1, 1e10);
    case 'sizeMiB':
      return number(flag, list(text, flag)[0], 1, 1 << 20);
    case 'dispatch':
    case 'rnull':
    case 'completion':
      return number(flag, list(text, flag)[0], 1, MAX_INSTANCES);
    case 'redisCluster':
      return parseClusterNodes(flag, text);
    case 'nbdMode':
      return oneOf(flag, list(text, flag), ['dispatch', 'service'] as const)[0];
    case 'placement':
      return oneOf(flag, list(text, flag), ['local', 'remote'] as const)[0];
    case 'redisHugePages':
    case 'redisPurge':
      return oneOf(flag, list(text, flag), ['on', 'off'] as const)[0];
    case 'precondition':
      return oneOf(flag, list(text, flag), PRECONDITIONS)[0];
    case 'out':
    case 'redisUrl':
      if (text === undefined || text === '') throw new BenchUsageError(`${flag} needs a value`);
      return text;
  }
}

/** Parses `npm run bench -- …` arguments (argv without node and script). */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const given: Partial<Record<OptionKey, unknown>> = {};
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else {
      const eq = arg.indexOf('=');
      const flag = eq > 0 ? arg.slice(0, eq) : arg;
      const key = FLAGS[flag];
      if (!key) throw new BenchUsageError(`unknown option ${JSON.stringify(arg)}; see --help`);
      // --redis-cluster takes its value only as --redis-cluster=NODES: alone it means local.
      if (key === 'redisCluster') given[key] = parseValue(key, flag, eq > 0 ? arg.slice(eq + 1) : undefined);
      else given[key] = parseValue(key, flag, eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    }
  }
  if (given.redisCluster !== undefined && given.redisUrl !== undefined)
    throw new BenchUsageError('--redis-url and --redis-cluster exclude each other: one Redis or a Redis Cluster');
  const options = { ...FULL_DEFAULTS, ...(quick ? QUICK_PRESET : {}), ...given, quick, help } as BenchOptions;
  const slicesProblem = recycleSlicesProblem(options.recycleSlices, options.sampleSeconds);
  if (slicesProblem) throw new BenchUsageError(slicesProblem);
  return options;
}

/** Every configuration of the options' matrix. */
export function expandMatrix(o: Pick<BenchOptions, 'rw' | 'bs' | 'qd' | 'irqmode' | 'memoryBacked'>): BenchConfig[] {
  const out: BenchConfig[] = [];
  for (const rw of o.rw)
    for (const bs of o.bs)
      for (const qd of o.qd)
        for (const irqmode of o.irqmode) for (const memoryBacked of o.memoryBacked) out.push({ rw, bs, qd, irqmode, memoryBacked });
  return out;
}

/** `randread 4k qd32 irq1 mb1`: how a configuration appears in progress and tables. */
export function configLabel(c: BenchConfig): string {
  return `${c.rw} ${formatSize(c.bs)} qd${c.qd} irq${c.irqmode} mb${c.memoryBacked ? 1 : 0}`;
}

/** Whether `c` is one that `--precondition fill` fills its targets for (memory-backed, writes). */
export function fillsBefore(c: BenchConfig, precondition: Precondition): boolean {
  return precondition === 'fill' && c.memoryBacked && c.rw !== 'randread' && c.rw !== 'read';
}

/** The configuration without irqmode: what an nbdkit peer run depends on. */
export function peerKey(c: BenchConfig): string {
  return `${c.rw}/${c.bs}/${c.qd}/${c.memoryBacked ? 1 : 0}`;
}
