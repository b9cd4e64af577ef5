// A zoned disk's whole data path (HotPathHarness: block layer, driver, zone gate in the page
// scripts, completion; real Redis) against the zone state machine in memory (ZoneModel,
// null_blk's zoned.c) and a map of the bytes written: random shapes, random writes at and
// off the write pointer, appends, reads, open / close / finish / reset / reset all and
// zone_readonly / zone_offline, one at a time through `submit`. After every step the
// status, an append's landed sector and every zone of the report must agree, and a read
// must return the bytes the map holds. A seed is printed with any failure; rerun it with
// ZONED_IO_SEED=<seed> (DESIGN I17).
import { randomBytes } from 'node:crypto';
import { BlkStatus, ZoneCond, zoneExtent } from '#blk-mq';
import { WIRE_OP } from '#dispatch';
import { type ZoneMgmtOp, ZoneModel, zoneShapeOf } from '#rnull';
import { HotPathHarness } from './testing/hot-path-harness';
import { generator } from './testing/generator';

const RUNS = Number(process.env.ZONED_IO_RUNS ?? 6);
const STEPS = 60;
const BLOCK = 4096;
const SECTORS_PER_BLOCK = BLOCK / 512;
jest.setTimeout(120_000);

const MGMT_OPS: readonly [number, ZoneMgmtOp][] = [
  [WIRE_OP.ZONE_OPEN, 'open'],
  [WIRE_OP.ZONE_CLOSE, 'close'],
  [WIRE_OP.ZONE_FINISH, 'finish'],
  [WIRE_OP.ZONE_RESET, 'reset'],
  [WIRE_OP.ZONE_RESET_ALL, 'reset-all'],
];

let h: HotPathHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const seeds = process.env.ZONED_IO_SEED ? [Number(process.env.ZONED_IO_SEED)] : Array.from({ length: RUNS }, (_, i) => 1000 + i);

