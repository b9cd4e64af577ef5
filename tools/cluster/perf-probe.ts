// The performance probe of the hot path: a whole cluster on a private Redis, one disk, and
// closed-loop loads at the queue depths asked for, each reported with what it cost —
// IOPS and latency, Redis commands per IO (INFO commandstats deltas), CPU per service
// (/proc/<pid>/stat deltas: % of one core, and CPU µs per IO), RSS, and the completion timer's lateness.
//
//   node dist/tools/cluster/perf-probe.js --irqmode 1 --qd 1,32 --seconds 10 [--recycle inline]
//     [--completion-nsec 1000000] [--memory-backed 0] [--rw randwrite] [--ios N] [--json]
//   PERF_CPU_PROF=<dir> also writes a --cpu-prof profile of every service into <dir>.
//
// Contract: the private Redis serves this run alone, so every command counted and every
// % of Redis CPU is this cluster's; the load client runs in this process ("client").
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { BlockDeviceClient } from '#proto/grpc/blk/v1/block_device';
import { GenDiskClient, type Disk } from '#proto/grpc/blk/v1/gen_disk';
import { CLIENT_CHANNEL_OPTIONS } from '../rnullctl/src/grpc-clients';
import { runLoad, type RwMode } from '../rnullctl/src/load-generator';
import { Cluster } from './cluster';
import { freePort, redisAnswers } from './private-redis';
import { redisServerLaunch } from './redis-server-options';

const DISK = 'perfb0';
const CLK_TCK = 100;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function call<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

/** utime + stime of `pid` in seconds, and its RSS in MiB. */
function procStat(pid: number): { cpuS: number; rssMiB: number } {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK, rssMiB: (Number(f[21]) * 4096) / 2 ** 20 };
  } catch {
    return { cpuS: 0, rssMiB: 0 };
  }
}

async function commandStats(r: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await r.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** p50 of a Prometheus histogram from its cumulative buckets (upper bound of the bucket). */
async function histogramP50(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  const buckets: [number, number][] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`).exec(line);
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  return buckets.find(([, c]) => c >= total / 2)?.[0];
}

async function startRedis(): Promise<{ url: string; pid: number; stop: () => void }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-redis-'));
  const launch = redisServerLaunch();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...launch.args],
    { stdio: 'ignore', env: launch.env },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await redisAnswers(url, 200)); i++) await new Promise((r) => setTimeout(r, 50));
  return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const irqmode = Number(arg('irqmode', '1'));
  const qds = arg('qd', '1,32').split(',').map(Number);
  const seconds = Number(arg('seconds', '10'));
  const ios = process.argv.includes('--ios') ? Number(arg('ios', '0')) : undefined;
  const rw = arg('rw', 'randread') as RwMode;
  const json = process.argv.includes('--json');
  const redis = await startRedis();
  const profDir = process.env.PERF_CPU_PROF;
  if (profDir) process.env.SERVICE_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;
  const cluster = new Cluster({
    redisUrl: redis.url,
    ephemeralPorts: true,
    keyPrefix: `perf-${process.pid}-`,
    out: (label, line) => (/"level":(50|60)/.test(line) ? process.stderr.write(`[${label}] ${line}\n`) : undefined),
  });
  const r = new Redis(redis.url);
  try {
    await cluster.start();
    const genDisk = new GenDiskClient(cluster.dispatchAddress, grpc.credentials.createInsecure());
    const disk: Disk = await call(genDisk.createDisk.bind(genDisk), {
      name: DISK,
      power: true,
      attributes: {
        irqmode,
        memoryBacked: arg('memory-backed', '1') === '1',
        recycle: arg('recycle', 'on-drop'),
        completionNsec: BigInt(arg('completion-nsec', '1000000')),
        size: 1024n,
      },
    });
    const client = new BlockDeviceClient(cluster.dispatchAddress, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
    const load = (qd: number, opts: { ios?: number; durationMs?: number }) =>
      runLoad({ client, disk: DISK, capacitySectors: disk.capacitySectors, blockSize: 4096, rw, queueDepth: qd, batchSize: 16, ...opts });
    await load(8, { durationMs: 1500 });
    const pids = new Map<string, number>(cluster.processes.map((p) => [p.spec.label, p.child.pid!]));
    pids.set('redis', redis.pid);
    pids.set('client', process.pid);
    const completion = cluster.live('completion')[0];
    const completionMetrics = completion ? `http://127.0.0.1:${(await completion.ready).http}/metrics` : undefined;
    const rows: Record<string, unknown>[] = [];
    for (const qd of qds) {
      const cmd0 = await commandStats(r);
      const cpu0 = new Map([...pids].map(([l, pid]) => [l, procStat(pid)]));
      const res = await load(qd, ios ? { ios } : { durationMs: seconds * 1000 });
      const cmd1 = await commandStats(r);
      const elapsedS = Number(res.elapsedNs) / 1e9;
      const cpu: Record<string, number> = {};
      const cpuUsPerIo: Record<string, number> = {};
      const rss: Record<string, number> = {};
      for (const [l, pid] of pids) {
        const s = procStat(pid);
        cpu[l] = Math.round(((s.cpuS - cpu0.get(l)!.cpuS) / elapsedS) * 100);
        cpuUsPerIo[l] = Math.round(((s.cpuS - cpu0.get(l)!.cpuS) / res.ios) * 1e6);
        rss[l] = Math.round(s.rssMiB);
      }
      const perIo: Record<string, number> = {};
      let total = 0;
      for (const [c, n] of cmd1) {
        const d = n - (cmd0.get(c) ?? 0) - (c === 'info' ? 1 : 0);
        if (d > 0) perIo[c] = Number((d / res.ios).toFixed(2));
        if (d > 0) total += d;
      }
      const latenessS =
        irqmode === 2 && completionMetrics ? await histogramP50(completionMetrics, 'rnull_timer_lateness_seconds') : undefined;
      rows.push({
        qd,
        iops: Math.round(res.iops),
        p50Us: Math.round(res.latency.p50Ns / 1e3),
        p99Us: Math.round(res.latency.p99Ns / 1e3),
        errors: res.errors,
        redisCmdsPerIo: Number((total / res.ios).toFixed(2)),
        commands: perIo,
        cpuPct: cpu,
        cpuUsPerIo,
        rssMiB: rss,
        ...(latenessS !== undefined ? { timerLatenessP50BucketUs: latenessS * 1e6 } : {}),
      });
    }
    const trace = arg('trace', '');
    if (trace) {
      // MONITOR over a few qd 1 IOs: the command timeline of one IO, for where time goes.
      const mon = await r.monitor();
      const lines: string[] = [];
      mon.on('monitor', (time: string, args: string[], source: string, db: string) =>
        lines.push(`${time} ${source} ${db} ${args.map((a) => a.slice(0, 60)).join(' ')}`),
      );
      await load(1, { ios: 20 });
      mon.disconnect();
      fs.writeFileSync(trace, lines.join('\n') + '\n');
    }
    const head = `irqmode=${irqmode} rw=${rw} recycle=${arg('recycle', 'on-drop')} memory_backed=${arg('memory-backed', '1')}`;
    if (json) process.stdout.write(JSON.stringify({ params: head, rows }, null, 1) + '\n');
    else for (const row of rows) process.stdout.write(`${head} ${JSON.stringify(row)}\n`);
    client.close();
    genDisk.close();
  } finally {
    r.disconnect();
    await cluster.stop();
    redis.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`perf-probe failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
