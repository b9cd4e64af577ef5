// A zoned disk's data path on the hot path (HotPathHarness, real Redis), in both driver
// placements, with and without memory backing, over every irqmode: writes move the write
// pointer in the same atomic step as their data, appends report where they landed, zone
// management and its limits, reset frees the data, an OFFLINE zone fails reads
// (drivers/block/null_blk/zoned.c; DESIGN I17).
import { randomBytes } from 'node:crypto';
import { BlkStatus, ZoneCond } from '#blk-mq';
import { WIRE_OP } from '#dispatch';
import { HotPathHarness } from './testing/hot-path-harness';

const { READ, WRITE, WRITE_ZEROES, ZONE_APPEND, ZONE_OPEN, ZONE_CLOSE, ZONE_FINISH, ZONE_RESET, ZONE_RESET_ALL } = WIRE_OP;
jest.setTimeout(30_000);

/** 16 MiB in 4 MiB zones: zone 0 conventional, zones 1..3 sequential, 8192 sectors each. */
const ZONE = 8192;
const ZONED = { size: 16, zoned: true, zoneSize: 4, zoneNrConv: 1 };
let h: HotPathHarness;

afterEach(async () => {
  await h?.stop();
});

async function zone(disk: string, z: number) {
  const [report] = await h.dispatches[0].layer.reportZones(disk, z * ZONE, 1);
  return report;
}

const write = (disk: string, sector: number, data: Buffer) => h.submit({ disk, op: WRITE, sector, length: data.length, data });
const append = (disk: string, zoneStart: number, data: Buffer) =>
  h.submit({ disk, op: ZONE_APPEND, sector: zoneStart, length: data.length, data });
const mgmt = (disk: string, op: number, sector: number) => h.submit({ disk, op, sector, length: 0 });

