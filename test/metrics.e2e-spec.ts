// Every service serves the rnull_ metrics and the process defaults on /metrics, and logs
// JSON lines that name the request token; a timeout and the stale end after it are counted
// by the owner of the request (dispatch).
import { Op, Status, type Submission } from '#proto/grpc/blk/v1/block_device';
import { ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { createDisk, eventually, type Fixture, startCluster, streamAll, submit, unary } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster();
});
afterAll(async () => {
  await f?.stop();
});

/** The /metrics text of the (single) process of `service`. */
async function scrape(service: string): Promise<string> {
  const p = f.cluster.processes.find((x) => x.spec.service === service);
  if (!p) throw new Error(`no ${service} process`);
  const { http } = await p.ready;
  const res = await fetch(`http://127.0.0.1:${http}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Sum of the samples of `name` whose labels contain every `key="value"` of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) continue;
    found = true;
    sum += Number(m[3]);
  }
  return found ? sum : NaN;
}

function writes(disk: string, n: number): Submission[] {
  return Array.from({ length: n }, (_, i) => ({
    tag: BigInt(i),
    disk,
    op: Op.OP_WRITE,
    sector: BigInt(i * 16), // gaps: no back merge, one request each
    length: 4096,
    data: Buffer.alloc(4096, i),
    flags: 0,
  }));
}

it('counts IOs, latency, tags, queues and timer lateness per disk', async () => {
  await createDisk(f, 'm0', { size: 16n, irqmode: 0, submitQueues: 2 });
  await createDisk(f, 'm2', { size: 16n, irqmode: 2, completionNsec: 200_000n });
  for (const disk of ['m0', 'm2']) {
    const got = await streamAll(f, writes(disk, 40));
    expect([...got.values()].every((c) => c.status === Status.STATUS_OK)).toBe(true);
    // Two unary reads: round robin puts them on different hctxs of m0.
    for (let i = 0; i < 2; i++) {
      const r = await submit(f, { disk, op: Op.OP_READ, sector: 0n, length: 4096 });
      expect(r.status).toBe(Status.STATUS_OK);
    }
  }

  const dispatch = await scrape('dispatch');
  for (const disk of ['m0', 'm2']) {
    expect(sample(dispatch, 'rnull_ios_completed_total', { disk, op: 'write', status: 'ok' })).toBe(40);
    expect(sample(dispatch, 'rnull_ios_completed_total', { disk, op: 'read', status: 'ok' })).toBe(2);
    expect(sample(dispatch, 'rnull_bytes_completed_total', { disk, op: 'write' })).toBe(40 * 4096);
    expect(sample(dispatch, 'rnull_io_latency_seconds_bucket', { disk, op: 'write', le: '+Inf' })).toBe(40);
    expect(sample(dispatch, 'rnull_io_latency_seconds_count', { disk, op: 'read' })).toBe(2);
    // Every request ended and dropped: no tag held, nothing in flight.
    expect(sample(dispatch, 'rnull_tags_in_use', { disk })).toBe(0);
    expect(sample(dispatch, 'rnull_requests_in_flight', { disk })).toBe(0);
    expect(sample(dispatch, 'rnull_recycle_lag_seconds_count', { disk })).toBeGreaterThan(0);
    expect(sample(dispatch, 'rnull_queue_jobs', { queue: `rq.${disk}.0`, state: 'waiting' })).toBe(0);
  }
  // Both hctxs of m0 carried requests.
  expect(sample(dispatch, 'rnull_ios_completed_total', { disk: 'm0', hctx: '0' })).toBeGreaterThan(0);
  expect(sample(dispatch, 'rnull_ios_completed_total', { disk: 'm0', hctx: '1' })).toBeGreaterThan(0);
  // The timer disk's latency is at least its completion_nsec (0.2 ms): none under 100 µs.
  expect(sample(dispatch, 'rnull_io_latency_seconds_bucket', { disk: 'm2', op: 'write', le: '0.0001' })).toBe(0);
  expect(sample(dispatch, 'process_cpu_seconds_total')).toBeGreaterThan(0);

  const rnull = await scrape('rnull');
  expect(sample(rnull, 'rnull_driver_seconds_count', { disk: 'm0' })).toBeGreaterThan(0);
  expect(sample(rnull, 'rnull_queue_wait_seconds_count', { disk: 'm2', hctx: '0' })).toBeGreaterThan(0);
  expect(sample(rnull, 'process_cpu_seconds_total')).toBeGreaterThan(0);

  const completion = await scrape('completion');
  const fired = sample(completion, 'rnull_timer_lateness_seconds_count');
  expect(fired).toBeGreaterThan(0);
  // Lateness includes the BullMQ transit when that exceeds completion_nsec, but stays far under 1 s.
  expect(sample(completion, 'rnull_timer_lateness_seconds_bucket', { le: '1' })).toBe(fired);
  expect(sample(completion, 'rnull_timer_lateness_seconds_sum')).toBeGreaterThanOrEqual(0);
  expect(sample(completion, 'rnull_queue_jobs', { queue: 'timer.m2', state: 'active' })).toBe(0);
  expect(sample(completion, 'process_cpu_seconds_total')).toBeGreaterThan(0);
});

it('counts a timeout, then the stale end of its late completion, and logs its token', async () => {
  await createDisk(f, 'mt', { size: 4n, irqmode: 2, completionNsec: 2_000_000_000n, timeoutMs: 300, hwQueueDepth: 1 });
  const r = await submit(f, { disk: 'mt', op: Op.OP_READ, sector: 0n, length: 4096 });
  expect(r.status).toBe(Status.STATUS_TIMEOUT);

  const dispatch = await scrape('dispatch');
  expect(sample(dispatch, 'rnull_timeouts_total', { disk: 'mt' })).toBe(1);
  expect(sample(dispatch, 'rnull_ios_completed_total', { disk: 'mt', status: 'timeout' })).toBe(1);

  // The timer fires ~2 s after submit; its end reaches the owner, dispatch, which refuses it.
  expect(
    await eventually(
      async () => sample(await scrape('dispatch'), 'rnull_stale_ends_total', { disk: 'mt', service: 'dispatch' }) === 1,
      8000,
      200,
    ),
  ).toBe(true);

  const tokenLines = f.lines().filter((l) => l.includes('"token":"mt/'));
  expect(tokenLines.some((l) => /^\[dispatch[^\]]*\] \{.*"msg":"request timed out"/.test(l))).toBe(true);
  expect(tokenLines.some((l) => /^\[dispatch[^\]]*\] \{.*"msg":"end refused: stale, double or not held here"/.test(l))).toBe(true);
  const line = JSON.parse(tokenLines[0].slice(tokenLines[0].indexOf('{')));
  expect(line).toMatchObject({ level: 'warn', token: expect.stringMatching(/^mt\/0\/0#\d+$/) });
});

it('reports the write-back cache a disk holds, and none once it is powered off (the cache is dropped)', async () => {
  await createDisk(f, 'mc', { size: 16n, cacheSize: 1 });
  const write = await submit(f, { disk: 'mc', op: Op.OP_WRITE, sector: 0n, length: 8192, data: Buffer.alloc(8192, 3) });
  expect(write.status).toBe(Status.STATUS_OK);
  /** rnull_cache_bytes of mc over every process that runs drivers (dispatch or rnull, by placement). */
  const cached = async () => {
    const texts = await Promise.all(['dispatch', 'rnull'].filter((s) => f.cluster.processes.some((p) => p.spec.service === s)).map(scrape));
    const values = texts.map((t) => sample(t, 'rnull_cache_bytes', { disk: 'mc' })).filter((v) => !Number.isNaN(v));
    return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
  };
  expect(await eventually(async () => (await cached()) === 8192)).toBe(true);
  await unary(f.disks, 'powerDisk', { name: 'mc', power: false });
  expect(await eventually(async () => (await cached()) === undefined)).toBe(true);
});

it('reports the zones of a zoned disk per condition, its written and capacity sectors, from the zone table; none once powered off', async () => {
  // 16 zones of 1 MiB (2048 sectors): one conventional, 15 sequential.
  await createDisk(f, 'mz', { size: 16n, zoned: true, zoneSize: 1, zoneNrConv: 1 });
  /** The zone gauges of dispatch for disk mz: counts by condition, written and capacity sectors. */
  const zones = async (): Promise<Record<string, number>> => {
    const text = await scrape('dispatch');
    const conds = ['not_wp', 'empty', 'imp_open', 'exp_open', 'closed', 'full', 'readonly', 'offline'];
    return {
      ...Object.fromEntries(conds.map((cond) => [cond, sample(text, 'rnull_zones', { disk: 'mz', cond })])),
      written: sample(text, 'rnull_zone_written_sectors', { disk: 'mz' }),
      capacity: sample(text, 'rnull_zone_capacity_sectors', { disk: 'mz' }),
    };
  };
  const laidOut = {
    not_wp: 1,
    empty: 15,
    imp_open: 0,
    exp_open: 0,
    closed: 0,
    full: 0,
    readonly: 0,
    offline: 0,
    written: 0,
    capacity: 15 * 2048,
  };
  // The census is cached for 1 s: poll until a scrape reads the table anew.
  let last = {};
  const reads = (want: object) => eventually(async () => JSON.stringify((last = await zones())) === JSON.stringify(want), 5000, 200);
  await reads(laidOut);
  expect(last).toEqual(laidOut);

  const setCondition = (sector: bigint, condition: ZoneAdminCondition) =>
    unary(f.disks, 'setZoneCondition', { name: 'mz', sector, condition });
  await setCondition(2048n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY);
  await setCondition(6144n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE);
  const changed = { ...laidOut, empty: 13, readonly: 1, offline: 1 };
  await reads(changed);
  expect(last).toEqual(changed);

  // Set again, READ_ONLY goes back to EMPTY (null_blk's zone_readonly).
  await setCondition(2048n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY);
  const again = { ...changed, empty: 14, readonly: 0 };
  await reads(again);
  expect(last).toEqual(again);

  // Writes move write pointers: 16 KiB in zone 4 (IMP_OPEN), zone 5 filled (FULL), zone 6
  // finished after 4 KiB (FULL, counted whole).
  const write = (sector: bigint, bytes: number) =>
    submit(f, { disk: 'mz', op: Op.OP_WRITE, sector, length: bytes, data: Buffer.alloc(bytes, 1) }).then((c) => c.status);
  expect(await write(4n * 2048n, 16384)).toBe(Status.STATUS_OK);
  expect(await write(5n * 2048n, 1024 * 1024)).toBe(Status.STATUS_OK);
  expect(await write(6n * 2048n, 4096)).toBe(Status.STATUS_OK);
  expect((await submit(f, { disk: 'mz', op: Op.OP_ZONE_FINISH, sector: 6n * 2048n })).status).toBe(Status.STATUS_OK);
  const written = { ...again, empty: 11, imp_open: 1, full: 2, written: 32 + 2048 + 2048 };
  await reads(written);
  expect(last).toEqual(written);

  // Powered off, the disk has no zone table: its series go.
  await unary(f.disks, 'powerDisk', { name: 'mz', power: false });
  expect(await eventually(async () => Number.isNaN((await zones()).empty), 5000, 200)).toBe(true);
});
