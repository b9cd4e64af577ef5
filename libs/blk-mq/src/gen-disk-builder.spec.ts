// GenDiskBuilder, TagSet and queue-limit validation: bad values fail at the setter with a
// message naming the field; build() checks the combination and acts only when all is well.

import { BlkStatus } from './blk-status';
import { ConfigError } from './config-check';
import { GenDiskBuilder } from './gen-disk-builder';
import type { Operations } from './operations';
import { DEFAULT_QUEUE_LIMITS, maxRequestBytes, queueLimits } from './queue-limits';
import { DEFAULT_RQ_TIMEOUT_MS, TagSet } from './tag-set';

const ops: Operations = {
  queueRq: (_h, rq) => (rq.start(), rq.end(), BlkStatus.OK),
  commitRqs() {},
  complete() {},
};

describe('GenDiskBuilder setters', () => {
  it.each([0, 256, 1000, 1536, 8192, 4096.5, NaN])('refuses logical block size %p', (bs) => {
    expect(() => new GenDiskBuilder().logicalBlockSize(bs)).toThrow(ConfigError);
    expect(() => new GenDiskBuilder().logicalBlockSize(bs)).toThrow(
      `GenDiskBuilder.logicalBlockSize: must be ${Number.isInteger(bs) && bs >= 512 && bs <= 4096 ? 'a power of two' : 'an integer'} in 512..4096, got ${bs}`,
    );
  });

  it.each([512, 1024, 2048, 4096])('accepts block size %p', (bs) => {
    const disk = new GenDiskBuilder().name('ok0').capacitySectors(64).logicalBlockSize(bs).physicalBlockSize(bs).build(new TagSet(), ops);
    expect([disk.logicalBlockSize, disk.physicalBlockSize]).toEqual([bs, bs]);
  });

  it('refuses a name over 31 bytes, counting UTF-8 bytes, and empty or unsafe names', () => {
    expect(() => new GenDiskBuilder().name('a'.repeat(31))).not.toThrow();
    expect(() => new GenDiskBuilder().name('a'.repeat(32))).toThrow(
      `GenDiskBuilder.name: is 32 bytes; at most 31 (DISK_NAME_LEN), got "${'a'.repeat(32)}"`,
    );
    expect(() => new GenDiskBuilder().name('ü'.repeat(16))).toThrow(/is 32 bytes/);
    expect(() => new GenDiskBuilder().name('')).toThrow(/GenDiskBuilder.name: is required/);
    expect(() => new GenDiskBuilder().name('a/b')).toThrow(/GenDiskBuilder.name: has "\/"; use letters, digits/);
    expect(() => new GenDiskBuilder().name('rnull{0}')).toThrow(/GenDiskBuilder.name/);
    expect(() => new GenDiskBuilder().name(42 as unknown as string)).toThrow('GenDiskBuilder.name: must be a string, got 42');
  });

  it.each([0, -8, 1.5])('refuses capacity %p sectors', (c) => {
    expect(() => new GenDiskBuilder().capacitySectors(c)).toThrow(
      `GenDiskBuilder.capacitySectors: must be an integer in 1..${Number.MAX_SAFE_INTEGER}, got ${c}`,
    );
  });

  it('refuses a non-boolean rotational and bad or unknown queue limits, naming them', () => {
    expect(() => new GenDiskBuilder().rotational('yes' as unknown as boolean)).toThrow(
      'GenDiskBuilder.rotational: must be a boolean, got "yes"',
    );
    expect(() => new GenDiskBuilder().queueLimits({ maxHwSectors: 4 })).toThrow(
      /GenDiskBuilder.queueLimits.maxHwSectors: must be an integer in 8\.\./,
    );
    expect(() => new GenDiskBuilder().queueLimits({ maxSegments: 0 })).toThrow(/queueLimits.maxSegments/);
    expect(() => new GenDiskBuilder().queueLimits({ bogus: 1 } as object)).toThrow(
      'GenDiskBuilder.queueLimits.bogus: is not a queue limit, got 1',
    );
  });
});

