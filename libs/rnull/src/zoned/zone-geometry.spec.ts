// zoneShapeOf against null_init_zoned_dev(): its refusals name the attribute, and its
// quiet adjustments come back as notes.
import { ConfigError } from '#blk-mq';
import { type ZonedSettings, zoneShapeOf } from './zone-geometry';

const base: ZonedSettings = {
  size: 1024,
  blocksize: 4096,
  zoneSize: 256,
  zoneCapacity: 0,
  zoneNrConv: 0,
  zoneMaxOpen: 0,
  zoneMaxActive: 0,
  zoneAppendMaxSectors: 0xffffffff,
  zoneFull: false,
};

const refusal = (s: Partial<ZonedSettings>) => {
  try {
    zoneShapeOf({ ...base, ...s });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('not refused');
};

describe('zoneShapeOf (null_init_zoned_dev)', () => {
  it('lays out equal zones of zone_size, capacity = zone_size by default, append max = the capacity', () => {
    const { shape, notes } = zoneShapeOf(base);
    expect(shape).toEqual({
      nrZones: 4,
      nrConv: 0,
      zoneSectors: 256 * 2048,
      capacitySectors: 256 * 2048,
      lastZoneSectors: 256 * 2048,
      maxOpen: 0,
      maxActive: 0,
      appendMaxSectors: 256 * 2048,
      full: false,
    });
    expect(notes).toEqual([]);
  });

  it('gives a disk that is not a multiple of zone_size a smaller last zone', () => {
    const { shape } = zoneShapeOf({ ...base, size: 1000, zoneSize: 64 });
    expect([shape.nrZones, shape.lastZoneSectors]).toEqual([16, (1000 - 15 * 64) * 2048]);
  });

  it('refuses what null_blk refuses with -EINVAL, naming the attribute', () => {
    expect(refusal({ zoneSize: 48 })).toMatch(/^zone_size: must be a power of two \(MiB\), got 48/);
    expect(refusal({ zoneSize: 0 })).toMatch(/^zone_size: must be a power of two/);
    expect(refusal({ size: 128, zoneSize: 256 })).toMatch(/^zone_size: is larger than the disk \(size 128 MiB\)/);
    expect(refusal({ zoneCapacity: 512 })).toMatch(/^zone_capacity: is larger than zone_size \(256 MiB\)/);
    expect(refusal({ size: 1000, zoneSize: 64, zoneCapacity: 32 })).toMatch(/^zone_capacity: a smaller last zone/);
  });

  it('adjusts like null_blk: conventional zones below the zone count, limits that cannot bite disabled, max open <= max active', () => {
    expect(zoneShapeOf({ ...base, zoneNrConv: 9 })).toMatchObject({
      shape: { nrConv: 3 },
      notes: [expect.stringMatching(/zone_nr_conv changed to 3/)],
    });
    expect(zoneShapeOf({ ...base, zoneMaxActive: 4, zoneMaxOpen: 4 }).shape).toMatchObject({ maxActive: 0, maxOpen: 0 });
    expect(zoneShapeOf({ ...base, zoneMaxActive: 2, zoneMaxOpen: 3 })).toMatchObject({
      shape: { maxActive: 2, maxOpen: 2 },
      notes: [expect.stringMatching(/zone_max_open changed to 2/)],
    });
    expect(zoneShapeOf({ ...base, zoneMaxOpen: 3 }).shape.maxOpen).toBe(3);
  });

  it('aligns zone_append_max_sectors down to the block size and caps it at the capacity; 0 stays 0 (emulated)', () => {
    expect(zoneShapeOf({ ...base, zoneAppendMaxSectors: 100 }).shape.appendMaxSectors).toBe(96);
    expect(zoneShapeOf({ ...base, zoneCapacity: 128, zoneAppendMaxSectors: 1 << 30 }).shape.appendMaxSectors).toBe(128 * 2048);
    expect(zoneShapeOf({ ...base, zoneAppendMaxSectors: 0 }).shape.appendMaxSectors).toBe(0);
  });
});