describe.each(['remote', 'local'] as const)('zoned disk, driver placement %s', (placement) => {
  describe.each([
    [true, 0],
    [true, 1],
    [true, 2],
    [false, 0],
    [false, 2],
  ])('memory_backed %s, irqmode %i', (memoryBacked, irqmode) => {
    it('moves the write pointer with each write, refuses a write off it, lands appends at it, and resets', async () => {
      h = await HotPathHarness.start({ placement });
      await h.createDisk('z0', { ...ZONED, memoryBacked, irqmode, completionNsec: 100_000 });
      const a = randomBytes(8192);
      const b = randomBytes(4096);
      expect((await write('z0', ZONE, a)).status).toBe(BlkStatus.OK);
      expect(await zone('z0', 1)).toMatchObject({ cond: ZoneCond.IMP_OPEN, wp: ZONE + 16 });
      // Not at the write pointer: IOERR, and nothing moves.
      expect((await write('z0', ZONE + 32, b)).status).toBe(BlkStatus.IOERR);
      expect((await write('z0', ZONE, b)).status).toBe(BlkStatus.IOERR);
      expect((await zone('z0', 1)).wp).toBe(ZONE + 16);
      // Appends land at the write pointer, in turn.
      const first = await append('z0', ZONE, b);
      const second = await append('z0', ZONE, b);
      expect([first.status, first.sector, second.status, second.sector]).toEqual([BlkStatus.OK, ZONE + 16, BlkStatus.OK, ZONE + 24]);
      expect((await zone('z0', 1)).wp).toBe(ZONE + 32);
      // The conventional zone takes writes anywhere, and refuses appends.
      expect((await write('z0', 64, b)).status).toBe(BlkStatus.OK);
      expect((await write('z0', 8, b)).status).toBe(BlkStatus.OK);
      expect((await append('z0', 0, b)).status).toBe(BlkStatus.IOERR);
      const back = await h.submit({ disk: 'z0', op: READ, sector: ZONE, length: 16384 });
      expect(back.status).toBe(BlkStatus.OK);
      expect(back.data).toEqual(memoryBacked ? Buffer.concat([a, b, b]) : Buffer.alloc(16384));
      // Reset: EMPTY at the zone's start, its data gone.
      expect((await mgmt('z0', ZONE_RESET, ZONE)).status).toBe(BlkStatus.OK);
      expect(await zone('z0', 1)).toMatchObject({ cond: ZoneCond.EMPTY, wp: ZONE });
      expect((await h.submit({ disk: 'z0', op: READ, sector: ZONE, length: 16384 })).data).toEqual(Buffer.alloc(16384));
      if (memoryBacked) expect(await h.redis.scard(h.keys.pageIndex('z0'))).toBe(2); // the conventional zone's pages
      expect((await write('z0', ZONE, b)).status).toBe(BlkStatus.OK);
    });
  });

  it('open, close, finish and their limits: ZONE_OPEN_RESOURCE, ZONE_ACTIVE_RESOURCE, implicit close', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('z1', { ...ZONED, size: 32, zoneMaxOpen: 2, zoneMaxActive: 3 }); // zones 1..7 sequential
    const b = randomBytes(4096);
    expect((await mgmt('z1', ZONE_OPEN, ZONE)).status).toBe(BlkStatus.OK);
    expect((await zone('z1', 1)).cond).toBe(ZoneCond.EXP_OPEN);
    expect((await write('z1', 2 * ZONE, b)).status).toBe(BlkStatus.OK); // implicitly open: 2 open
    // A third open zone: the implicitly open one closes first (null_close_imp_open_zone).
    expect((await write('z1', 3 * ZONE, b)).status).toBe(BlkStatus.OK);
    expect((await zone('z1', 2)).cond).toBe(ZoneCond.CLOSED);
    // 3 active (2 open + 1 closed): a fourth zone is refused.
    expect((await write('z1', 4 * ZONE, b)).status).toBe(BlkStatus.ZONE_ACTIVE_RESOURCE);
    expect((await mgmt('z1', ZONE_OPEN, 4 * ZONE)).status).toBe(BlkStatus.ZONE_ACTIVE_RESOURCE);
    // Explicitly open the implicit one: 2 explicitly open, a closed zone cannot open.
    expect((await mgmt('z1', ZONE_OPEN, 3 * ZONE)).status).toBe(BlkStatus.OK);
    expect((await mgmt('z1', ZONE_OPEN, 2 * ZONE)).status).toBe(BlkStatus.ZONE_OPEN_RESOURCE);
    // Finish makes a zone FULL (write pointer at its end), writes then fail; close frees an open slot.
    expect((await mgmt('z1', ZONE_FINISH, 3 * ZONE)).status).toBe(BlkStatus.OK);
    expect(await zone('z1', 3)).toMatchObject({ cond: ZoneCond.FULL, wp: 4 * ZONE });
    expect((await append('z1', 3 * ZONE, b)).status).toBe(BlkStatus.IOERR);
    expect((await mgmt('z1', ZONE_CLOSE, ZONE)).status).toBe(BlkStatus.OK);
    expect((await zone('z1', 1)).cond).toBe(ZoneCond.EMPTY); // closed with nothing written
    expect((await mgmt('z1', ZONE_OPEN, 2 * ZONE)).status).toBe(BlkStatus.OK);
    expect((await mgmt('z1', ZONE_RESET_ALL, 0)).status).toBe(BlkStatus.OK);
    const all = await h.dispatches[0].layer.reportZones('z1', 0, 0);
    expect(all.slice(1).map((z) => z.cond)).toEqual(all.slice(1).map(() => ZoneCond.EMPTY));
  });

  it('write zeroes is a write at the write pointer; an append fills a zone to FULL; zone_full starts FULL', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('z2', { ...ZONED, zoneCapacity: 1 }); // 2048 writable sectors of 8192
    expect((await h.submit({ disk: 'z2', op: WRITE_ZEROES, sector: ZONE + 8, length: 4096 })).status).toBe(BlkStatus.IOERR);
    expect((await h.submit({ disk: 'z2', op: WRITE_ZEROES, sector: ZONE, length: 4096 })).status).toBe(BlkStatus.OK);
    expect((await zone('z2', 1)).wp).toBe(ZONE + 8);
    // The rest of the capacity in 120 KiB appends (under max_sectors), then one more fails.
    let wp = ZONE + 8;
    while (wp + 240 <= ZONE + 2048) {
      const r = await append('z2', ZONE, randomBytes(240 * 512));
      expect([r.status, r.sector]).toEqual([BlkStatus.OK, wp]);
      wp += 240;
    }
    const last = await append('z2', ZONE, randomBytes((ZONE + 2048 - wp) * 512));
    expect(last.status).toBe(BlkStatus.OK);
    expect(await zone('z2', 1)).toMatchObject({ cond: ZoneCond.FULL, wp: ZONE + 2048, capacity: 2048, len: ZONE });
    expect((await append('z2', ZONE, randomBytes(4096))).status).toBe(BlkStatus.IOERR);

    await h.createDisk('z3', { ...ZONED, zoneFull: true });
    expect(await zone('z3', 2)).toMatchObject({ cond: ZoneCond.FULL, wp: 3 * ZONE });
    expect((await write('z3', 2 * ZONE, randomBytes(4096))).status).toBe(BlkStatus.IOERR);
    expect((await mgmt('z3', ZONE_RESET, 2 * ZONE)).status).toBe(BlkStatus.OK);
    expect((await write('z3', 2 * ZONE, randomBytes(4096))).status).toBe(BlkStatus.OK);
  });

  it('zone_readonly refuses writes, zone_offline refuses reads, doing it again empties the zone', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('z4', ZONED);
    const b = randomBytes(4096);
    expect((await write('z4', ZONE, b)).status).toBe(BlkStatus.OK);
    await h.registry.setZoneCondition('z4', ZONE, 'READ_ONLY');
    expect(await zone('z4', 1)).toMatchObject({ cond: ZoneCond.READONLY });
    expect((await write('z4', ZONE + 8, b)).status).toBe(BlkStatus.IOERR);
    expect((await mgmt('z4', ZONE_RESET, ZONE)).status).toBe(BlkStatus.IOERR);
    expect((await h.submit({ disk: 'z4', op: READ, sector: ZONE, length: 4096 })).data).toEqual(b);
    await h.registry.setZoneCondition('z4', 2 * ZONE, 'OFFLINE');
    expect((await h.submit({ disk: 'z4', op: READ, sector: 2 * ZONE, length: 4096 })).status).toBe(BlkStatus.IOERR);
    await h.registry.setZoneCondition('z4', 2 * ZONE, 'OFFLINE');
    expect(await zone('z4', 2)).toMatchObject({ cond: ZoneCond.EMPTY, wp: 2 * ZONE });
    expect((await h.submit({ disk: 'z4', op: READ, sector: 2 * ZONE, length: 4096 })).status).toBe(BlkStatus.OK);
  });
});