describe('GenDiskBuilder.build', () => {
  it('builds a disk with null_blk defaults and the attributes set', () => {
    const disk = new GenDiskBuilder().name('nullb0').capacitySectors(2048).rotational(true).build(new TagSet(), ops);
    expect(disk.toString()).toBe(
      'GenDisk{nullb0, 2048 sectors, 512 B blocks, TagSet{1 hctx x 64 tags, recycle on-drop, timeout 30000 ms}}',
    );
    expect(disk.limits).toEqual(DEFAULT_QUEUE_LIMITS);
    expect([disk.rotational, disk.capacityBytes, disk.hctxs.length]).toEqual([true, 1024 * 1024, 1]);
  });

  it('checks what setters cannot before any side effect', () => {
    const init = jest.fn();
    const withInit = { ...ops, initHctx: init };
    const b = () => new GenDiskBuilder().name('x0').capacitySectors(12).logicalBlockSize(4096);
    expect(() => b().build(new TagSet(), withInit)).toThrow(
      'GenDiskBuilder.capacitySectors: must be a multiple of 8 sectors (logicalBlockSize 4096), got 12',
    );
    expect(() => b().capacitySectors(16).physicalBlockSize(512).build(new TagSet(), withInit)).toThrow(
      'QueueLimits.physicalBlockSize: must be >= logicalBlockSize 4096, got 512',
    );
    expect(() => new GenDiskBuilder().capacitySectors(8).build(new TagSet(), withInit)).toThrow(
      'GenDiskBuilder.name: must be set before build()',
    );
    expect(() => new GenDiskBuilder().name('y0').build(new TagSet(), withInit)).toThrow(/capacitySectors: must be set/);
    expect(() =>
      b()
        .capacitySectors(16)
        .build({} as TagSet, withInit),
    ).toThrow(/build.tagSet: must be a TagSet/);
    expect(() =>
      b()
        .capacitySectors(16)
        .build(new TagSet(), { ...withInit, queueRq: undefined } as unknown as Operations),
    ).toThrow('Operations.queueRq: is required and must be a function, got undefined');
    expect(() =>
      b()
        .capacitySectors(16)
        .build(new TagSet(), { ...withInit, poll: 3 } as unknown as Operations),
    ).toThrow(/Operations.poll/);
    expect(init).not.toHaveBeenCalled();
  });

  it('undoes initHctx when one hctx fails to initialise, and rethrows', () => {
    const exited: number[] = [];
    const failing: Operations<unknown, number> = {
      ...(ops as Operations<unknown, number>),
      initHctx: (i) => {
        if (i === 2) throw new Error('no memory for hctx 2');
        return i;
      },
      exitHctx: (h) => exited.push(h.driverData),
    };
    expect(() =>
      new GenDiskBuilder()
        .name('z0')
        .capacitySectors(8)
        .build(new TagSet({ nrHwQueues: 3 }), failing),
    ).toThrow('no memory for hctx 2');
    expect(exited).toEqual([0, 1]);
  });
});

describe('TagSet', () => {
  it("defaults to null_blk's 1 queue of 64 tags and blk-mq's 30 s request timeout", () => {
    const t = new TagSet();
    expect(t).toMatchObject({ nrHwQueues: 1, queueDepth: 64, sharedTagBitmap: false, recycle: 'on-drop', timeoutMs: 30_000 });
    expect(DEFAULT_RQ_TIMEOUT_MS).toBe(30_000);
    expect(new TagSet({ nrHwQueues: 4, queueDepth: 8 }).totalTags).toBe(32);
    expect(new TagSet({ nrHwQueues: 4, queueDepth: 8, sharedTagBitmap: true }).totalTags).toBe(8);
    expect(Object.isFrozen(t)).toBe(true);
  });

  it.each([
    [{ nrHwQueues: 0 }, 'TagSet.nrHwQueues: must be an integer in 1..1024, got 0'],
    [{ queueDepth: 10241 }, 'TagSet.queueDepth: must be an integer in 1..10240, got 10241'],
    [{ queueDepth: 2.5 }, 'TagSet.queueDepth: must be an integer in 1..10240, got 2.5'],
    [{ sharedTagBitmap: 1 }, 'TagSet.sharedTagBitmap: must be a boolean, got 1'],
    [{ recycle: 'never' }, "TagSet.recycle: must be one of 'on-drop', 'inline', got \"never\""],
    [{ timeoutMs: 0 }, 'TagSet.timeoutMs: must be an integer in 1..86400000, got 0'],
    [{ depth: 4 }, 'TagSet.depth: is not a tag set option, got 4'],
  ])('refuses %p', (opts, message) => {
    expect(() => new TagSet(opts as object)).toThrow(message);
  });
});

describe('queue limits', () => {
  it('follow the logical block size for physical size and discard granularity unless set', () => {
    expect(queueLimits({ logicalBlockSize: 4096 })).toMatchObject({ physicalBlockSize: 4096, discardGranularity: 4096 });
    expect(queueLimits({ logicalBlockSize: 512, physicalBlockSize: 4096 })).toMatchObject({ physicalBlockSize: 4096 });
    expect(() => queueLimits({ logicalBlockSize: 4096, discardGranularity: 512 })).toThrow(
      /discardGranularity: must be >= logicalBlockSize 4096/,
    );
  });

  it('bound a request by max_hw_sectors rounded to the block size and by max_segments pages', () => {
    expect(maxRequestBytes(DEFAULT_QUEUE_LIMITS)).toBe(255 * 512);
    expect(maxRequestBytes(queueLimits({ logicalBlockSize: 4096 }))).toBe(248 * 512);
    expect(maxRequestBytes(queueLimits({ maxHwSectors: 8192, maxSegments: 16 }))).toBe(16 * 4096);
  });
});
