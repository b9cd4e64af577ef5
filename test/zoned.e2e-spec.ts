// null_blk's zoned mode (drivers/block/null_blk/zoned.c) against a real cluster over gRPC:
// zoned disks created with null_blk's attributes and refused with its messages, the zone
// layout ReportZones shows (conventional zones first, EMPTY or zone_full FULL sequential
// zones, zone capacity, a smaller last zone, windows, refusals), zone_readonly /
// zone_offline through SetZoneCondition, and the block layer's answers to zone ops that
// cannot run (not zoned: NOTSUPP; not a zone start, a conventional zone: IOERR).
import * as grpc from '@grpc/grpc-js';
import { Op, Status, type Zone, ZoneCondition, ZoneType } from '#proto/grpc/blk/v1/block_device';
import { type DiskAttributes, ZoneAdminCondition } from '#proto/grpc/blk/v1/gen_disk';
import { createDisk, failureCode, type Fixture, startCluster, submit, unary } from './support/cluster-fixture';

/** Sectors of a MiB: zone sizes are MiB, zones are reported in 512-byte sectors. */
const MiB = 2048n;
/** The wire's write pointer of a zone that has none (READ_ONLY, OFFLINE): 2^64 - 1. */
const NO_WP = 2n ** 64n - 1n;

let f: Fixture;
beforeAll(async () => {
  f = await startCluster();
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