describe.each(['remote', 'local'] as const)('zone write plugs, driver placement %s', (placement) => {
  it('keeps 64 sequential writes of a zone, submitted at once over 4 hardware queues, in order', async () => {
    h = await HotPathHarness.start({ placement });
    await h.createDisk('zp', { ...ZONED, submitQueues: 4, hwQueueDepth: 16, irqmode: 1 });
    const blocks = Array.from({ length: 64 }, () => randomBytes(4096));
    // Dispatch spreads them round robin over the hctxs: without the plugs they overtake each other.
    const ends = await Promise.all(blocks.map((b, i) => write('zp', ZONE + 8 * i, b)));
    expect(ends.map((e) => e.status)).toEqual(blocks.map(() => BlkStatus.OK));
    expect((await zone('zp', 1)).wp).toBe(ZONE + 8 * 64);
    const back = await h.submit({ disk: 'zp', op: READ, sector: ZONE, length: 64 * 4096 });
    expect(Buffer.compare(back.data!, Buffer.concat(blocks))).toBe(0);
  });
});

describe('zone ops off zoned disks and off zone starts', () => {
  it('completes them with the status null_blk gives and a message naming the problem', async () => {
    h = await HotPathHarness.start();
    await h.createDisk('plain', { size: 16 });
    await h.createDisk('z5', ZONED);
    const reset = await mgmt('plain', ZONE_RESET, 0);
    expect([reset.status, reset.message]).toEqual([BlkStatus.NOTSUPP, expect.stringMatching(/ZONE_RESET needs a zoned disk/)]);
    expect((await append('plain', 0, randomBytes(4096))).status).toBe(BlkStatus.NOTSUPP);
    const off = await mgmt('z5', ZONE_OPEN, ZONE + 8);
    expect([off.status, off.message]).toEqual([BlkStatus.IOERR, expect.stringMatching(/not the first sector of a zone/)]);
    const conv = await append('z5', 0, randomBytes(4096));
    expect([conv.status, conv.message]).toEqual([BlkStatus.IOERR, expect.stringMatching(/conventional zone 0/)]);
    await expect(h.dispatches[0].layer.reportZones('plain', 0, 1)).rejects.toThrow(/not zoned/);
  });
});
