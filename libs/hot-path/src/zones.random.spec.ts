// The zone state machine in Redis (runZoneOps, include/zones.lua, DESIGN I17) against the
// in-memory one (ZoneModel, null_blk's zoned.c): random shapes, random runs of writes at and
// off the write pointer, appends, reads, open / close / finish / reset / reset all,
// READ_ONLY / OFFLINE, sent one to four per script call; after every call the statuses, the
// sectors, every zone of the report and the open / active counters must agree. A seed is
// printed with any failure; rerun it with ZONES_SEED=<seed>. Plus: a reset frees the
// zone's pages in the same step, and a call of an owner that is gone changes nothing.
import { BlkStatus, ZoneCond, type ZoneShape } from '#blk-mq';
import { type ZoneOp, ZoneTable } from '#redis-mq';
import { type ZoneMgmtOp, ZoneModel } from '#rnull';
import { RedisTestEnv } from '../../redis-mq/src/testing/redis-test-env';
import { type Generator, generator } from './testing/generator';

const env = new RedisTestEnv('zones-random');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const RUNS = Number(process.env.ZONES_RUNS ?? 20);
const STEPS = 80;
const EPOCH = 7;

function randomShape(rnd: Generator): ZoneShape {
  const zoneSectors = 64 << rnd.int(3);
  const nrZones = 3 + rnd.int(8);
  const nrConv = rnd.int(2);
  const nrSeq = nrZones - nrConv;
  const maxActive = rnd.next() < 0.5 ? 0 : 1 + rnd.int(nrSeq - 1);
  // Small open limits, so that implicit closes (and their round robin) happen often.
  const maxOpen = rnd.next() < 0.2 ? 0 : 1 + rnd.int(Math.min(3, maxActive || nrSeq - 1));
  const capacitySectors = rnd.next() < 0.5 ? zoneSectors : zoneSectors / 2;
  const lastZoneSectors = capacitySectors === zoneSectors && rnd.next() < 0.3 ? zoneSectors / 2 : zoneSectors;
  return {
    nrZones,
    nrConv,
    zoneSectors,
    capacitySectors,
    lastZoneSectors,
    maxOpen,
    maxActive,
    appendMaxSectors: 0,
    full: rnd.next() < 0.15,
  };
}

const MGMT: Record<'O' | 'C' | 'F' | 'X' | 'XA', ZoneMgmtOp> = { O: 'open', C: 'close', F: 'finish', X: 'reset', XA: 'reset-all' };

function randomOp(rnd: Generator, model: ZoneModel): ZoneOp {
  const { shape } = model;
  const z = rnd.int(shape.nrZones);
  const zone = model.report(z * shape.zoneSectors, 1)[0];
  const sectors = 8 * (1 + rnd.int(6));
  const kind = rnd.pick(['W', 'W', 'W', 'W', 'A', 'A', 'R', 'O', 'C', 'F', 'X', 'XA', 'RO', 'OFF'] as const);
  switch (kind) {
    case 'W': {
      // Mostly at the write pointer; sometimes off it, or to fill the zone up exactly.
      const atWp = zone.wp >= 0 ? zone.wp : zone.start;
      const r = rnd.next();
      const sector = r < 0.75 ? atWp : zone.start + 8 * rnd.int(zone.len / 8);
      const fill = zone.start + zone.capacity - atWp;
      return { kind, sector, sectors: r > 0.9 && fill > 0 ? fill : sectors };
    }
    case 'A':
    case 'R':
      return { kind, sector: zone.start + 8 * rnd.int(zone.len / 8), sectors };
    default:
      return { kind, sector: zone.start, sectors: 0 };
  }
}

/** The model's answer to `op`, as runZoneOps gives it. */
function applyToModel(model: ZoneModel, op: ZoneOp): { status: BlkStatus; sector: number } {
  switch (op.kind) {
    case 'W':
    case 'A':
      return model.write(op.sector, op.sectors, op.kind === 'A');
    case 'R':
      return { status: model.readable(op.sector, op.sectors), sector: op.sector };
    case 'RO':
    case 'OFF':
      return { status: model.setCond(op.sector, op.kind === 'RO' ? ZoneCond.READONLY : ZoneCond.OFFLINE), sector: op.sector };
    default:
      return { status: model.mgmt(MGMT[op.kind], op.sector), sector: op.sector };
  }
}

async function setUp(shape: ZoneShape) {
  const keys = env.keys();
  const table = new ZoneTable(env.redis, keys);
  await table.layOut('zd0', shape);
  await env.redis.zadd(keys.owners('zd0'), Date.now() + 600_000, String(EPOCH));
  return { keys, table };
}

async function counters(table: ZoneTable, keys: ReturnType<typeof env.keys>) {
  const [imp, exp, closed] = await env.redis.hmget(keys.zones('zd0'), 'imp', 'exp', 'closed');
  return { impOpen: Number(imp), expOpen: Number(exp), closed: Number(closed) };
}

