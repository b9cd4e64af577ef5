// The zone census against a real zone table (ZoneTable.layOut, runZoneOps): counts per
// condition and written sectors, checked against ZoneModel (null_blk's zoned.c in memory)
// after the same ops; zone_full; the counters-only census of a big table; no table.
import { ZoneCond, type ZoneShape } from '#blk-mq';
import { type ZoneOp, ZoneTable } from '#redis-mq';
import { ZoneModel } from '#rnull';
import { RedisTestEnv } from '../../redis-mq/src/testing/redis-test-env';
import { CENSUS_MAX_CHANGED_ZONES, ZoneCensusReader } from './zone-census';

const env = new RedisTestEnv('zone-census');
afterEach(() => env.cleanup());
afterAll(() => env.close());

// 2 conventional zones, then 6 sequential ones of 64 sectors with a capacity of 48; the last is 32 long.
const SHAPE: ZoneShape = {
  nrZones: 8,
  nrConv: 2,
  zoneSectors: 64,
  capacitySectors: 48,
  lastZoneSectors: 32,
  maxOpen: 0,
  maxActive: 0,
  appendMaxSectors: 0,
  full: false,
};
const SEQUENTIAL_CAPACITY = 5 * 48 + 32;

/** The census ZoneModel gives for the same zones: counts per condition and written sectors. */
function expected(model: ZoneModel): { conds: Map<ZoneCond, number>; written: number } {
  const conds = new Map<ZoneCond, number>();
  let written = 0;
  for (const z of model.report(0, model.shape.nrZones)) {
    conds.set(z.cond, (conds.get(z.cond) ?? 0) + 1);
    if (z.cond !== ZoneCond.NOT_WP && z.wp >= 0) written += Math.min(z.wp - z.start, z.capacity);
  }
  return { conds, written };
}

async function setUp(shape: ZoneShape) {
  const keys = env.keys();
  const table = new ZoneTable(env.redis, keys);
  await table.layOut('z', shape);
  return { keys, table, reader: new ZoneCensusReader(env.redis, keys), model: new ZoneModel(shape) };
}

it('counts every condition and the sectors below the write pointers, as the zone machine has them', async () => {
  const { table, reader, model } = await setUp(SHAPE);
  const ops: ZoneOp[] = [
    { kind: 'W', sector: 128, sectors: 8 }, // IMP_OPEN, 8 written
    { kind: 'W', sector: 192, sectors: 48 }, // FULL at capacity
    { kind: 'O', sector: 256, sectors: 0 }, // EXP_OPEN, nothing written
    { kind: 'W', sector: 320, sectors: 16 },
    { kind: 'C', sector: 320, sectors: 0 }, // CLOSED with 16 written
    { kind: 'F', sector: 384, sectors: 0 }, // FULL by finish: write pointer at the zone end, counted as its capacity
    { kind: 'RO', sector: 448, sectors: 0 }, // READONLY (the last zone): no write pointer
  ];
  await table.run('z', '', ops, false);
  for (const op of ops) {
    if (op.kind === 'W') model.write(op.sector, op.sectors, false);
    else if (op.kind === 'O') model.mgmt('open', op.sector);
    else if (op.kind === 'C') model.mgmt('close', op.sector);
    else if (op.kind === 'F') model.mgmt('finish', op.sector);
    else if (op.kind === 'RO') model.setCond(op.sector, ZoneCond.READONLY);
  }

  const census = await reader.census('z');
  const want = expected(model);
  expect(census).toEqual({
    disk: 'z',
    conds: new Map([
      [ZoneCond.NOT_WP, 2],
      [ZoneCond.EMPTY, 0],
      [ZoneCond.IMP_OPEN, 1],
      [ZoneCond.EXP_OPEN, 1],
      [ZoneCond.CLOSED, 1],
      [ZoneCond.READONLY, 1],
      [ZoneCond.FULL, 2],
      [ZoneCond.OFFLINE, 0],
    ]),
    capacitySectors: SEQUENTIAL_CAPACITY,
    writtenSectors: 8 + 48 + 16 + 48,
  });
  for (const [cond, n] of want.conds) expect([cond, census!.conds.get(cond)]).toEqual([cond, n]);
  expect(census!.writtenSectors).toBe(want.written);
});

it('counts untouched zones of a zone_full layout as FULL and written, and a reset one as EMPTY', async () => {
  const { table, reader } = await setUp({ ...SHAPE, full: true });
  await table.run('z', '', [{ kind: 'X', sector: 128, sectors: 0 }], false);
  const census = await reader.census('z');
  expect(census?.conds.get(ZoneCond.FULL)).toBe(5);
  expect(census?.conds.get(ZoneCond.EMPTY)).toBe(1);
  expect(census?.writtenSectors).toBe(SEQUENTIAL_CAPACITY - 48);
});

it('reads only the counters of a table with more changed zones than the bound', async () => {
  const zones = CENSUS_MAX_CHANGED_ZONES + 2;
  const { table, reader, keys } = await setUp({ ...SHAPE, nrZones: zones + 1, nrConv: 1, lastZoneSectors: 64 });
  // Every sequential zone written once: IMP_OPEN each, no open limit.
  const ops: ZoneOp[] = Array.from({ length: zones }, (_, i) => ({ kind: 'W', sector: (i + 1) * 64, sectors: 8 }));
  for (let i = 0; i < ops.length; i += 1000) await table.run('z', '', ops.slice(i, i + 1000), false);
  expect(await env.redis.hlen(keys.zones('z'))).toBeGreaterThan(2 * CENSUS_MAX_CHANGED_ZONES);

  const census = await reader.census('z');
  expect(census).toEqual({
    disk: 'z',
    conds: new Map([
      [ZoneCond.NOT_WP, 1],
      [ZoneCond.IMP_OPEN, zones],
      [ZoneCond.EXP_OPEN, 0],
      [ZoneCond.CLOSED, 0],
    ]),
    capacitySectors: zones * 48,
  });
});

it('leaves out a disk without a zone table', async () => {
  const { reader, table } = await setUp(SHAPE);
  expect((await reader.read(['z', 'none'])).map((c) => c.disk)).toEqual(['z']);
  await table.remove('z');
  expect(await reader.read(['z'])).toEqual([]);
});
