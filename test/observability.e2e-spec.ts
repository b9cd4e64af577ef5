// The Grafana dashboard against a live cluster: a real Prometheus (Debian's `prometheus`
// binary) scrapes every service with the project's deploy/prometheus/prometheus.yml, its
// targets rewritten to the loopback ports of this test's processes, while IO flows on a
// direct disk (irqmode 0), a timer disk (irqmode 2), a disk whose requests time out and
// a disk whose driver requeues every other request (requeue injection), and through the
// NBD gateway; a zoned disk has a READ_ONLY and an OFFLINE zone (zone_readonly /
// zone_offline) and a written one for the zone panels.
// Every query of every panel must then return data: a panel that queries a metric (or a
// label) that no service exports fails here, naming the panel and the expression.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { NbdCmd } from '#nbd';
import { Op, Status, type Submission } from '#proto/grpc/blk/v1/block_device';
import { ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { RawNbdClient } from '../libs/nbd/src/testing/raw-nbd-client';
import { createDisk, eventually, type Fixture, startCluster, streamAll, submit, unary } from './support/cluster-fixture';

const ROOT = path.resolve(__dirname, '..');
const DASHBOARD_FILE = 'deploy/grafana/dashboards/rnull-cluster.json';
const PROMETHEUS_FILE = 'deploy/prometheus/prometheus.yml';
const DATASOURCE_FILE = 'deploy/grafana/provisioning/datasources/prometheus.yml';
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; definition?: string; query?: unknown; datasource?: { type?: string; uid?: string } }[];
  };
}

const dashboard = JSON.parse(read(DASHBOARD_FILE)) as Dashboard;
/** Every non-row panel, including those nested in (collapsed) rows. */
const panels: Panel[] = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

/** A dashboard expression as Grafana sends it with disk = All (allValue `.*`). */
const instantiate = (expr: string): string => expr.replace(/\$\{?disk\}?/g, '.*').replace(/\$\{?__rate_interval\}?/g, '1m');

const DISKS = { direct: 'obs0', timer: 'obs2', timeout: 'obst', requeue: 'obsr', throttled: 'obsbw', cached: 'obsc' } as const;
/** 16 zones of 4 MiB (8192 sectors): 2 conventional, zone 2 READ_ONLY, zone 3 OFFLINE, zone 4 written, 11 EMPTY. */
const ZONED = 'obsz';
const ZONE_SECTORS = 8192n;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writes(disk: string, n: number, base: number): Submission[] {
  return Array.from({ length: n }, (_, i) => ({
    tag: BigInt(i),
    disk,
    op: Op.OP_WRITE,
    sector: BigInt((base + i) * 16),
    length: 4096,
    data: Buffer.alloc(4096, i),
    flags: 0,
  }));
}

function reads(disk: string, n: number, base: number): Submission[] {
  return Array.from({ length: n }, (_, i) => ({
    tag: BigInt(i),
    disk,
    op: Op.OP_READ,
    sector: BigInt((base + i) * 16),
    length: 4096,
    data: Buffer.alloc(0),
    flags: 0,
  }));
}

let f: Fixture | undefined;
let prom: ChildProcess | undefined;
let promExited: Promise<void> | undefined;
let promOut = '';
let promUrl = '';
let tmp: string | undefined;
let running = false;
const loops: Promise<void>[] = [];
const ioErrors: string[] = [];
let ioCount = 0;
let timeouts = 0;
let expectedTargets = 0;

/** IO until `running` is cleared: streams of writes then reads of the same sectors. */
async function streamLoop(disk: string): Promise<void> {
  for (let round = 0; running; round++) {
    const base = (round % 64) * 32;
    for (const subs of [writes(disk, 32, base), reads(disk, 32, base)]) {
      const got = await streamAll(f!, subs);
      ioCount += got.size;
      for (const c of got.values()) if (c.status !== Status.STATUS_OK) ioErrors.push(`${disk}: status ${c.status}`);
    }
  }
}

