import { Registry } from 'prom-client';
import { BlkStatus, ReqOp, ZoneCond } from '#blk-mq';
import { BlockMetrics, LATENCY_BUCKETS_SECONDS, opLabel, statusLabel, zoneCondLabel } from './block-metrics';
import { PreciseTimer } from './precise-timer';

describe('BlockMetrics', () => {
  it('registers every rnull_ metric once per registry', async () => {
    const registry = new Registry();
    const m = BlockMetrics.of(registry, 'dispatch');
    expect(BlockMetrics.of(registry, 'dispatch')).toBe(m);
    expect(() => new BlockMetrics(registry, 'dispatch')).toThrow(/already been registered/);
    const names = (await registry.getMetricsAsJSON()).map((x) => x.name).sort();
    expect(names).toEqual(
      [
        'rnull_badblock_hits_total',
        'rnull_bytes_completed_total',
        'rnull_cache_bytes',
        'rnull_cache_writeback_bytes_total',
        'rnull_driver_seconds',
        'rnull_injected_faults_total',
        'rnull_io_latency_seconds',
        'rnull_ios_completed_total',
        'rnull_queue_jobs',
        'rnull_queue_wait_seconds',
        'rnull_recycle_lag_seconds',
        'rnull_requeues_total',
        'rnull_requests_in_flight',
        'rnull_stale_ends_total',
        'rnull_tags_in_use',
        'rnull_throttled_requests_total',
        'rnull_throttled_seconds_total',
        'rnull_timeouts_total',
        'rnull_timer_lateness_seconds',
        'rnull_zone_capacity_sectors',
        'rnull_zone_written_sectors',
        'rnull_zones',
      ].sort(),
    );
  });

  it('buckets resolve 10 µs to 10 s', () => {
    expect(LATENCY_BUCKETS_SECONDS[0]).toBe(10e-6);
    expect(LATENCY_BUCKETS_SECONDS[LATENCY_BUCKETS_SECONDS.length - 1]).toBe(10);
  });

  it('labels ops and statuses by their kernel names', () => {
    expect(opLabel(ReqOp.WRITE_ZEROES)).toBe('write_zeroes');
    expect(statusLabel(BlkStatus.IOERR)).toBe('ioerr');
    expect(statusLabel(BlkStatus.OK)).toBe('ok');
  });

  it('shows a recorded IO in the exposition text', async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'dispatch');
    m.recordIo('nullb0', 1, ReqOp.WRITE, BlkStatus.OK, 4096, 30e-6);
    m.recordIo('nullb0', 1, ReqOp.READ, BlkStatus.IOERR, 4096, 2e-3);
    const text = await registry.metrics();
    expect(text).toContain('rnull_ios_completed_total{disk="nullb0",hctx="1",op="write",status="ok"} 1');
    expect(text).toContain('rnull_ios_completed_total{disk="nullb0",hctx="1",op="read",status="ioerr"} 1');
    // Only ok requests count bytes.
    expect(text).toContain('rnull_bytes_completed_total{disk="nullb0",hctx="1",op="write"} 4096');
    expect(text).not.toContain('rnull_bytes_completed_total{disk="nullb0",hctx="1",op="read"}');
    expect(text).toContain('rnull_io_latency_seconds_bucket{le="0.00001",disk="nullb0",op="write"} 0');
    expect(text).toContain('rnull_io_latency_seconds_bucket{le="0.00005",disk="nullb0",op="write"} 1');
    expect(text).toContain('rnull_io_latency_seconds_count{disk="nullb0",op="read"} 1');
    // No tag, generation or sector in any label.
    expect(text).not.toMatch(/\b(tag|gen|sector)="/);
  });

  it("counts an op or status beyond the tally's packing (32 values each) straight into the counters, once", async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'dispatch');
    m.recordIo('nullb0', 0, 40, BlkStatus.OK, 512, 1e-3);
    m.recordIo('nullb0', 0, ReqOp.READ, 33, 4096, 1e-3);
    m.recordIo('nullb0', 0, ReqOp.READ, BlkStatus.OK, 4096, 1e-3);
    const text = await registry.metrics();
    expect(text).toContain(`rnull_ios_completed_total{disk="nullb0",hctx="0",op="${opLabel(40)}",status="ok"} 1`);
    expect(text).toContain(`rnull_bytes_completed_total{disk="nullb0",hctx="0",op="${opLabel(40)}"} 512`);
    expect(text).toContain(`rnull_ios_completed_total{disk="nullb0",hctx="0",op="read",status="${statusLabel(33)}"} 1`);
    expect(text).toContain('rnull_ios_completed_total{disk="nullb0",hctx="0",op="read",status="ok"} 1');
    // The failed read counts no bytes; the ok one does, through the tally.
    expect(text).toContain('rnull_bytes_completed_total{disk="nullb0",hctx="0",op="read"} 4096');
    // A second scrape adds nothing twice.
    expect(await registry.metrics()).toContain(`rnull_ios_completed_total{disk="nullb0",hctx="0",op="${opLabel(40)}",status="ok"} 1`);
  });

  it('records the write-back cache a batch left: bytes held now, bytes written back summed', async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'dispatch');
    m.observeCache('c0', { pages: 10, writtenBack: 0 }, 4096);
    m.observeCache('c0', { pages: 3, writtenBack: 7 }, 4096);
    m.observeCache('c0', { pages: 5, writtenBack: 2 }, 4096);
    const text = await registry.metrics();
    expect(text).toContain('rnull_cache_bytes{disk="c0"} 20480');
    expect(text).toContain('rnull_cache_writeback_bytes_total{disk="c0"} 36864');
    // Powered off: the cache was dropped, its gauge goes; the written-back total stays.
    m.forgetCache('c0');
    const after = await registry.metrics();
    expect(after).not.toContain('rnull_cache_bytes{disk="c0"}');
    expect(after).toContain('rnull_cache_writeback_bytes_total{disk="c0"} 36864');
  });

  it('reads gauges at scrape time and caches queue counts', async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'dispatch');
    let tags = 3;
    m.watchTags(() => [{ labels: { disk: 'd0', hctx: 0 }, value: tags }]);
    m.watchInFlight(() => [{ labels: { disk: 'd0' }, value: 5 }]);
    const getJobCounts = jest.fn(async () => ({ waiting: 2, active: 1, delayed: 0, prioritized: 0, failed: 0 }));
    m.watchQueues(() => [{ name: 'rq.d0.0', getJobCounts }]);
    let text = await registry.metrics();
    expect(text).toContain('rnull_tags_in_use{disk="d0",hctx="0"} 3');
    expect(text).toContain('rnull_requests_in_flight{disk="d0"} 5');
    expect(text).toContain('rnull_queue_jobs{queue="rq.d0.0",state="waiting"} 2');
    expect(text).toContain('rnull_queue_jobs{queue="rq.d0.0",state="active"} 1');
    tags = 0;
    text = await registry.metrics();
    expect(text).toContain('rnull_tags_in_use{disk="d0",hctx="0"} 0');
    expect(getJobCounts).toHaveBeenCalledTimes(1); // second scrape within 1 s: cached
  });

  it('reports the zone census per disk and condition, read once per scrape window; unknown values stay out', async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'dispatch');
    const read = jest.fn(async () => [
      {
        disk: 'z0',
        conds: new Map([
          [ZoneCond.NOT_WP, 1],
          [ZoneCond.EMPTY, 5],
          [ZoneCond.READONLY, 2],
        ]),
        capacitySectors: 7 * 2048,
        writtenSectors: 0,
      },
      { disk: 'big', conds: new Map([[ZoneCond.IMP_OPEN, 3]]), capacitySectors: 1 << 30 },
    ]);
    m.watchZones(read);
    const text = await registry.metrics();
    expect(text).toContain('rnull_zones{disk="z0",cond="not_wp"} 1');
    expect(text).toContain('rnull_zones{disk="z0",cond="empty"} 5');
    expect(text).toContain('rnull_zones{disk="z0",cond="readonly"} 2');
    expect(text).toContain('rnull_zones{disk="big",cond="imp_open"} 3');
    expect(text).not.toContain('rnull_zones{disk="big",cond="empty"}');
    expect(text).toContain('rnull_zone_written_sectors{disk="z0"} 0');
    expect(text).not.toContain('rnull_zone_written_sectors{disk="big"}');
    expect(text).toContain('rnull_zone_capacity_sectors{disk="big"} 1073741824');
    expect(read).toHaveBeenCalledTimes(1); // three gauges, one read
    expect(zoneCondLabel(ZoneCond.EXP_OPEN)).toBe('exp_open');
  });

  it('feeds timer lateness from PreciseTimer firings', async () => {
    const registry = new Registry();
    const m = new BlockMetrics(registry, 'completion');
    const timer = new PreciseTimer(m);
    await timer.at(0); // long past: fires at once, very late
    const text = await registry.metrics();
    expect(timer.lateness.length).toBe(1);
    expect(text).toContain('rnull_timer_lateness_seconds_count 1');
    expect(text).toContain('rnull_timer_lateness_seconds_bucket{le="10"} 0');
  });
});