describe.each(seeds)('random zoned IO, seed %i', (seed) => {
  it('agrees with the zone model and the bytes written after every step', async () => {
    const rnd = generator(seed);
    const placement = rnd.pick(['remote', 'local'] as const);
    const zoneSize = 1 << rnd.int(2); // MiB
    const nrZones = 3 + rnd.int(5);
    const attributes = {
      size: nrZones * zoneSize - (rnd.next() < 0.3 && zoneSize > 1 ? 1 : 0), // sometimes a smaller last zone
      zoned: true,
      zoneSize,
      zoneCapacity: 0,
      zoneNrConv: rnd.int(2),
      zoneMaxOpen: rnd.int(3),
      zoneMaxActive: rnd.next() < 0.5 ? 0 : 2 + rnd.int(2),
      zoneFull: rnd.next() < 0.15,
      irqmode: rnd.int(3),
      completionNsec: 50_000,
    };
    const shape = zoneShapeOf({ ...attributes, blocksize: BLOCK, zoneAppendMaxSectors: 0xffffffff }).shape;
    const model = new ZoneModel(shape);
    const data = new Map<number, Buffer>(); // block's first sector -> its bytes
    h = await HotPathHarness.start({ placement });
    await h.createDisk('zr', attributes);
    const outcomes = { ok: 0, refused: 0 };
    const step = async (
      i: number,
      what: string,
      got: { status: BlkStatus; sector?: number },
      want: { status: BlkStatus; sector?: number },
    ) => {
      const context = `seed ${seed} (${placement}) step ${i}: ${what}`;
      outcomes[want.status === BlkStatus.OK ? 'ok' : 'refused'] += 1;
      expect({ context, ...got }).toEqual({ context, ...want });
      const report = await h!.dispatches[0].layer.reportZones('zr', 0, 0);
      expect({ context, report }).toEqual({ context, report: model.report(0, shape.nrZones) });
    };
    const forget = (z: number) => {
      const { start, len } = zoneExtent(shape, z);
      for (let s = start; s < start + len; s += SECTORS_PER_BLOCK) data.delete(s);
    };
    const seqZone = () => shape.nrConv + rnd.int(shape.nrZones - shape.nrConv);

    for (let i = 0; i < STEPS; i++) {
      const z = rnd.int(shape.nrZones);
      const { start, len } = zoneExtent(shape, z);
      const wp = model.report(start, 1)[0].wp;
      const roll = rnd.next();
      if (roll < 0.35) {
        // A write of 1..4 blocks at the write pointer, or near it, within the zone.
        const near =
          wp >= start && wp < start + len && rnd.next() < 0.7 ? wp : start + SECTORS_PER_BLOCK * rnd.int(len / SECTORS_PER_BLOCK);
        const sectors = Math.min(SECTORS_PER_BLOCK * (1 + rnd.int(4)), start + len - near);
        const bytes = randomBytes(sectors * 512);
        const got = await h.submit({ disk: 'zr', op: WIRE_OP.WRITE, sector: near, length: bytes.length, data: bytes });
        const want = model.write(near, sectors, false);
        if (want.status === BlkStatus.OK) {
          for (let s = 0; s < sectors; s += SECTORS_PER_BLOCK) data.set(near + s, bytes.subarray(s * 512, (s + SECTORS_PER_BLOCK) * 512));
        }
        await step(i, `write ${near}+${sectors}`, { status: got.status }, { status: want.status });
      } else if (roll < 0.55) {
        const sectors = SECTORS_PER_BLOCK * (1 + rnd.int(4));
        const bytes = randomBytes(sectors * 512);
        const got = await h.submit({ disk: 'zr', op: WIRE_OP.ZONE_APPEND, sector: start, length: bytes.length, data: bytes });
        const want = model.write(start, sectors, true);
        if (want.status === BlkStatus.OK) {
          for (let s = 0; s < sectors; s += SECTORS_PER_BLOCK)
            data.set(want.sector + s, bytes.subarray(s * 512, (s + SECTORS_PER_BLOCK) * 512));
        }
        await step(
          i,
          `append zone ${z} +${sectors}`,
          { status: got.status, sector: got.status === BlkStatus.OK ? got.sector : undefined },
          { status: want.status, sector: want.status === BlkStatus.OK ? want.sector : undefined },
        );
      } else if (roll < 0.7) {
        // Mostly below the write pointer, where the data is.
        const written = wp > start && wp <= start + len ? wp - start : len;
        const at = start + SECTORS_PER_BLOCK * rnd.int((rnd.next() < 0.7 ? written : len) / SECTORS_PER_BLOCK);
        const sectors = Math.min(SECTORS_PER_BLOCK * (1 + rnd.int(4)), start + len - at);
        const got = await h.submit({ disk: 'zr', op: WIRE_OP.READ, sector: at, length: sectors * 512 });
        const want = model.readable(at, sectors);
        await step(i, `read ${at}+${sectors}`, { status: got.status }, { status: want });
        if (want === BlkStatus.OK) {
          const expected = Buffer.concat(
            Array.from({ length: sectors / SECTORS_PER_BLOCK }, (_, b) => data.get(at + b * SECTORS_PER_BLOCK) ?? Buffer.alloc(BLOCK)),
          );
          expect({ seed, i, same: Buffer.compare(got.data!, expected) === 0 }).toEqual({ seed, i, same: true });
        }
      } else if (roll < 0.93) {
        const [op, name] = rnd.pick(MGMT_OPS);
        const got = await h.submit({ disk: 'zr', op, sector: name === 'reset-all' ? 0 : start, length: 0 });
        const before = model.report(0, shape.nrZones);
        const want = model.mgmt(name, start);
        // A reset frees the data of every zone it emptied (reset all: those not already EMPTY).
        if (want === BlkStatus.OK && (name === 'reset' || name === 'reset-all')) {
          before.forEach((zone, k) => {
            const emptied = name === 'reset' ? k === z : zone.cond !== ZoneCond.EMPTY && zone.cond !== ZoneCond.READONLY;
            if (k >= shape.nrConv && emptied && zone.cond !== ZoneCond.OFFLINE) forget(k);
          });
        }
        await step(i, `${name} zone ${z}`, { status: got.status }, { status: want });
      } else {
        const zz = seqZone();
        const cond = rnd.pick([ZoneCond.READONLY, ZoneCond.OFFLINE] as const);
        const zstart = zoneExtent(shape, zz).start;
        const was = model.report(zstart, 1)[0].cond;
        await h.registry.setZoneCondition('zr', zstart, cond === ZoneCond.READONLY ? 'READ_ONLY' : 'OFFLINE');
        const want = model.setCond(zstart, cond);
        if (was === cond) forget(zz); // set again: back to EMPTY, its data gone
        await step(i, `${ZoneCond[cond]} zone ${zz}`, { status: BlkStatus.OK }, { status: want });
      }
    }
    // Every byte of every zone that can be read, against the map.
    for (let z = 0; z < shape.nrZones; z++) {
      const { start, len } = zoneExtent(shape, z);
      if (model.readable(start, len) !== BlkStatus.OK) continue;
      for (let at = start; at < start + len; at += 128) {
        const got = await h.submit({ disk: 'zr', op: WIRE_OP.READ, sector: at, length: 128 * 512 });
        const expected = Buffer.concat(
          Array.from({ length: 128 / SECTORS_PER_BLOCK }, (_, b) => data.get(at + b * SECTORS_PER_BLOCK) ?? Buffer.alloc(BLOCK)),
        );
        expect({ seed, zone: z, at, same: got.status === BlkStatus.OK && Buffer.compare(got.data!, expected) === 0 }).toEqual({
          seed,
          zone: z,
          at,
          same: true,
        });
      }
    }
    // Not vacuous: the run had ops that passed and ops the zone rules refused.
    expect({ seed, passed: outcomes.ok > 5, refused: outcomes.refused > 0 }).toEqual({ seed, passed: true, refused: true });
  });
});