/** One read at a time on the timeout disk: each ends TIMEOUT, its late completion is a stale end. */
async function timeoutLoop(disk: string): Promise<void> {
  while (running) {
    const r = await submit(f!, { disk, op: Op.OP_READ, sector: 0n, length: 4096 });
    if (r.status === Status.STATUS_TIMEOUT) timeouts++;
    else ioErrors.push(`${disk}: expected TIMEOUT, got status ${r.status}`);
    await sleep(200);
  }
}

/** Writes then reads through the NBD gateway on `disk` until `running` is cleared. */
async function nbdLoop(disk: string): Promise<void> {
  const [host, port] = f!.cluster.nbdAddress!.split(':');
  const c = await RawNbdClient.connect(Number(port), host);
  try {
    await c.handshake();
    await c.go(disk);
    for (let i = 0n; running; i++) {
      c.send(NbdCmd.WRITE, i, (i % 256n) * 4096n, 4096, { data: Buffer.alloc(4096, Number(i % 256n)) });
      const w = await c.readSimpleReply();
      c.send(NbdCmd.READ, i, (i % 256n) * 4096n, 4096);
      const rd = await c.readSimpleReply();
      await c.read(4096);
      ioCount += 2;
      if (w.errno || rd.errno) ioErrors.push(`nbd ${disk}: errno ${w.errno}/${rd.errno}`);
      await sleep(20);
    }
  } finally {
    c.destroy();
  }
}

