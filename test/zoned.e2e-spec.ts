// null_blk's zoned mode (drivers/block/null_blk/zoned.c) against a real cluster over gRPC:
// zoned disks created with null_blk's attributes and refused with its messages, the zone
// layout ReportZones shows (conventional zones first, EMPTY or zone_full FULL sequential
// zones, zone capacity, a smaller last zone, windows, refusals), zone_readonly /
// zone_offline through SetZoneCondition, and the block layer's answers to zone ops that
// cannot run (not zoned: NOTSUPP; not a zone start, a conventional zone: IOERR); on the
// zoned data path, blktests' zbd rules in both driver placements, a power cycle, NBD
// (no zone commands: the write rules answer EIO), and rnullctl's zone commands.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { NbdCmd } from '#nbd';
import { Op, Status, type Zone, ZoneCondition, ZoneType } from '#proto/grpc/blk/v1/block_device';
import { type DiskAttributes, ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { RawNbdClient } from '../libs/nbd/src/testing/raw-nbd-client';
import { createDisk, failureCode, type Fixture, startCluster, submit, unary } from './support/cluster-fixture';

/** Sectors of a MiB: zone sizes are MiB, zones are reported in 512-byte sectors. */
const MiB = 2048n;
/** The wire's write pointer of a zone that has none (READ_ONLY, OFFLINE): 2^64 - 1. */
const NO_WP = 2n ** 64n - 1n;

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({ nbdGateway: true });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

function reportZones(disk: string, sector = 0n, count = 0): Promise<Zone[]> {
  return unary<object, { zones: Zone[] }>(f.io, 'reportZones', { disk, sector, count }).then((r) => r.zones);
}

function setZoneCondition(name: string, sector: bigint, condition: ZoneAdminCondition): Promise<unknown> {
  return unary(f.disks, 'setZoneCondition', { name, sector, condition });
}

/** A zone as ReportZones should show it. */
function zone(start: bigint, len: bigint, capacity: bigint, wp: bigint, type: ZoneType, cond: ZoneCondition): Zone {
  return { start, len, capacity, wp, type, cond };
}
const conventional = (start: bigint, len: bigint) =>
  zone(start, len, len, start + len, ZoneType.ZONE_TYPE_CONVENTIONAL, ZoneCondition.ZONE_COND_NOT_WP);
const empty = (start: bigint, len: bigint, capacity = len) =>
  zone(start, len, capacity, start, ZoneType.ZONE_TYPE_SEQWRITE_REQ, ZoneCondition.ZONE_COND_EMPTY);

describe('zoned disks: attributes and layout', () => {
  it('refuses invalid zone attributes at create, naming the attribute (null_init_zoned_dev)', async () => {
    const cases: [DiskAttributes, RegExp][] = [
      [{ size: 64n, zoned: true, zoneSize: 8, zoneCapacity: 16 }, /zone_capacity: is larger than zone_size \(8 MiB\), got 16/],
      [{ size: 64n, zoned: true, zoneSize: 6 }, /zone_size: must be a power of two .*, got 6/],
      [{ size: 64n, zoned: true, zoneSize: 128 }, /zone_size: is larger than the disk \(size 64 MiB\), got 128/],
    ];
    for (const [i, [attributes, message]] of cases.entries()) {
      const err = await failureCode(createDisk(f, `zbad${i}`, attributes));
      expect([err.code, err.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(message)]);
    }
  });

  it('lays out conventional zones first, then EMPTY sequential zones with their write pointer at their start', async () => {
    // 64 MiB in 8 zones of 8 MiB, the first two conventional.
    await createDisk(f, 'zlay', { size: 64n, zoned: true, zoneSize: 8, zoneNrConv: 2 });
    const z = 8n * MiB;
    expect(await reportZones('zlay')).toEqual([
      conventional(0n, z),
      conventional(z, z),
      ...Array.from({ length: 6 }, (_, i) => empty(BigInt(i + 2) * z, z)),
    ]);
  });

  it('starts every sequential zone FULL with zone_full, its write pointer at start + capacity', async () => {
    await createDisk(f, 'zfull', { size: 32n, zoned: true, zoneSize: 8, zoneCapacity: 4, zoneNrConv: 1, zoneFull: true });
    const [conv, ...seq] = await reportZones('zfull');
    expect(conv).toEqual(conventional(0n, 8n * MiB));
    expect(seq).toHaveLength(3);
    for (const [i, s] of seq.entries()) {
      const start = BigInt(i + 1) * 8n * MiB;
      expect(s).toEqual(zone(start, 8n * MiB, 4n * MiB, start + 4n * MiB, ZoneType.ZONE_TYPE_SEQWRITE_REQ, ZoneCondition.ZONE_COND_FULL));
    }
  });

  it('reports a zone capacity below the zone size, and a smaller last zone', async () => {
    await createDisk(f, 'zcap', { size: 32n, zoned: true, zoneSize: 8, zoneCapacity: 6 });
    expect((await reportZones('zcap')).map((z) => [z.len, z.capacity])).toEqual(Array(4).fill([8n * MiB, 6n * MiB]));
    // 36 MiB in zones of 8: four whole zones and a last one of 4 MiB.
    await createDisk(f, 'zlast', { size: 36n, zoned: true, zoneSize: 8 });
    const zones = await reportZones('zlast');
    expect(zones).toHaveLength(5);
    expect(zones[4]).toEqual(empty(32n * MiB, 4n * MiB));
  });

  it('reports a window: count zones from the one that holds sector', async () => {
    await createDisk(f, 'zwin', { size: 64n, zoned: true, zoneSize: 8, zoneNrConv: 1 });
    const z = 8n * MiB;
    expect(await reportZones('zwin', 3n * z + 5n, 2)).toEqual([empty(3n * z, z), empty(4n * z, z)]);
    expect(await reportZones('zwin', 0n, 1)).toEqual([conventional(0n, z)]);
    // A count past the last zone ends with the last zone.
    expect((await reportZones('zwin', 6n * z, 10)).map((x) => x.start)).toEqual([6n * z, 7n * z]);
  });

  it('refuses a report past the end (OUT_OF_RANGE), of a disk that is not zoned (FAILED_PRECONDITION) or unknown', async () => {
    await createDisk(f, 'zend', { size: 16n, zoned: true, zoneSize: 4 });
    const past = await failureCode(reportZones('zend', 16n * MiB));
    expect([past.code, past.details]).toEqual([grpc.status.OUT_OF_RANGE, expect.stringMatching(/sector/)]);
    await createDisk(f, 'zplain', { size: 16n });
    const plain = await failureCode(reportZones('zplain'));
    expect([plain.code, plain.details]).toEqual([grpc.status.FAILED_PRECONDITION, 'disk "zplain" is not zoned (zoned=0)']);
    expect((await failureCode(reportZones('znone'))).code).toBe(grpc.status.NOT_FOUND);
  });
});

describe('zone_readonly / zone_offline (SetZoneCondition)', () => {
  const z = 4n * MiB;
  beforeAll(async () => {
    await createDisk(f, 'zcond', { size: 32n, zoned: true, zoneSize: 4, zoneNrConv: 1 });
  });

  it('makes a zone READ_ONLY or OFFLINE without a write pointer, and EMPTY when set again', async () => {
    await setZoneCondition('zcond', z + 7n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY);
    await setZoneCondition('zcond', 2n * z, ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE);
    const [ro, off] = await reportZones('zcond', z, 2);
    expect(ro).toEqual(zone(z, z, z, NO_WP, ZoneType.ZONE_TYPE_SEQWRITE_REQ, ZoneCondition.ZONE_COND_READONLY));
    expect(off).toEqual(zone(2n * z, z, z, NO_WP, ZoneType.ZONE_TYPE_SEQWRITE_REQ, ZoneCondition.ZONE_COND_OFFLINE));

    await setZoneCondition('zcond', z, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY);
    await setZoneCondition('zcond', 2n * z, ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE);
    expect(await reportZones('zcond', z, 2)).toEqual([empty(z, z), empty(2n * z, z)]);
  });

  it('refuses a conventional zone, a disk that is not zoned, a powered-off disk, a sector past the end', async () => {
    const conv = await failureCode(setZoneCondition('zcond', 0n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY));
    expect([conv.code, conv.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(/conventional zone 0/)]);
    const past = await failureCode(setZoneCondition('zcond', 8n * z, ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE));
    expect([past.code, past.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(/past the last zone/)]);
    await createDisk(f, 'zcplain', { size: 16n });
    const plain = await failureCode(setZoneCondition('zcplain', 0n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE));
    expect([plain.code, plain.details]).toEqual([grpc.status.INVALID_ARGUMENT, expect.stringMatching(/is not zoned/)]);
    await createDisk(f, 'zcoff', { size: 16n, zoned: true, zoneSize: 4 }, false);
    const off = await failureCode(setZoneCondition('zcoff', 0n, ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY));
    expect([off.code, off.details]).toEqual([grpc.status.FAILED_PRECONDITION, expect.stringMatching(/powered off/)]);
  });
});

describe('zone ops the block layer refuses', () => {
  const z = 4n * MiB;
  beforeAll(async () => {
    await createDisk(f, 'zops', { size: 32n, zoned: true, zoneSize: 4, zoneNrConv: 1 });
    await createDisk(f, 'zopsplain', { size: 16n });
  });

  it('completes every zone op on a disk that is not zoned with NOTSUPP', async () => {
    for (const op of [Op.OP_ZONE_OPEN, Op.OP_ZONE_CLOSE, Op.OP_ZONE_FINISH, Op.OP_ZONE_RESET, Op.OP_ZONE_RESET_ALL]) {
      const c = await submit(f, { disk: 'zopsplain', op, sector: 0n });
      expect([Op[op], c.status, c.message]).toEqual([
        Op[op],
        Status.STATUS_NOTSUPP,
        expect.stringMatching(/needs a zoned disk \(zoned=1\)/),
      ]);
    }
    const append = await submit(f, { disk: 'zopsplain', op: Op.OP_ZONE_APPEND, sector: 0n, length: 4096, data: Buffer.alloc(4096) });
    expect([append.status, append.message]).toEqual([Status.STATUS_NOTSUPP, expect.stringMatching(/needs a zoned disk/)]);
  });

  it('completes zone management at a sector that is not a zone start with IOERR, saying so', async () => {
    for (const op of [Op.OP_ZONE_OPEN, Op.OP_ZONE_CLOSE, Op.OP_ZONE_FINISH, Op.OP_ZONE_RESET]) {
      const c = await submit(f, { disk: 'zops', op, sector: z + 8n });
      expect([Op[op], c.status, c.message]).toEqual([
        Op[op],
        Status.STATUS_IOERR,
        expect.stringMatching(/sector 8200 is not the first sector of a zone \(zones are 8192 sectors\)/),
      ]);
    }
  });

  it('completes zone management and append on a conventional zone with IOERR, naming zone_nr_conv', async () => {
    const reset = await submit(f, { disk: 'zops', op: Op.OP_ZONE_RESET, sector: 0n });
    expect([reset.status, reset.message]).toEqual([Status.STATUS_IOERR, expect.stringMatching(/conventional zone 0 \(zone_nr_conv 1\)/)]);
    const append = await submit(f, { disk: 'zops', op: Op.OP_ZONE_APPEND, sector: 0n, length: 4096, data: Buffer.alloc(4096) });
    expect([append.status, append.message]).toEqual([Status.STATUS_IOERR, expect.stringMatching(/conventional zone 0/)]);
  });
});

// blktests' zbd group, where it applies over gRPC (zbd/002 report, 003 reset, 004 a write
// across two zones, 005 in-order writes, the open / active limits null_blk's zoned.c
// enforces), in both driver placements: each rule against the write pointers and the data
// that ReportZones and reads then show.
describe.each(['remote', 'local'] as const)('blktests zbd rules over gRPC, driver placement %s', (placement) => {
  /** Zones of 1 MiB (2048 sectors). */
  const Z = MiB;
  let g: Fixture;
  beforeAll(async () => {
    g = placement === 'remote' ? f : await startCluster({ env: { DRIVER_PLACEMENT: 'local' } });
  }, 120_000);
  afterAll(async () => {
    if (g !== f) await g?.stop();
  });

  const report = (disk: string, start: bigint, count = 1) =>
    unary<object, { zones: Zone[] }>(g.io, 'reportZones', { disk, sector: start, count }).then((r) => r.zones);
  /** [condition, write pointer] of the zone that starts at `start`. */
  const state = async (disk: string, start: bigint) => {
    const [z] = await report(disk, start);
    return [ZoneCondition[z.cond], z.wp] as const;
  };
  const write = (disk: string, sector: bigint, data: Buffer) => submit(g, { disk, op: Op.OP_WRITE, sector, length: data.length, data });
  const append = (disk: string, zoneStart: bigint, data: Buffer) =>
    submit(g, { disk, op: Op.OP_ZONE_APPEND, sector: zoneStart, length: data.length, data });
  const read = (disk: string, sector: bigint, length: number) => submit(g, { disk, op: Op.OP_READ, sector, length });
  const mgmt = (disk: string, op: Op, sector = 0n) => submit(g, { disk, op, sector });
  const block = (byte: number, bytes = 4096) => Buffer.alloc(bytes, byte);
  let n = 0;
  /** A fresh zoned disk (16 MiB, 1 MiB zones, the first two conventional) with `attributes` on top. */
  const disk = async (attributes: DiskAttributes = {}) => {
    const name = `zbd-${placement}-${n++}`;
    await createDisk(g, name, { size: 16n, zoned: true, zoneSize: 1, zoneNrConv: 2, ...attributes });
    return name;
  };

  it('moves the write pointer with each write at it, reads the data back below it and zeros above (zbd/005)', async () => {
    const d = await disk();
    const start = 2n * Z;
    for (let i = 0; i < 4; i++) expect((await write(d, start + BigInt(i) * 8n, block(i + 1))).status).toBe(Status.STATUS_OK);
    expect(await state(d, start)).toEqual(['ZONE_COND_IMP_OPEN', start + 32n]);
    const back = await read(d, start, 5 * 4096);
    expect(back.status).toBe(Status.STATUS_OK);
    expect(back.data).toEqual(Buffer.concat([block(1), block(2), block(3), block(4), block(0)]));
  });

  it('fails a write that is not at the write pointer with IOERR and leaves the zone as it was', async () => {
    const d = await disk();
    const start = 2n * Z;
    await write(d, start, block(1));
    for (const sector of [start, start + 16n, start + Z - 8n]) {
      expect((await write(d, sector, block(9))).status).toBe(Status.STATUS_IOERR);
    }
    expect(await state(d, start)).toEqual(['ZONE_COND_IMP_OPEN', start + 8n]);
    expect((await read(d, start, 4096)).data).toEqual(block(1));
  });

  it('fills a zone to FULL and refuses a write past its capacity; a write across two zones lands in both (zbd/004)', async () => {
    const d = await disk({ zoneCapacity: 1 });
    const start = 2n * Z;
    expect((await write(d, start, block(1, 1024 * 1024 - 4096))).status).toBe(Status.STATUS_OK);
    expect(await state(d, start)).toEqual(['ZONE_COND_IMP_OPEN', start + Z - 8n]);
    // 8 KiB over the boundary: the block layer splits it at the zone end (chunk_sectors).
    expect((await write(d, start + Z - 8n, block(2, 8192))).status).toBe(Status.STATUS_OK);
    expect(await state(d, start)).toEqual(['ZONE_COND_FULL', start + Z]);
    expect(await state(d, start + Z)).toEqual(['ZONE_COND_IMP_OPEN', start + Z + 8n]);
    expect((await read(d, start + Z - 8n, 8192)).data).toEqual(block(2, 8192));
  });

  it('refuses a write past a smaller zone capacity', async () => {
    // 16 MiB zones of 2 MiB with 1 MiB of capacity.
    const d = await disk({ zoneSize: 2, zoneCapacity: 1, zoneNrConv: 0 });
    expect((await write(d, 0n, block(1, 1024 * 1024))).status).toBe(Status.STATUS_OK);
    expect(await state(d, 0n)).toEqual(['ZONE_COND_FULL', Z]);
    expect((await write(d, Z, block(1))).status).toBe(Status.STATUS_IOERR);
  });

  it('resets a zone (EMPTY, its data gone) and every zone with reset all (zbd/003)', async () => {
    const d = await disk();
    await write(d, 2n * Z, block(1));
    await write(d, 3n * Z, block(2));
    expect((await mgmt(d, Op.OP_ZONE_RESET, 2n * Z)).status).toBe(Status.STATUS_OK);
    expect(await state(d, 2n * Z)).toEqual(['ZONE_COND_EMPTY', 2n * Z]);
    expect((await read(d, 2n * Z, 4096)).data).toEqual(block(0));
    expect(await state(d, 3n * Z)).toEqual(['ZONE_COND_IMP_OPEN', 3n * Z + 8n]);
    expect((await mgmt(d, Op.OP_ZONE_RESET_ALL)).status).toBe(Status.STATUS_OK);
    expect(await state(d, 3n * Z)).toEqual(['ZONE_COND_EMPTY', 3n * Z]);
    expect((await read(d, 3n * Z, 4096)).data).toEqual(block(0));
    // Written again from its start after the reset.
    expect((await write(d, 3n * Z, block(3))).status).toBe(Status.STATUS_OK);
  });

  it('opens, closes and finishes zones as null_blk does', async () => {
    const d = await disk();
    const a = 2n * Z;
    expect((await mgmt(d, Op.OP_ZONE_OPEN, a)).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_EXP_OPEN', a]);
    // Closed with nothing written: EMPTY again.
    expect((await mgmt(d, Op.OP_ZONE_CLOSE, a)).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_EMPTY', a]);
    await write(d, a, block(1));
    expect((await mgmt(d, Op.OP_ZONE_CLOSE, a)).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_CLOSED', a + 8n]);
    // A closed zone takes the next write at its write pointer (implicitly open again).
    expect((await write(d, a + 8n, block(2))).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_IMP_OPEN', a + 16n]);
    expect((await mgmt(d, Op.OP_ZONE_FINISH, a)).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_FULL', a + Z]);
    expect((await write(d, a + 16n, block(3))).status).toBe(Status.STATUS_IOERR);
    // Finish of an EMPTY zone: FULL too.
    expect((await mgmt(d, Op.OP_ZONE_FINISH, 3n * Z)).status).toBe(Status.STATUS_OK);
    expect(await state(d, 3n * Z)).toEqual(['ZONE_COND_FULL', 4n * Z]);
  });

  it('enforces zone_max_open: explicit opens over the limit fail ZONE_OPEN_RESOURCE, an implicit open closes one', async () => {
    const d = await disk({ zoneMaxOpen: 2 });
    const [a, b, c] = [2n * Z, 3n * Z, 4n * Z];
    expect((await mgmt(d, Op.OP_ZONE_OPEN, a)).status).toBe(Status.STATUS_OK);
    expect((await mgmt(d, Op.OP_ZONE_OPEN, b)).status).toBe(Status.STATUS_OK);
    expect((await mgmt(d, Op.OP_ZONE_OPEN, c)).status).toBe(Status.STATUS_ZONE_OPEN_RESOURCE);
    // Both open zones are explicitly open: nothing to close for a write to a third zone.
    expect((await write(d, c, block(1))).status).toBe(Status.STATUS_ZONE_OPEN_RESOURCE);
    expect(await state(d, c)).toEqual(['ZONE_COND_EMPTY', c]);

    expect((await mgmt(d, Op.OP_ZONE_RESET_ALL)).status).toBe(Status.STATUS_OK);
    // Implicitly open zones: a write to a third zone closes the first (round robin).
    await write(d, a, block(1));
    await write(d, b, block(2));
    expect((await write(d, c, block(3))).status).toBe(Status.STATUS_OK);
    expect(await state(d, a)).toEqual(['ZONE_COND_CLOSED', a + 8n]);
    expect(await state(d, b)).toEqual(['ZONE_COND_IMP_OPEN', b + 8n]);
    expect(await state(d, c)).toEqual(['ZONE_COND_IMP_OPEN', c + 8n]);
  });

  it('enforces zone_max_active: a zone over the limit of open and closed zones fails ZONE_ACTIVE_RESOURCE', async () => {
    const d = await disk({ zoneMaxActive: 2 });
    const [a, b, c] = [2n * Z, 3n * Z, 4n * Z];
    await write(d, a, block(1));
    await write(d, b, block(2));
    expect((await mgmt(d, Op.OP_ZONE_CLOSE, a)).status).toBe(Status.STATUS_OK);
    expect((await write(d, c, block(3))).status).toBe(Status.STATUS_ZONE_ACTIVE_RESOURCE);
    expect((await mgmt(d, Op.OP_ZONE_OPEN, c)).status).toBe(Status.STATUS_ZONE_ACTIVE_RESOURCE);
    // A full zone is not active: finishing one makes room.
    expect((await mgmt(d, Op.OP_ZONE_FINISH, a)).status).toBe(Status.STATUS_OK);
    expect((await write(d, c, block(3))).status).toBe(Status.STATUS_OK);
  });

  it('lands appends at the write pointer and says where; reads find the data there', async () => {
    const d = await disk();
    const start = 5n * Z;
    const first = await append(d, start, block(1, 8192));
    const second = await append(d, start, block(2));
    expect([first.status, first.sector]).toEqual([Status.STATUS_OK, start]);
    expect([second.status, second.sector]).toEqual([Status.STATUS_OK, start + 16n]);
    expect(await state(d, start)).toEqual(['ZONE_COND_IMP_OPEN', start + 24n]);
    expect((await read(d, start, 12288)).data).toEqual(Buffer.concat([block(1, 8192), block(2)]));
    // A write after an append goes at the new write pointer.
    expect((await write(d, start + 24n, block(3))).status).toBe(Status.STATUS_OK);
    expect((await mgmt(d, Op.OP_ZONE_FINISH, start)).status).toBe(Status.STATUS_OK);
    expect((await append(d, start, block(4))).status).toBe(Status.STATUS_IOERR);
  });

  it('takes writes in any order in conventional zones', async () => {
    const d = await disk();
    for (const [sector, byte] of [
      [Z + 64n, 1],
      [0n, 2],
      [Z + 8n, 3],
      [0n, 4],
    ] as const) {
      expect((await write(d, sector, block(byte))).status).toBe(Status.STATUS_OK);
    }
    expect((await read(d, 0n, 4096)).data).toEqual(block(4));
    expect((await read(d, Z + 8n, 4096)).data).toEqual(block(3));
    expect((await read(d, Z + 64n, 4096)).data).toEqual(block(1));
    expect(await state(d, 0n)).toEqual(['ZONE_COND_NOT_WP', Z]);
  });

  it('refuses writes to zone_full zones until they are reset', async () => {
    const d = await disk({ zoneFull: true });
    expect((await write(d, 2n * Z, block(1))).status).toBe(Status.STATUS_IOERR);
    expect((await append(d, 2n * Z, block(1))).status).toBe(Status.STATUS_IOERR);
    expect((await mgmt(d, Op.OP_ZONE_RESET, 2n * Z)).status).toBe(Status.STATUS_OK);
    expect((await write(d, 2n * Z, block(1))).status).toBe(Status.STATUS_OK);
    expect(await state(d, 2n * Z)).toEqual(['ZONE_COND_IMP_OPEN', 2n * Z + 8n]);
  });

  it('refuses writes to a READ_ONLY zone but reads it; refuses reads of an OFFLINE zone', async () => {
    const d = await disk();
    await write(d, 2n * Z, block(7));
    await unary(g.disks, 'setZoneCondition', { name: d, sector: 2n * Z, condition: ZoneAdminCondition.ZONE_ADMIN_CONDITION_READ_ONLY });
    expect((await write(d, 2n * Z + 8n, block(1))).status).toBe(Status.STATUS_IOERR);
    expect((await append(d, 2n * Z, block(1))).status).toBe(Status.STATUS_IOERR);
    expect((await mgmt(d, Op.OP_ZONE_RESET, 2n * Z)).status).toBe(Status.STATUS_IOERR);
    const ro = await read(d, 2n * Z, 4096);
    expect([ro.status, ro.data]).toEqual([Status.STATUS_OK, block(7)]);

    await unary(g.disks, 'setZoneCondition', { name: d, sector: 3n * Z, condition: ZoneAdminCondition.ZONE_ADMIN_CONDITION_OFFLINE });
    expect((await read(d, 3n * Z, 4096)).status).toBe(Status.STATUS_IOERR);
    expect((await write(d, 3n * Z, block(1))).status).toBe(Status.STATUS_IOERR);
    // A read that only touches other zones is not refused.
    expect((await read(d, 4n * Z, 4096)).status).toBe(Status.STATUS_OK);
  });
});

describe('rnullctl zone and io append against the cluster', () => {
  const ROOT = path.resolve(__dirname, '..');
  const run = promisify(execFile);
  const rnullctl = (...args: string[]) => run(path.join(ROOT, 'bin/rnullctl'), [...args, '--address', f.cluster.dispatchAddress]);
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-zoned-'));
    await createDisk(f, 'zctl', { size: 8n, zoned: true, zoneSize: 1, zoneNrConv: 1 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports, appends, finishes, resets and sets a zone READ_ONLY, printing the zones as blkzone does', async () => {
    const cells = (out: string, row: number) => out.trimEnd().split('\n')[row].trim().split(/\s+/);
    const report = await rnullctl('zone', 'report', 'zctl', '--count', '2');
    expect(cells(report.stdout, 0)).toEqual(['START', 'LEN', 'CAP', 'WP', 'TYPE', 'COND']);
    expect(cells(report.stdout, 1)).toEqual(['0', '2048', '2048', '2048', 'CONVENTIONAL', 'NOT_WP']);
    expect(cells(report.stdout, 2)).toEqual(['2048', '2048', '2048', '2048', 'SEQWRITE_REQ', 'EMPTY']);

    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, Buffer.alloc(8192, 5));
    const first = await rnullctl('io', 'append', '--disk', 'zctl', '--sector', '2048', '--file', file);
    const second = await rnullctl('io', 'append', '--disk', 'zctl', '--sector', '2048', '--file', file);
    expect(first.stdout).toBe('appended 8192 bytes to zctl zone 2048: landed at sector 2048\n');
    expect(second.stdout).toBe('appended 8192 bytes to zctl zone 2048: landed at sector 2064\n');

    const finish = await rnullctl('zone', 'finish', 'zctl', '--sector', '2048', '--json');
    expect(JSON.parse(finish.stdout)).toEqual([{ start: 2048, len: 2048, capacity: 2048, wp: 4096, type: 'SEQWRITE_REQ', cond: 'FULL' }]);
    const reset = await rnullctl('zone', 'reset', 'zctl', '--sector', '2048');
    expect(cells(reset.stdout, 1)).toEqual(['2048', '2048', '2048', '2048', 'SEQWRITE_REQ', 'EMPTY']);
    const ro = await rnullctl('zone', 'readonly', 'zctl', '--sector', '4096');
    expect(cells(ro.stdout, 1)).toEqual(['4096', '2048', '2048', '-', 'SEQWRITE_REQ', 'READONLY']);

    const refused = await rnullctl('io', 'write', '--disk', 'zctl', '--sector', '4096', '--file', file).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/^rnullctl io write: WRITE zctl sector 4096 \(8192 bytes\) completed with STATUS_IOERR/);
  });
});

describe('discard and write zeroes on a zoned disk', () => {
  it('ignores discard=1 (DISCARD completes NOTSUPP, as null_config_discard) and writes zeroes at the write pointer', async () => {
    await createDisk(f, 'zdisc', { size: 8n, zoned: true, zoneSize: 1, discard: true });
    const discard = await submit(f, { disk: 'zdisc', op: Op.OP_DISCARD, sector: 0n, length: 4096 });
    expect(discard.status).toBe(Status.STATUS_NOTSUPP);
    expect((await submit(f, { disk: 'zdisc', op: Op.OP_WRITE_ZEROES, sector: 8n, length: 4096 })).status).toBe(Status.STATUS_IOERR);
    expect((await submit(f, { disk: 'zdisc', op: Op.OP_WRITE_ZEROES, sector: 0n, length: 4096 })).status).toBe(Status.STATUS_OK);
    const [z0] = await reportZones('zdisc', 0n, 1);
    expect([ZoneCondition[z0.cond], z0.wp]).toEqual(['ZONE_COND_IMP_OPEN', 8n]);
  });
});

describe('a zoned disk over NBD and across a power cycle', () => {
  const Z = MiB;
  beforeAll(async () => {
    await createDisk(f, 'znbd', { size: 8n, zoned: true, zoneSize: 1, zoneNrConv: 1 });
  });

  it('serves the write rules over NBD: EIO off the write pointer, OK at it and anywhere in a conventional zone', async () => {
    const [host, port] = f.cluster.nbdAddress!.split(':');
    const c = await RawNbdClient.connect(Number(port), host);
    try {
      await c.handshake();
      await c.go('znbd');
      const write = async (offset: bigint, byte: number) => {
        c.send(NbdCmd.WRITE, offset, offset, 4096, { data: Buffer.alloc(4096, byte) });
        return (await c.readSimpleReply()).errno;
      };
      const zoneBytes = 1024n * 1024n;
      expect(await write(zoneBytes, 1)).toBe(0); // at the write pointer of zone 1
      expect(await write(zoneBytes + 65536n, 2)).toBe(5); // EIO: not at the write pointer
      expect(await write(zoneBytes + 4096n, 3)).toBe(0);
      expect(await write(8192n, 4)).toBe(0); // conventional zone 0: any order
      expect(await write(0n, 5)).toBe(0);
      c.send(NbdCmd.READ, 9n, zoneBytes, 8192);
      expect((await c.readSimpleReply()).errno).toBe(0);
      expect(await c.read(8192)).toEqual(Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(4096, 3)]));
    } finally {
      c.destroy();
    }
    const [z1] = await reportZones('znbd', Z, 1);
    expect([ZoneCondition[z1.cond], z1.wp]).toEqual(['ZONE_COND_IMP_OPEN', Z + 16n]);
  });

  it('lays the zones out anew at power on (EMPTY), keeping the data, as null_blk does', async () => {
    const data = Buffer.alloc(4096, 9);
    expect((await submit(f, { disk: 'znbd', op: Op.OP_WRITE, sector: 2n * Z, length: 4096, data })).status).toBe(Status.STATUS_OK);
    await unary(f.disks, 'powerDisk', { name: 'znbd', power: false });
    await unary(f.disks, 'powerDisk', { name: 'znbd', power: true });
    const [z2] = await reportZones('znbd', 2n * Z, 1);
    expect([ZoneCondition[z2.cond], z2.wp]).toEqual(['ZONE_COND_EMPTY', 2n * Z]);
    const back = await submit(f, { disk: 'znbd', op: Op.OP_READ, sector: 2n * Z, length: 4096 });
    expect([back.status, back.data]).toEqual([Status.STATUS_OK, data]);
  });
});
