// One benchmark run, from options to report: the matrix over paths a-d, then the recycle
// comparison, timer accuracy and memory growth, each in its own section.
//
// Contract:
//   - Missing fio / nbdkit fail the run before anything starts, naming the apt package.
//   - A path that fails on one configuration gives a 'failed' row and the run goes on; a
//     path that cannot run (no gateway) gives 'skipped' rows. Neither carries figures.
//   - When `signal` aborts, the run stops at the next step boundary (loads in flight end
//     early) and rejects with `BenchAborted`; the caller's cleanup runs as for success.
//   - The cluster and the nbdkit peers are stopped on every exit path.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { redactRedisUrl } from '#service-kit';
import { judgeAims } from './bench-aims';
import { BenchCluster } from './bench-cluster';
import { type BenchConfig, type BenchOptions, configLabel, expandMatrix, fillsBefore, peerKey } from './bench-matrix';
import type { BenchProgress } from './bench-progress';
import type { BenchReport, MachineInfo } from './bench-report';
import { attachRatios, failed, okResult, PATH_NAMES, type PathResult, skipped } from './bench-result';
import { requireTool } from './external-tool';
import { fillTarget } from './fio-job';
import { runGrpc } from './bench-paths/grpc-path';
import { runInprocInChild } from './bench-paths/inproc-path';
import { cpuTimes, stealShare } from './cpu-steal';
import { FIRST_TOUCH_PROBE_MIB, firstTouchUsPerPage } from './first-touch';
import { GATEWAY_MISSING, gatewayUri, runNbdGateway } from './bench-paths/nbd-gateway-path';
import { NbdkitPath } from './bench-paths/nbdkit-path';
import { MEMORY_CHUNKS, runMemoryGrowth, type MemoryGrowth } from './memory-growth';
import { recycleSteps, runRecycleCompare, type RecycleComparison, type RecycleMethod } from './recycle-compare';
import { recycleWarmupSeconds } from './recycle-schedule';
import { runSizeScaling, sizeSteps, type SizeScaling } from './size-scaling';
import { runTimerAccuracy, type TimerAccuracy } from './timer-accuracy';

export class BenchAborted extends Error {
  constructor() {
    super('interrupted');
  }
}

function versionOf(cmd: string): string | undefined {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : undefined;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    fio: versionOf('fio'),
    nbdkit: versionOf('nbdkit'),
    loadBefore: os.loadavg()[0],
  };
}

/** Load before the first measurement, so that no configuration pays for cold services. */
const WARMUP_SECONDS = 2;

/** The recycle comparison's method from the bench's options. */
function recycleMethod(o: BenchOptions): RecycleMethod {
  return {
    samplesPerConfig: o.samples,
    sampleSeconds: o.sampleSeconds,
    slices: o.recycleSlices,
    warmupSeconds: recycleWarmupSeconds(o.sampleSeconds),
  };
}