async function promApi<T>(endpoint: string, params?: Record<string, string>): Promise<T> {
  const res = await fetch(`${promUrl}${endpoint}`, params ? { method: 'POST', body: new URLSearchParams(params) } : undefined);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${endpoint} ${JSON.stringify(params)}: ${body.error ?? res.status}`);
  return body.data;
}

beforeAll(async () => {
  if (spawnSync('prometheus', ['--version']).error) {
    throw new Error("prometheus is not on the PATH: install Debian's prometheus (apt-get install prometheus; .ci/run installs it)");
  }
  // The separate gateway, so that every job of prometheus.yml has a process to scrape.
  f = await startCluster({ nbdGateway: 'service' });
  await createDisk(f, DISKS.direct, { size: 64n, irqmode: 0, submitQueues: 2 });
  await createDisk(f, DISKS.timer, { size: 64n, irqmode: 2, completionNsec: 200_000n });
  await createDisk(f, DISKS.timeout, { size: 4n, irqmode: 2, completionNsec: 2_000_000_000n, timeoutMs: 300 });
  await createDisk(f, DISKS.requeue, { size: 64n, requeue: '2,100,0,-1' });
  await createDisk(f, DISKS.throttled, { size: 16n, mbps: 1 }); // 256 KiB a round at 1 MiB/s: throttled every round
  await createDisk(f, DISKS.cached, { size: 64n, cacheSize: 1 }); // 8 MiB of writes through a 1 MiB cache: written back
  await createDisk(f, ZONED, { size: 64n, zoned: true, zoneSize: 4, zoneNrConv: 2 });
  await unary(f.disks, 'setZoneCondition', {
    name: ZONED,
    sector: 2n * ZONE_SECTORS,
    condition: ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY,
  });
  await unary(f.disks, 'setZoneCondition', {
    name: ZONED,
    sector: 3n * ZONE_SECTORS,
    condition: ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE,
  });
  // 64 KiB at the write pointer of zone 4 (IMP_OPEN, 128 sectors written).
  const zoneWrite = await submit(f, {
    disk: ZONED,
    op: Op.OP_WRITE,
    sector: 4n * ZONE_SECTORS,
    length: 65536,
    data: Buffer.alloc(65536, 1),
  });
  if (zoneWrite.status !== Status.STATUS_OK)
    throw new Error(`write to zoned disk ${ZONED}: status ${zoneWrite.status} ${zoneWrite.message}`);
  running = true;
  loops.push(
    streamLoop(DISKS.direct),
    streamLoop(DISKS.timer),
    timeoutLoop(DISKS.timeout),
    nbdLoop(DISKS.direct),
    streamLoop(DISKS.requeue),
    streamLoop(DISKS.throttled),
    streamLoop(DISKS.cached),
  );

  // The project's Prometheus config with each service job pointed at this test's processes.
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const services = new Map<string, string[]>();
  for (const p of f.cluster.processes) {
    const { service, http } = await p.ready;
    services.set(service, [...(services.get(service) ?? []), `127.0.0.1:${http}`]);
  }
  const config = parse(read(PROMETHEUS_FILE)) as {
    global?: Record<string, unknown>;
    scrape_configs: ({ job_name: string; static_configs?: unknown; dns_sd_configs?: unknown } & Record<string, unknown>)[];
  };
  config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  for (const job of config.scrape_configs) {
    const targets = job.job_name === 'prometheus' ? [`127.0.0.1:${port}`] : services.get(job.job_name);
    if (!targets)
      throw new Error(`${PROMETHEUS_FILE}: job ${job.job_name} matches no service of the cluster (${[...services.keys()].join(', ')})`);
    delete job.dns_sd_configs;
    job.static_configs = [{ targets }];
    expectedTargets += targets.length;
  }
  for (const service of services.keys()) {
    if (!config.scrape_configs.some((j) => j.job_name === service)) throw new Error(`${PROMETHEUS_FILE}: no job scrapes ${service}`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-obs-'));
  const configFile = path.join(tmp, 'prometheus.yml');
  fs.writeFileSync(configFile, stringify(config));
  fs.mkdirSync(path.join(tmp, 'data'));
  prom = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (b: Buffer) => {
    promOut = (promOut + b.toString()).slice(-8000);
  };
  prom.stdout!.on('data', keep);
  prom.stderr!.on('data', keep);
  promExited = new Promise((resolve) => prom!.once('exit', () => resolve()));
  const ready = await eventually(
    async () => {
      if (prom!.exitCode !== null) return true;
      return fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    30_000,
    200,
  );
  if (!ready || prom.exitCode !== null) throw new Error(`prometheus did not become ready (exit ${prom.exitCode}):\n${promOut}`);
});

afterAll(async () => {
  running = false;
  await Promise.allSettled(loops);
  if (prom && prom.exitCode === null && prom.signalCode === null) {
    prom.kill('SIGTERM');
    const killed = await Promise.race([promExited!.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) prom.kill('SIGKILL');
    await promExited;
  }
  await f?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('is one dashboard on the provisioned Prometheus data source, with a disk variable', () => {
  const provisioned = parse(read(DATASOURCE_FILE)) as { datasources: { uid: string; type: string }[] };
  expect(provisioned.datasources).toHaveLength(1);
  const { uid, type } = provisioned.datasources[0];
  expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
  expect(panels.length).toBeGreaterThan(0);
  const wrong: string[] = [];
  for (const p of panels) {
    if (p.datasource?.uid !== uid || p.datasource?.type !== type) wrong.push(`panel "${p.title}": ${JSON.stringify(p.datasource)}`);
    if (!p.targets?.length) wrong.push(`panel "${p.title}": no targets`);
    for (const t of p.targets ?? []) {
      if (!t.expr) wrong.push(`panel "${p.title}" ${t.refId}: no expr`);
      if (t.datasource && (t.datasource.uid !== uid || t.datasource.type !== type))
        wrong.push(`panel "${p.title}" ${t.refId}: ${JSON.stringify(t.datasource)}`);
    }
  }
  const disk = dashboard.templating.list.find((v) => v.name === 'disk');
  expect(disk).toMatchObject({ type: 'query', definition: 'label_values(rnull_ios_completed_total, disk)', datasource: { type, uid } });
  expect(wrong).toEqual([]);
});

it('has data for every query of every panel while IO runs', async () => {
  // Every target of the rewritten config is scraped successfully.
  let last = '';
  const up = await eventually(
    async () => {
      const data = await promApi<{ activeTargets: { labels: { job: string; instance: string }; health: string; lastError: string }[] }>(
        '/api/v1/targets',
      );
      last = data.activeTargets.map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`).join('\n');
      return data.activeTargets.length === expectedTargets && data.activeTargets.every((t) => t.health === 'up');
    },
    30_000,
    250,
  );
  if (!up) throw new Error(`targets not all up (want ${expectedTargets}):\n${last}\n${promOut}`);

  // Eight seconds of scrapes (1 s apart) while IO flows, so every rate has points.
  await sleep(8000);
  expect(ioErrors).toEqual([]);
  expect(ioCount).toBeGreaterThan(0);
  expect(timeouts).toBeGreaterThan(0);

  // The disk variable lists the disks that did IO.
  const diskValues = await promApi<string[]>(`/api/v1/label/disk/values?match[]=rnull_ios_completed_total`);
  expect(diskValues).toEqual(expect.arrayContaining(Object.values(DISKS)));

  const empty: string[] = [];
  let evaluated = 0;
  for (const p of panels) {
    for (const t of p.targets ?? []) {
      if (!t.expr) continue;
      const query = instantiate(t.expr);
      try {
        const data = await promApi<{ resultType: string; result: unknown[] }>('/api/v1/query', { query });
        if (data.result.length === 0) empty.push(`panel "${p.title}" ${t.refId}: no data for ${query}`);
      } catch (e) {
        empty.push(`panel "${p.title}" ${t.refId}: ${(e as Error).message}`);
      }
      evaluated++;
    }
  }
  expect(evaluated).toBeGreaterThan(0);
  expect(empty).toEqual([]);

  // The injected-faults panel moves (not only a series at 0): the requeue disk's faults.
  const faults = await promApi<{ result: { value: [number, string] }[] }>('/api/v1/query', {
    query: `sum(increase(rnull_injected_faults_total{disk="${DISKS.requeue}",kind="requeue"}[1m]))`,
  });
  expect(Number(faults.result[0]?.value[1] ?? 0)).toBeGreaterThan(0);
  // The mbps panel has more than zeros: the throttled disk's queues stood stopped.
  const stopped = await promApi<{ result: { value: [number, string] }[] }>('/api/v1/query', {
    query: `sum(rnull_throttled_seconds_total{disk="${DISKS.throttled}"})`,
  });
  expect(Number(stopped.result[0]?.value[1] ?? 0)).toBeGreaterThan(0);
  // The cache panel has more than zeros: the cached disk wrote back and holds pages.
  const writtenBack = await promApi<{ result: { value: [number, string] }[] }>('/api/v1/query', {
    query: `sum(rnull_cache_writeback_bytes_total{disk="${DISKS.cached}"})`,
  });
  expect(Number(writtenBack.result[0]?.value[1] ?? 0)).toBeGreaterThan(0);
  const held = await promApi<{ result: { value: [number, string] }[] }>('/api/v1/query', {
    query: `max(rnull_cache_bytes{disk="${DISKS.cached}"})`,
  });
  expect(Number(held.result[0]?.value[1] ?? 0)).toBeGreaterThan(0);
  expect(Number(held.result[0]?.value[1] ?? 0)).toBeLessThanOrEqual(1024 * 1024);
  // The zone panels count the zoned disk's zones by condition, from its zone table.
  const zones = await promApi<{ result: { metric: { cond: string }; value: [number, string] }[] }>('/api/v1/query', {
    query: `max by (cond) (rnull_zones{disk="${ZONED}"})`,
  });
  expect(Object.fromEntries(zones.result.map((r) => [r.metric.cond, Number(r.value[1])]))).toEqual({
    not_wp: 2,
    empty: 11,
    imp_open: 1,
    exp_open: 0,
    closed: 0,
    full: 0,
    readonly: 1,
    offline: 1,
  });
  const written = await promApi<{ result: { value: [number, string] }[] }>('/api/v1/query', {
    query: `max(rnull_zone_written_sectors{disk="${ZONED}"})`,
  });
  expect(Number(written.result[0]?.value[1] ?? 0)).toBe(128);
});
