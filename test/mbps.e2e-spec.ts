// null_blk's mbps against a real cluster (real processes, real Redis), with the driver in
// its worker processes and inside dispatch: a transfer at a small mbps takes at least the
// time the byte budget implies (a lower bound only: no timed upper bound), moves every byte,
// and the throttle shows in rnull_throttled_seconds_total / rnull_throttled_requests_total
// of the process that runs the driver; an mbps above null_blk's cap is refused naming it.
import * as grpc from '@grpc/grpc-js';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import type { Disk, DiskAttributes } from '#proto/grpc/blk/v1/gen_disk';
import { createDisk, driverService, metricSum, failureCode, startCluster, submit, unary, type Fixture } from './support/cluster-fixture';

const MIB = 1 << 20;
/** What the kernel's mb_per_tick gives per 20 ms tick, bytes. */
const perTick = (mbps: number) => Math.floor(MIB / 50) * mbps;

describe.each(['local', 'remote'] as const)('mbps, driver placement %s', (placement) => {
  let f: Fixture;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: false, rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  const configure = (name: string, attributes: DiskAttributes) => unary<object, Disk>(f.disks, 'configureDisk', { name, attributes });

  /** Every series of `name` with `disk` among its labels, summed over the processes that run the driver. */
  const driverMetric = (name: string, disk: string) => metricSum(f, driverService(placement), name, { disk });

  it('moves 4 MiB at mbps=4 no faster than the budget allows, every byte intact, and counts the throttling', async () => {
    const mbps = 4;
    await createDisk(f, 'slow0', { size: 16n, memoryBacked: true, mbps });
    expect(await driverMetric('rnull_throttled_seconds_total', 'slow0')).toBe(0);
    const chunk = 512 * 1024;
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(chunk, 0x30 + i));
    const t0 = performance.now();
    const done = await Promise.all(
      chunks.map((data, i) => submit(f, { disk: 'slow0', op: Op.OP_WRITE, sector: BigInt((i * chunk) / 512), length: chunk, data })),
    );
    const elapsedMs = performance.now() - t0;
    expect(done.map((c) => c.status)).toEqual(chunks.map(() => Status.STATUS_OK));
    // The first tick's budget and one request's overdraft come free; every further
    // mb_per_tick bytes needs a refill, and refills are 20 ms apart.
    const maxRequest = 248 * 512;
    const refills = Math.floor((4 * MIB - perTick(mbps) - maxRequest) / perTick(mbps));
    expect(elapsedMs).toBeGreaterThanOrEqual((refills - 1) * 20);
    expect(await driverMetric('rnull_throttled_seconds_total', 'slow0')).toBeGreaterThan(0);
    expect(await driverMetric('rnull_throttled_requests_total', 'slow0')).toBeGreaterThan(0);
    // The worker sends refused requests back to the hctx queue (DriverHost's requeue path).
    if (placement === 'remote') expect(await driverMetric('rnull_requeues_total', 'slow0')).toBeGreaterThan(0);
    for (let i = 0; i < chunks.length; i++) {
      const r = await submit(f, { disk: 'slow0', op: Op.OP_READ, sector: BigInt((i * chunk) / 512), length: chunk });
      expect(r.status).toBe(Status.STATUS_OK);
      expect(Buffer.from(r.data).equals(chunks[i])).toBe(true);
    }
  }, 60_000);

  it('refuses an mbps above 40960 with INVALID_ARGUMENT naming mbps, and a change while powered with EBUSY', async () => {
    const bad = await failureCode(createDisk(f, 'fast9', { size: 16n, mbps: 40961 }));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/^mbps: must be in 0\.\.40960, got 40961/);
    await createDisk(f, 'fast1', { size: 16n });
    const busy = await failureCode(configure('fast1', { mbps: 10 }));
    expect(busy.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(busy.details).toMatch(/^mbps: /);
  });
});