export async function runBench(o: BenchOptions, progress: BenchProgress, command: string, signal?: AbortSignal): Promise<BenchReport> {
  const started = Date.now();
  const machine = machineInfo();
  const cpuAtStart = cpuTimes();
  const has = (s: string) => o.sections.includes(s as never);
  const matrix = expandMatrix(o);
  const configs = has('matrix') ? matrix : [];
  const paths = new Set(o.paths);
  if (configs.length && (paths.has('b') || paths.has('c'))) requireTool('fio');
  if (configs.length && paths.has('c')) requireTool('nbdkit');
  const notes: string[] = [];
  const check = () => {
    if (signal?.aborted) throw new BenchAborted();
  };

  const peerKeys = new Set(configs.map(peerKey));
  progress.plan(
    configs.length * ((paths.has('a') ? 1 : 0) + (paths.has('b') ? 1 : 0) + (paths.has('d') ? 1 : 0)) +
      (paths.has('c') ? peerKeys.size : 0),
  );
  if (has('recycle')) progress.plan(recycleSteps(matrix, recycleMethod(o)));
  if (has('timer')) progress.plan(o.timerNsec.length);
  if (has('memory')) progress.plan(MEMORY_CHUNKS);
  if (has('sizes')) progress.plan(sizeSteps());

  const needCluster =
    (configs.length && (paths.has('a') || paths.has('b'))) || has('recycle') || has('timer') || has('memory') || has('sizes');
  const bc = needCluster
    ? new BenchCluster({
        redisUrl: o.redisUrl,
        redisCluster: o.redisCluster,
        redisHugePages: o.redisHugePages,
        redisPurge: o.redisPurge,
        dispatch: o.dispatch,
        rnull: o.rnull,
        completion: o.completion,
        sizeMiB: o.sizeMiB,
        completionNsec: o.completionNsec,
        nbdMode: o.nbdMode,
        placement: o.placement,
      })
    : undefined;
  if (bc) progress.plan(1); // the warm-up
  const nbdkit = new NbdkitPath(o.sizeMiB);
  const rows: PathResult[] = [];
  let recycle: RecycleComparison | undefined;
  let timer: TimerAccuracy[] | undefined;
  let memory: MemoryGrowth | undefined;
  let sizes: SizeScaling | undefined;
  try {
    if (bc) {
      progress.note(`starting the cluster (key prefix ${bc.prefix})`);
      await bc.start();
      progress.note(
        `cluster up: redis ${redactRedisUrl(bc.redisUrl)}${bc.privateRedis ? ' (private)' : ''}, nbd gateway ${bc.nbdAddress ?? 'not available'}`,
      );
      if (!bc.privateRedis) notes.push('Redis shared with other clients (--redis-url): Redis commands per IO include theirs');
      const idle = await bc.idleCommandRate();
      notes.push(`idle cluster: ${Math.round(idle)} Redis commands/s over 2 s (background that every "redis cmd/IO" figure includes)`);
      // Services fresh from start run their first IOs unoptimised (JIT, pools): the first
      // configuration measured would pay for it alone.
      const warm: BenchConfig = { rw: 'randrw', bs: 4096, qd: 8, irqmode: 1, memoryBacked: true };
      const disk = await bc.createDisk(warm);
      try {
        progress.begin('warm-up');
        await runGrpc(bc, warm, {
          disk: disk.name,
          capacitySectors: disk.capacitySectors,
          seconds: WARMUP_SECONDS,
          signal,
          onProgress: (p) => progress.load(p),
        });
      } finally {
        await bc.deleteDisk(disk.name).catch(() => undefined);
      }
      notes.push(`warm-up: ${WARMUP_SECONDS} s of 4k randrw qd 8 through path a before the first measurement`);
      notes.push(
        `path b: NBD served ${o.nbdMode === 'service' ? 'by the nbd-gateway service' : 'inside dispatch'} (--nbd-mode ${o.nbdMode})`,
      );
      notes.push(
        `processes: dispatch ${o.dispatch}, rnull ${o.rnull}, completion ${o.completion} (--dispatch, --rnull, --completion)` +
          (o.dispatch > 1
            ? `; path a spreads qd over ${o.dispatch} streams, one per dispatch instance, path b over ${o.dispatch} fio jobs, one per instance's NBD listener`
            : '') +
          (o.placement === 'local' && (o.rnull > 1 || o.completion > 1)
            ? '; with --placement local the driver runs inside dispatch, so extra rnull and completion workers stay idle'
            : ''),
      );
      notes.push(
        o.redisCluster
          ? `Redis: a Redis Cluster (${redactRedisUrl(bc.redisUrl)}); redis cmd/IO and the redis CPU column count the masters, repl the replicas`
          : 'Redis: one redis-server',
      );
      if (bc.privateRedis)
        notes.push(
          `Redis started by the bench with transparent huge pages ${o.redisHugePages} (--redis-thp; tools/cluster/redis-server-options.ts)`,
        );
      notes.push(
        `paths a, b: driver placement ${o.placement} (${o.placement === 'local' ? 'the driver runs inside dispatch' : 'batches go to the rnull and completion workers'}; --placement)`,
      );
    }
    notes.push(
      o.precondition === 'fill'
        ? 'memory-backed configurations that write ran on targets written end to end once before (--precondition fill): steady-state overwrites in paths a, b and c; path d starts empty'
        : 'writes land on fresh pages (--precondition none): a new disk per configuration for paths a, b and d, a new nbdkit memory export for c; ' +
            (o.redisPurge === 'on'
              ? 'each deleted disk is followed by MEMORY PURGE, so Redis hands what it freed back to the kernel'
              : 'no MEMORY PURGE after a deleted disk (--redis-purge off): Redis keeps what it freed for its decay time, and a new disk may write into it'),
    );
    const peerDone = new Map<string, PathResult>();
    for (const c of configs) {
      check();
      rows.push(...(await runConfig(c)));
    }
    attachRatios(rows, peerKey);
    if (has('recycle')) recycle = await runRecycleCompare(bc!, matrix, { ...recycleMethod(o), signal }, progress);
    check();
    if (has('timer')) timer = await runTimerAccuracy(bc!, o.timerNsec, o.seconds, progress, signal);
    check();
    if (has('memory')) {
      memory = await runMemoryGrowth(bc!, o.memoryIos, progress, signal);
      if (o.memoryIos !== 1_000_000) notes.push(`memory growth measured over ${memory.ios} IOs, not the issue's 1,000,000 (--memory-ios)`);
    }
    check();
    if (has('sizes')) sizes = await runSizeScaling(bc!, { irqmode: o.irqmode[0], timeoutSeconds: o.sizesTimeout, signal }, progress);
    check();

    async function runConfig(c: BenchConfig): Promise<PathResult[]> {
      const out: PathResult[] = [];
      const label = configLabel(c);
      const tick = (s: number) => progress.update(`${s.toFixed(0)} s`);
      if (bc && (paths.has('a') || paths.has('b'))) {
        const disk = await bc.createDisk(c);
        try {
          const uri = gatewayUri(bc, disk.name);
          if (fillsBefore(c, o.precondition) && uri) {
            progress.begin(`fill ${label} (a, b)`);
            await fillTarget(uri, o.sizeMiB, tick);
          }
          if (paths.has('a')) {
            progress.begin(`a ${label}`);
            out.push(
              await attempt('a', c, () =>
                runGrpc(bc, c, {
                  disk: disk.name,
                  capacitySectors: disk.capacitySectors,
                  seconds: o.seconds,
                  signal,
                  onProgress: (p) => progress.load(p),
                }),
              ),
            );
          }
          check();
          if (paths.has('b')) {
            progress.begin(`b ${label}`);
            if (!bc.nbdAddress) out.push(skipped('b', c, GATEWAY_MISSING));
            else out.push(await attempt('b', c, () => runNbdGateway(bc, c, disk.name, o.seconds, o.sizeMiB, tick)));
          }
        } finally {
          await bc.deleteDisk(disk.name).catch(() => undefined);
        }
      }
      check();
      if (paths.has('c')) {
        const key = peerKey(c);
        const prev = peerDone.get(key);
        if (prev) out.push({ ...prev, config: c, reason: prev.m ? `measured once for every irqmode (nbdkit has none)` : prev.reason });
        else {
          // An empty export per configuration, as the cluster's disk is new per configuration.
          if (c.memoryBacked) await nbdkit.renew(true);
          if (fillsBefore(c, o.precondition)) {
            progress.begin(`fill c (nbdkit memory)`);
            await nbdkit.fill(c, tick);
          }
          progress.begin(`c ${label.replace(/ irq\d/, '')}`);
          const r = await attempt('c', c, () => nbdkit.run(c, o.seconds, tick));
          peerDone.set(key, r);
          out.push(r);
        }
      }
      check();
      if (paths.has('d')) {
        progress.begin(`d ${label}`);
        out.push(
          await attempt('d', c, () =>
            runInprocInChild(c, {
              signal,
              sizeMiB: o.sizeMiB,
              seconds: o.seconds,
              completionNsec: o.completionNsec,
              onProgress: (n, s) => progress.update(`${Math.round(n / s)} IOPS`),
            }),
          ),
        );
      }
      return out;
    }
  } finally {
    progress.finish();
    await nbdkit.stop();
    await bc?.stop();
  }

  async function attempt(
    path: 'a' | 'b' | 'c' | 'd',
    c: BenchConfig,
    run: () => Promise<NonNullable<PathResult['m']>>,
  ): Promise<PathResult> {
    try {
      const m = await run();
      if (m.errors > 0) progress.note(`path ${path} ${configLabel(c)}: ${m.errors} IOs failed`);
      return okResult(path, c, m);
    } catch (err) {
      if (signal?.aborted) throw new BenchAborted();
      progress.note(`path ${path} (${PATH_NAMES[path]}) failed on ${configLabel(c)}: ${(err as Error).message}`);
      return failed(path, c, err);
    }
  }

  machine.loadAfter = os.loadavg()[0];
  const steal = stealShare(cpuAtStart, cpuTimes());
  if (steal !== undefined)
    notes.push(
      `CPU steal over the run: ${(steal * 100).toFixed(1)} % of this VM's CPU time went to other guests (/proc/stat; figures move with it)`,
    );
  notes.push(
    `first touch of memory here: ${firstTouchUsPerPage().toFixed(2)} µs of CPU per fresh 4 KiB page (${FIRST_TOUCH_PROBE_MIB} MiB after the run; a write to a fresh page of a memory-backed disk pays it in Redis, and nbdkit pays it too)`,
  );
  if (paths.has('c') && o.irqmode.length > 1)
    notes.push('path c (nbdkit) is measured once per rw/bs/qd/memory_backed and shown for every irqmode');
  return {
    generatedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    command,
    machine,
    options: o,
    notes,
    rows,
    recycle,
    timer,
    memory,
    sizes,
    aims: judgeAims({ rows, recycle, timer, memory, sizes }),
  };
}
