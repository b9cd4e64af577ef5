// ZoneModel against the rules of null_blk's zoned.c, one rule per test (the blktests zbd
// group's checks where they apply to the state machine): write pointer advance, FULL at
// capacity, append, open/active limits with the implicit close, finish, reset, conventional
// zones, READ_ONLY / OFFLINE, zone_full.
import { BlkStatus, NO_WRITE_POINTER, ZoneCond, type ZoneShape, ZoneType } from '#blk-mq';
import { ZoneModel } from './zone-model';

const Z = 2048; // sectors per zone (1 MiB)
const shape = (s: Partial<ZoneShape> = {}): ZoneShape => ({
  nrZones: 8,
  nrConv: 1,
  zoneSectors: Z,
  capacitySectors: Z,
  lastZoneSectors: Z,
  maxOpen: 0,
  maxActive: 0,
  appendMaxSectors: Z,
  full: false,
  ...s,
});
const start = (z: number) => z * Z;
const zone = (m: ZoneModel, z: number) => m.report(start(z), 1)[0];

describe('ZoneModel (null_blk zoned.c)', () => {
  it('reports conventional zones first (NOT_WP), then EMPTY sequential zones at their start', () => {
    const m = new ZoneModel(shape());
    expect(m.report(0, 3)).toEqual([
      { start: 0, len: Z, capacity: Z, wp: Z, type: ZoneType.CONVENTIONAL, cond: ZoneCond.NOT_WP },
      { start: Z, len: Z, capacity: Z, wp: Z, type: ZoneType.SEQWRITE_REQ, cond: ZoneCond.EMPTY },
      { start: 2 * Z, len: Z, capacity: Z, wp: 2 * Z, type: ZoneType.SEQWRITE_REQ, cond: ZoneCond.EMPTY },
    ]);
    expect(m.report(start(7), 10)).toHaveLength(1);
    expect(m.report(start(8), 1)).toEqual([]);
  });

  it('takes a write at the write pointer only, opens the zone implicitly and moves the pointer; FULL at capacity', () => {
    const m = new ZoneModel(shape({ capacitySectors: Z / 2 }));
    expect(m.write(start(1) + 8, 8, false).status).toBe(BlkStatus.IOERR); // not at the wp
    expect(m.write(start(1), 8, false)).toEqual({ status: BlkStatus.OK, sector: start(1) });
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.IMP_OPEN, wp: start(1) + 8 });
    expect(m.write(start(1) + 8, Z / 2, false).status).toBe(BlkStatus.IOERR); // past the capacity
    expect(m.write(start(1) + 8, Z / 2 - 8, false).status).toBe(BlkStatus.OK);
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.FULL, wp: start(1) + Z / 2 });
    expect(m.write(start(1) + Z / 2, 8, false).status).toBe(BlkStatus.IOERR); // a FULL zone
    expect(m.counts).toEqual({ impOpen: 0, expOpen: 0, closed: 0 });
  });

  it('lands an append at the write pointer and says where; an append to a conventional zone fails', () => {
    const m = new ZoneModel(shape());
    m.write(start(2), 16, false);
    expect(m.write(start(2), 8, true)).toEqual({ status: BlkStatus.OK, sector: start(2) + 16 });
    expect(m.write(start(2) + 100, 8, true)).toEqual({ status: BlkStatus.OK, sector: start(2) + 24 }); // any sector of the zone
    expect(zone(m, 2).wp).toBe(start(2) + 32);
    expect(m.write(0, 8, true).status).toBe(BlkStatus.IOERR);
    expect(m.write(8, 8, false).status).toBe(BlkStatus.OK); // conventional: anywhere
  });

  it('with zone_max_open closes an implicitly open zone (round robin) to open another; explicit ones are never closed', () => {
    const m = new ZoneModel(shape({ maxOpen: 2 }));
    m.write(start(1), 8, false);
    m.write(start(2), 8, false);
    expect(m.write(start(3), 8, false).status).toBe(BlkStatus.OK);
    expect([zone(m, 1).cond, zone(m, 2).cond, zone(m, 3).cond]).toEqual([ZoneCond.CLOSED, ZoneCond.IMP_OPEN, ZoneCond.IMP_OPEN]);
    expect(m.mgmt('open', start(4))).toBe(BlkStatus.OK); // closes zone 2, the next in turn
    expect(zone(m, 2).cond).toBe(ZoneCond.CLOSED);
    expect(m.mgmt('open', start(5))).toBe(BlkStatus.OK); // closes zone 3
    expect(m.mgmt('open', start(6))).toBe(BlkStatus.ZONE_OPEN_RESOURCE); // two explicit: nothing to close
    expect(m.write(start(6), 8, false).status).toBe(BlkStatus.ZONE_OPEN_RESOURCE);
    expect(m.counts).toEqual({ impOpen: 0, expOpen: 2, closed: 3 });
  });

  it('with zone_max_active refuses a new zone once open + closed reach it, and then closes nothing', () => {
    const m = new ZoneModel(shape({ maxActive: 2, maxOpen: 2 }));
    m.write(start(1), 8, false);
    expect(m.mgmt('close', start(1))).toBe(BlkStatus.OK);
    m.write(start(2), 8, false);
    expect(m.write(start(3), 8, false).status).toBe(BlkStatus.ZONE_ACTIVE_RESOURCE);
    expect(m.mgmt('finish', start(3))).toBe(BlkStatus.ZONE_ACTIVE_RESOURCE); // finish of an EMPTY zone needs resources too
    expect(m.write(start(1) + 8, 8, false).status).toBe(BlkStatus.OK); // a CLOSED zone reopens within the limit
    expect(m.mgmt('reset', start(1))).toBe(BlkStatus.OK);
    expect(m.write(start(3), 8, false).status).toBe(BlkStatus.OK);
  });

  it('closes an open zone to CLOSED, or to EMPTY when nothing was written; close of EMPTY or FULL fails', () => {
    const m = new ZoneModel(shape());
    expect(m.mgmt('open', start(1))).toBe(BlkStatus.OK);
    expect(m.mgmt('close', start(1))).toBe(BlkStatus.OK);
    expect(zone(m, 1).cond).toBe(ZoneCond.EMPTY);
    expect(m.mgmt('close', start(1))).toBe(BlkStatus.IOERR);
    m.write(start(1), 8, false);
    expect(m.mgmt('close', start(1))).toBe(BlkStatus.OK);
    expect(m.mgmt('close', start(1))).toBe(BlkStatus.OK); // CLOSED again: not an error
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.CLOSED, wp: start(1) + 8 });
  });

  it('finishes a zone to FULL with its pointer at the zone end; resets to EMPTY and lists the range to drop', () => {
    const m = new ZoneModel(shape({ capacitySectors: Z / 2 }));
    m.write(start(1), 8, false);
    expect(m.mgmt('finish', start(1))).toBe(BlkStatus.OK);
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.FULL, wp: start(1) + Z });
    expect(m.mgmt('reset', start(1))).toBe(BlkStatus.OK);
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.EMPTY, wp: start(1) });
    expect(m.discards).toEqual([[start(1), Z]]);
    m.write(start(3), 8, false);
    m.mgmt('finish', start(4));
    expect(m.mgmt('reset-all', 0)).toBe(BlkStatus.OK);
    expect(m.report(start(1), 7).map((z) => z.cond)).toEqual(Array(7).fill(ZoneCond.EMPTY));
    expect(m.discards.slice(1)).toEqual([
      [start(3), Z],
      [start(4), Z],
    ]);
  });

  it('refuses every management op on a conventional zone', () => {
    const m = new ZoneModel(shape());
    for (const op of ['open', 'close', 'finish', 'reset'] as const) expect(m.mgmt(op, 0)).toBe(BlkStatus.IOERR);
  });

  it('sets READ_ONLY / OFFLINE (no write pointer; writes and management fail; OFFLINE reads fail); set again, EMPTY', () => {
    const m = new ZoneModel(shape());
    m.write(start(1), 8, false);
    expect(m.setCond(start(1), ZoneCond.READONLY)).toBe(BlkStatus.OK);
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.READONLY, wp: NO_WRITE_POINTER });
    expect(m.counts.impOpen).toBe(0); // finished first: its resources are back
    expect(m.write(start(1), 8, true).status).toBe(BlkStatus.IOERR);
    expect(m.mgmt('reset', start(1))).toBe(BlkStatus.IOERR);
    expect(m.readable(start(1), 8)).toBe(BlkStatus.OK);
    expect(m.setCond(start(2), ZoneCond.OFFLINE)).toBe(BlkStatus.OK);
    expect(m.readable(start(1), Z + 8)).toBe(BlkStatus.IOERR); // the range reaches into zone 2
    expect(m.mgmt('reset-all', 0)).toBe(BlkStatus.OK);
    expect(zone(m, 2).cond).toBe(ZoneCond.OFFLINE); // reset all leaves them
    expect(m.setCond(start(2), ZoneCond.OFFLINE)).toBe(BlkStatus.OK);
    expect(zone(m, 2)).toMatchObject({ cond: ZoneCond.EMPTY, wp: start(2) });
    expect(m.setCond(0, ZoneCond.OFFLINE)).toBe(BlkStatus.IOERR); // conventional
  });

  it('with zone_full starts every sequential zone FULL at its capacity', () => {
    const m = new ZoneModel(shape({ full: true, capacitySectors: Z / 2 }));
    expect(zone(m, 1)).toMatchObject({ cond: ZoneCond.FULL, wp: start(1) + Z / 2 });
    expect(m.write(start(1) + Z / 2, 8, false).status).toBe(BlkStatus.IOERR);
    expect(m.mgmt('reset', start(1))).toBe(BlkStatus.OK);
    expect(m.write(start(1), 8, false).status).toBe(BlkStatus.OK);
  });
});