describe('runZoneOps against ZoneModel', () => {
  it(`agree on every status, sector, zone and counter over ${RUNS} random runs of ${STEPS} calls`, async () => {
    const seeds = process.env.ZONES_SEED ? [Number(process.env.ZONES_SEED)] : Array.from({ length: RUNS }, (_, i) => 0x5eed + i * 7919);
    let opsRun = 0;
    const seenStatuses = new Set<BlkStatus>();
    for (const seed of seeds) {
      const rnd = generator(seed);
      const shape = randomShape(rnd);
      const model = new ZoneModel(shape);
      const { keys, table } = await setUp(shape);
      for (let step = 0; step < STEPS; step++) {
        const ops: ZoneOp[] = [];
        const want: { status: BlkStatus; sector: number }[] = [];
        for (let k = 1 + rnd.int(4); k > 0; k--) {
          const op = randomOp(rnd, model);
          ops.push(op);
          want.push(applyToModel(model, op));
        }
        const got = await table.run('zd0', EPOCH, ops, false);
        const where = { seed, step, shape, ops };
        expect({ ...where, results: got }).toEqual({ ...where, results: want });
        expect({ ...where, zones: await table.report('zd0', 0, shape.nrZones) }).toEqual({
          ...where,
          zones: model.report(0, shape.nrZones),
        });
        expect({ ...where, counts: await counters(table, keys) }).toEqual({ ...where, counts: model.counts });
        opsRun += ops.length;
        for (const r of want) seenStatuses.add(r.status);
      }
    }
    // The runs reached the interesting answers, not only OK.
    expect(opsRun).toBeGreaterThan(RUNS * STEPS);
    if (!process.env.ZONES_SEED) {
      expect([...seenStatuses].sort((a, b) => a - b)).toEqual([
        BlkStatus.OK,
        BlkStatus.IOERR,
        BlkStatus.ZONE_OPEN_RESOURCE,
        BlkStatus.ZONE_ACTIVE_RESOURCE,
      ]);
    }
  }, 120_000);
});

describe('runZoneOps', () => {
  const shape: ZoneShape = {
    nrZones: 4,
    nrConv: 1,
    zoneSectors: 2048,
    capacitySectors: 2048,
    lastZoneSectors: 2048,
    maxOpen: 0,
    maxActive: 0,
    appendMaxSectors: 0,
    full: false,
  };

  it("frees a reset zone's pages in the same step, and no other zone's", async () => {
    const { keys, table } = await setUp(shape);
    const pagesPerZone = (2048 * 512) / 4096;
    for (const p of [0, pagesPerZone, pagesPerZone + 3, 2 * pagesPerZone]) {
      await env.redis.set(keys.page('zd0', p), Buffer.alloc(4096, 1));
      await env.redis.sadd(keys.pageIndex('zd0'), String(p));
    }
    await table.run('zd0', EPOCH, [{ kind: 'W', sector: 2048, sectors: 64 }], true);
    const [reset] = await table.run('zd0', EPOCH, [{ kind: 'X', sector: 2048, sectors: 0 }], true);
    expect(reset.status).toBe(BlkStatus.OK);
    expect((await env.redis.smembers(keys.pageIndex('zd0'))).map(Number).sort((a, b) => a - b)).toEqual([0, 2 * pagesPerZone]);
    expect(await env.redis.exists(keys.page('zd0', pagesPerZone), keys.page('zd0', pagesPerZone + 3))).toBe(0);
  });

  it('changes nothing for an owner epoch that is gone (OwnerGone), and takes administrative ops without one', async () => {
    const { table } = await setUp(shape);
    await expect(table.run('zd0', EPOCH + 1, [{ kind: 'W', sector: 2048, sectors: 8 }], false)).rejects.toThrow(/owner epoch is not alive/);
    expect((await table.report('zd0', 2048, 1))[0]).toMatchObject({ cond: ZoneCond.EMPTY, wp: 2048 });
    const [ro] = await table.run('zd0', '', [{ kind: 'RO', sector: 2048, sectors: 0 }], false);
    expect(ro.status).toBe(BlkStatus.OK);
    expect((await table.report('zd0', 2048, 1))[0].cond).toBe(ZoneCond.READONLY);
  });

  it('changes nothing for a batch whose lease is gone (LeaseLost): a redelivered append never moves a write pointer twice', async () => {
    const { keys, table } = await setUp(shape);
    const leased = keys.hctxQueue('zd0', 0) + ':leased';
    const member = Buffer.from('claim-1:batch');
    await env.redis.zadd(leased, Date.now() + 60_000, member);
    const append = [{ kind: 'A', sector: 2048, sectors: 8 }] as const;
    const [first] = await table.run('zd0', EPOCH, append, false, { leased, member });
    expect([first.status, first.sector]).toEqual([BlkStatus.OK, 2048]);
    // The batch was reclaimed and redelivered to another worker: the old holder's run is refused.
    await env.redis.zrem(leased, member);
    await expect(table.run('zd0', EPOCH, append, false, { leased, member })).rejects.toThrow(/lease/i);
    expect((await table.report('zd0', 2048, 1))[0]).toMatchObject({ cond: ZoneCond.IMP_OPEN, wp: 2056 });
  });

  it('answers a disk with no zone table with an error that says so', async () => {
    const keys = env.keys();
    await expect(new ZoneTable(env.redis, keys).run('zd1', '', [{ kind: 'XA', sector: 0, sectors: 0 }], false)).rejects.toThrow(
      /no zone table/,
    );
  });
});
