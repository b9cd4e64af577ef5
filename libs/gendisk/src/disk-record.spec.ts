// Disk names, and the conversions of a disk record to and from the wire.
import { applyAttributes, DEFAULT_ATTRIBUTES, IrqMode } from '#rnull';
import { InvalidArgumentError } from '#service-kit';
import { attributesFromWire, checkDiskName, type DiskRecord, diskToWire } from './disk-record';

function refusal(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return e as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}

describe('checkDiskName', () => {
  it('accepts names of letters, digits, ".", "-" and "_" starting with a letter or digit', () => {
    for (const name of ['rnullb0', '0', 'a.b-c_d', 'Disk-7', 'a'.repeat(31)]) expect(checkDiskName(name)).toBe(name);
  });

  it('requires a non-empty string', () => {
    for (const name of ['', undefined, null]) {
      expect(refusal(() => checkDiskName(name))).toMatchObject({ field: 'name', message: 'name: is required' });
    }
    expect(refusal(() => checkDiskName(5))).toMatchObject({ field: 'name', message: 'name: must be a string' });
  });

  it('refuses more than 31 bytes (DISK_NAME_LEN)', () => {
    expect(refusal(() => checkDiskName('a'.repeat(32))).message).toBe('name: is 32 bytes; at most 31 (DISK_NAME_LEN)');
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const name = 'a'.repeat(30) + 'é';
    expect(name).toHaveLength(31);
    expect(refusal(() => checkDiskName(name)).message).toBe('name: is 32 bytes; at most 31 (DISK_NAME_LEN)');
    const wide = '磁'.repeat(11);
    expect(refusal(() => checkDiskName(wide)).message).toBe('name: is 33 bytes; at most 31 (DISK_NAME_LEN)');
  });

  it.each(['.hidden', '-x', '_x', 'a/b', '../etc', 'a b', 'a:b', 'disk\n', 'é'])('refuses %j', (name) => {
    const e = refusal(() => checkDiskName(name));
    expect(e.field).toBe('name');
    expect(e.message).toContain("use letters, digits, '.', '-', '_'");
  });
});

describe('attributesFromWire', () => {
  it('gives nothing for no message', () => {
    expect(attributesFromWire(undefined)).toEqual({});
    expect(attributesFromWire({})).toEqual({});
  });

  it('takes 64-bit fields as string, bigint or number', () => {
    expect(attributesFromWire({ size: '8', completionNsec: '1500' })).toEqual({ size: 8, completionNsec: 1500 });
    expect(attributesFromWire({ size: 8n, completionNsec: 60_000_000_000n })).toEqual({ size: 8, completionNsec: 60e9 });
    expect(attributesFromWire({ size: 8, completionNsec: 0 })).toEqual({ size: 8, completionNsec: 0 });
  });

  it('refuses 64-bit values that are not safe whole numbers, naming the field as null_blk does, and says the limit', () => {
    expect(refusal(() => attributesFromWire({ size: 2n ** 60n }))).toMatchObject({
      field: 'size',
      message: `size: ${2n ** 60n} is over the largest value taken, 2^53 - 1 (9007199254740991)`,
    });
    expect(refusal(() => attributesFromWire({ size: '18446744073709551615' }))).toMatchObject({ field: 'size' });
    expect(refusal(() => attributesFromWire({ completionNsec: '9007199254740992' })).message).toBe(
      'completion_nsec: 9007199254740992 is over the largest value taken, 2^53 - 1 (9007199254740991)',
    );
    expect(refusal(() => attributesFromWire({ completionNsec: 'soon' }))).toMatchObject({
      field: 'completion_nsec',
      message: 'completion_nsec: must be a whole number from 0 to 2^53 - 1 (9007199254740991), got soon',
    });
    expect(refusal(() => attributesFromWire({ completionNsec: '1.5' })).field).toBe('completion_nsec');
  });

  it('keeps only the fields that are set, false and 0 included', () => {
    expect(
      attributesFromWire({ irqmode: IrqMode.Timer, memoryBacked: false, pollQueues: 0, recycle: 'inline', blocksize: undefined }),
    ).toEqual({ irqmode: 2, memoryBacked: false, pollQueues: 0, recycle: 'inline' });
    expect(attributesFromWire({ fua: null } as unknown as Parameters<typeof attributesFromWire>[0])).toEqual({});
  });

  it('ignores fields that are not attributes', () => {
    const w = { hwQueueDepth: 32, name: 'x', power: true } as Parameters<typeof attributesFromWire>[0];
    expect(attributesFromWire(w)).toEqual({ hwQueueDepth: 32 });
  });

  it('round-trips every attribute through diskToWire', () => {
    const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 16, irqmode: IrqMode.Soft, completionNsec: 2500, discard: true }, false);
    const wire = diskToWire({ name: 'rnullb1', attributes, power: false, index: 1 });
    expect(attributesFromWire(wire.attributes)).toEqual(attributes);
  });
});

describe('diskToWire', () => {
  it('encodes the record as blk.v1.Disk with 64-bit fields as strings', () => {
    const attributes = applyAttributes(DEFAULT_ATTRIBUTES, { size: 4096, completionNsec: 60e9 }, false);
    const d: DiskRecord = { name: 'rnullb0', attributes, power: true, index: 3 };
    expect(diskToWire(d)).toEqual({
      name: 'rnullb0',
      power: true,
      index: 3,
      capacitySectors: String(4096 * 2048),
      attributes: { ...attributes, size: '4096', completionNsec: '60000000000' },
    });
  });

  it('does not alias the record', () => {
    const attributes = applyAttributes(DEFAULT_ATTRIBUTES, {}, false);
    const wire = diskToWire({ name: 'a', attributes, power: true, index: 0 });
    wire.attributes.hwQueueDepth = 1;
    expect(attributes.hwQueueDepth).toBe(64);
  });
});
