// The attribute rules of null_blk's configfs: defaults, every range, and EBUSY while powered.
import { BLK_SAFE_MAX_SECTORS, BlkStatus, DEFAULT_RQ_TIMEOUT_MS, TAG_SET_DEFAULTS } from '#blk-mq';
import {
  ATTRIBUTE_NAMES,
  AttributeError,
  applyAttributes,
  capacitySectors,
  DEFAULT_ATTRIBUTES,
  type DiskAttributes,
  features,
  IrqMode,
  LIVE_ATTRIBUTES,
  POWERED_OFF_STATUS,
  validateAttribute,
} from './disk-attributes';

/** Runs `fn`, returning the AttributeError it threw (fails the test when it throws nothing else). */
function attributeErrorOf(fn: () => unknown): AttributeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttributeError);
    return e as AttributeError;
  }
  throw new Error('expected an AttributeError, nothing was thrown');
}

const validate = (key: keyof DiskAttributes, value: unknown) => () => validateAttribute(key, value as DiskAttributes[typeof key]);

describe('DEFAULT_ATTRIBUTES', () => {
  it("are the seed's rnull defaults and null_blk's elsewhere", () => {
    expect(DEFAULT_ATTRIBUTES).toMatchObject({
      memoryBacked: true,
      blocksize: 4096,
      size: 4096,
      irqmode: IrqMode.None,
      completionNsec: 1_000_000,
      submitQueues: 1,
      hwQueueDepth: 64,
      pollQueues: 0,
      recycle: 'on-drop',
    });
    expect(IrqMode.None).toBe(0);
    expect(Object.isFrozen(DEFAULT_ATTRIBUTES)).toBe(true);
  });

  it("take max_sectors from blk-mq: BLK_SAFE_MAX_SECTORS (255), null_blk's max_hw_sectors when max_sectors is unset", () => {
    expect(DEFAULT_ATTRIBUTES.maxSectors).toBe(255);
    expect(DEFAULT_ATTRIBUTES.maxSectors).toBe(BLK_SAFE_MAX_SECTORS);
  });

  it("take timeout_ms from blk-mq: its 30 s request timeout, the seed's rnull's (null_blk's own is 5 s)", () => {
    expect(DEFAULT_ATTRIBUTES.timeoutMs).toBe(30_000);
    expect(DEFAULT_ATTRIBUTES.timeoutMs).toBe(DEFAULT_RQ_TIMEOUT_MS);
    expect(DEFAULT_ATTRIBUTES.timeoutMs).toBe(TAG_SET_DEFAULTS.timeoutMs);
  });

  it('pass their own validation', () => {
    for (const key of Object.keys(DEFAULT_ATTRIBUTES) as (keyof DiskAttributes)[]) {
      expect(validate(key, DEFAULT_ATTRIBUTES[key])).not.toThrow();
    }
    expect(applyAttributes(DEFAULT_ATTRIBUTES, {}, false)).toEqual(DEFAULT_ATTRIBUTES);
  });

  it("name every attribute with null_blk's configfs name", () => {
    expect(Object.keys(ATTRIBUTE_NAMES).sort()).toEqual(Object.keys(DEFAULT_ATTRIBUTES).sort());
    expect(ATTRIBUTE_NAMES).toMatchObject({
      hwQueueDepth: 'hw_queue_depth',
      submitQueues: 'submit_queues',
      completionNsec: 'completion_nsec',
      memoryBacked: 'memory_backed',
      pollQueues: 'poll_queues',
      timeoutMs: 'timeout_ms',
      maxSectors: 'max_sectors',
      sharedTagBitmap: 'shared_tag_bitmap',
    });
  });
});

describe('validateAttribute', () => {
  const ranges: [keyof DiskAttributes, string, number, number][] = [
    ['size', 'size', 1, 1 << 22],
    ['submitQueues', 'submit_queues', 1, 256],
    ['hwQueueDepth', 'hw_queue_depth', 1, 4096],
    ['completionNsec', 'completion_nsec', 0, 60e9],
    ['pollQueues', 'poll_queues', 0, 256],
    ['timeoutMs', 'timeout_ms', 1, 3_600_000],
    ['mbps', 'mbps', 0, 40 * 1024], // null_blk clamps to 1024 * 40; here a larger value is an error
    ['maxSectors', 'max_sectors', 8, 1 << 16],
    ['cacheSize', 'cache_size', 0, 256],
  ];

  describe.each(ranges)('%s (%s) in %d..%d', (key, name, min, max) => {
    it('accepts both ends of the range', () => {
      expect(validate(key, min)).not.toThrow();
      expect(validate(key, max)).not.toThrow();
    });

    it('refuses one below and one above, naming the field', () => {
      for (const v of [min - 1, max + 1]) {
        const e = attributeErrorOf(validate(key, v));
        expect(e).toMatchObject({ field: name, kind: 'invalid', name: 'AttributeError' });
        expect(e.message).toBe(`${name}: must be in ${min}..${max}, got ${v}`);
      }
    });

    it('refuses fractions, NaN, strings and unsafe integers as not whole numbers', () => {
      for (const v of [min + 0.5, NaN, Infinity, String(min), 2 ** 53]) {
        const e = attributeErrorOf(validate(key, v));
        expect(e.field).toBe(name);
        expect(e.message).toMatch(new RegExp(`^${name}: must be a whole number`));
      }
    });
  });

  it('accepts blocksize 512, 1024, 2048 and 4096 only', () => {
    for (const v of [512, 1024, 2048, 4096]) expect(validate('blocksize', v)).not.toThrow();
    for (const v of [0, 256, 768, 1000, 3072, 4095, 8192, 512.5, -4096]) {
      const e = attributeErrorOf(validate('blocksize', v));
      expect(e).toMatchObject({ field: 'blocksize', kind: 'invalid' });
      expect(e.message).toBe(`blocksize: must be a power of two in 512..4096, got ${v}`);
    }
  });

  it('accepts irqmode 0, 1 and 2 only', () => {
    for (const v of [IrqMode.None, IrqMode.Soft, IrqMode.Timer]) expect(validate('irqmode', v)).not.toThrow();
    for (const v of [-1, 3, 1.5, '1']) {
      const e = attributeErrorOf(validate('irqmode', v));
      expect(e).toMatchObject({ field: 'irqmode', kind: 'invalid' });
      expect(e.message).toMatch(/^irqmode: must be 0 \(none\), 1 \(softirq\) or 2 \(timer\), got /);
    }
  });

  it('accepts recycle "on-drop" and "inline" only', () => {
    expect(validate('recycle', 'on-drop')).not.toThrow();
    expect(validate('recycle', 'inline')).not.toThrow();
    const e = attributeErrorOf(validate('recycle', 'never'));
    expect(e).toMatchObject({ field: 'recycle', kind: 'invalid', message: 'recycle: must be "on-drop" or "inline", got "never"' });
  });
});

describe('applyAttributes', () => {
  it('returns a new object with the changes, leaving current untouched', () => {
    const current = { ...DEFAULT_ATTRIBUTES };
    const next = applyAttributes(current, { hwQueueDepth: 128, irqmode: IrqMode.Timer, memoryBacked: false }, false);
    expect(next).toEqual({ ...DEFAULT_ATTRIBUTES, hwQueueDepth: 128, irqmode: IrqMode.Timer, memoryBacked: false });
    expect(next).not.toBe(current);
    expect(current).toEqual(DEFAULT_ATTRIBUTES);
  });

  it('skips changes whose value is undefined', () => {
    expect(applyAttributes(DEFAULT_ATTRIBUTES, { blocksize: undefined }, true)).toEqual({ ...DEFAULT_ATTRIBUTES });
    expect(applyAttributes(DEFAULT_ATTRIBUTES, { blocksize: undefined, size: 8 }, false)).toMatchObject({ blocksize: 4096, size: 8 });
  });

  it('refuses an unknown attribute', () => {
    const e = attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { bogus: 1 } as Partial<DiskAttributes>, false));
    expect(e).toMatchObject({ field: 'bogus', kind: 'invalid', message: 'bogus: unknown attribute' });
  });

  it('validates every change and refuses the first bad one, naming it', () => {
    const e = attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { submitQueues: 2, hwQueueDepth: 0 }, false));
    expect(e).toMatchObject({ field: 'hw_queue_depth', kind: 'invalid' });
    expect(e.message).toBe('hw_queue_depth: must be in 1..4096, got 0');
  });

  it('accepts every size with every blocksize: a MiB is always a multiple of the block size', () => {
    for (const blocksize of [512, 1024, 2048, 4096]) {
      for (const size of [1, 3, 4097]) {
        expect(applyAttributes(DEFAULT_ATTRIBUTES, { size, blocksize }, false)).toMatchObject({ size, blocksize });
      }
    }
  });

  describe('while powered (EBUSY)', () => {
    it('lets only submit_queues, poll_queues and badblocks change', () => {
      expect([...LIVE_ATTRIBUTES].sort()).toEqual(['badblocks', 'pollQueues', 'submitQueues']);
      expect(applyAttributes(DEFAULT_ATTRIBUTES, { badblocks: '+8-15' }, true).badblocks).toBe('8 8\n');
      expect(applyAttributes(DEFAULT_ATTRIBUTES, { submitQueues: 4, pollQueues: 2 }, true)).toMatchObject({
        submitQueues: 4,
        pollQueues: 2,
      });
    });

    const changes: [keyof DiskAttributes, DiskAttributes[keyof DiskAttributes]][] = [
      ['size', 8],
      ['blocksize', 512],
      ['hwQueueDepth', 128],
      ['irqmode', IrqMode.Soft],
      ['completionNsec', 5],
      ['memoryBacked', false],
      ['discard', true],
      ['fua', false],
      ['sharedTagBitmap', true],
      ['rotational', true],
      ['timeoutMs', 1000],
      ['recycle', 'inline'],
      ['mbps', 10],
      ['maxSectors', 8],
      ['badblocksOnce', true],
      ['badblocksPartialIo', true],
      ['timeout', '1,100,0,-1'],
      ['requeue', '2,50,4096,3'],
      ['initHctx', '1,100,0,1'],
      ['cacheSize', 16],
    ];

    it.each(changes)('refuses a change of %s with kind busy, naming the field', (key, value) => {
      const e = attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { [key]: value }, true));
      expect(e.kind).toBe('busy');
      expect(e.field).toBe(ATTRIBUTE_NAMES[key]);
      expect(e.message).toBe(`${ATTRIBUTE_NAMES[key]}: cannot change while the disk is powered on (EBUSY)`);
      expect(applyAttributes(DEFAULT_ATTRIBUTES, { [key]: value }, false)[key]).toBe(value);
    });

    it('accepts values equal to the current ones', () => {
      const current = applyAttributes(DEFAULT_ATTRIBUTES, { hwQueueDepth: 32, irqmode: IrqMode.Timer }, false);
      expect(applyAttributes(current, { ...current }, true)).toEqual(current);
      expect(applyAttributes(current, { hwQueueDepth: 32, submitQueues: 3 }, true)).toEqual({ ...current, submitQueues: 3 });
    });

    it('reports an invalid value as invalid, not busy', () => {
      expect(attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { hwQueueDepth: 0 }, true)).kind).toBe('invalid');
      expect(attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { submitQueues: 0 }, true))).toMatchObject({
        field: 'submit_queues',
        kind: 'invalid',
      });
    });
  });
});

describe('helpers', () => {
  it('capacitySectors is size in MiB times 2048', () => {
    expect(capacitySectors({ size: 1 })).toBe(2048);
    expect(capacitySectors(DEFAULT_ATTRIBUTES)).toBe(4096 * 2048);
  });

  it('features lists the configfs names of attributes with behaviour, plus power and index', () => {
    const f = features();
    expect(f).toEqual(expect.arrayContaining(['size', 'mbps', 'badblocks', 'timeout', 'power', 'index']));
    // Accepted and stored, no effect yet: not a feature.
    expect(f).not.toContain('poll_queues');
    expect(f).toHaveLength(Object.keys(ATTRIBUTE_NAMES).length - 1 + 2);
  });

  it('a powered-off disk answers OFFLINE', () => {
    expect(POWERED_OFF_STATUS).toBe(BlkStatus.OFFLINE);
  });

  describe('badblocks (a write of the configfs file)', () => {
    it('sets and clears inclusive sector ranges; the attribute holds the list as badblocks_show prints it', () => {
      const one = applyAttributes(DEFAULT_ATTRIBUTES, { badblocks: '+100-107' }, false);
      expect(one.badblocks).toBe('100 8\n');
      const two = applyAttributes(one, { badblocks: ' +0x10-0x17\n' }, false);
      expect(two.badblocks).toBe('16 8\n100 8\n');
      expect(applyAttributes(two, { badblocks: '-100-103' }, false).badblocks).toBe('16 8\n104 4\n');
    });

    it('takes the current list (a copy of the record) as no change', () => {
      const cur = applyAttributes(DEFAULT_ATTRIBUTES, { badblocks: '+1-2' }, false);
      expect(applyAttributes(cur, { ...cur }, true)).toEqual(cur);
      expect(applyAttributes(DEFAULT_ATTRIBUTES, { ...DEFAULT_ATTRIBUTES }, true)).toEqual(DEFAULT_ATTRIBUTES);
    });

    it.each([
      ['100-200', /want "\+START-END" to set or "-START-END" to clear/],
      ['+100', /want "\+START-END"/],
      ['+9-3', /start 9 is after end 3/],
      ['+a-3', /"a" is not a sector number/],
      ['+1-', /"" is not a sector number/],
      ['+1-99999999999999999999', /out of range/],
      [' ', /want "\+START-END"/],
    ])('refuses %j as invalid, naming badblocks, and changes nothing', (command, reason) => {
      const e = attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { badblocks: command }, true));
      expect(e.field).toBe('badblocks');
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/^badblocks: /);
      expect(e.message).toMatch(reason);
    });

    it('refuses a value that is not a string', () => {
      expect(attributeErrorOf(validate('badblocks', 5)).field).toBe('badblocks');
    });
  });

  describe('timeout, requeue, init_hctx (fault injection)', () => {
    it("default to '' (none) and are stored in canonical form", () => {
      expect([DEFAULT_ATTRIBUTES.timeout, DEFAULT_ATTRIBUTES.requeue, DEFAULT_ATTRIBUTES.initHctx]).toEqual(['', '', '']);
      const a = applyAttributes(DEFAULT_ATTRIBUTES, { timeout: ' 1, 100 ,0,-1', requeue: '10,5,0,3', initHctx: '' }, false);
      expect([a.timeout, a.requeue, a.initHctx]).toEqual(['1,100,0,-1', '10,5,0,3', '']);
      // The same value in another spelling is no change, even while powered.
      expect(applyAttributes(a, { timeout: '1,100,0,-1 ' }, true)).toEqual(a);
    });

    it.each([
      ['timeout', '1,101,0,-1', /^timeout: probability must be a percentage in 0\.\.100, got 101$/],
      ['requeue', '0,100,0,-1', /^requeue: interval must be in 1\.\./],
      ['initHctx', 'sometimes', /^init_hctx: must be "<interval>,<probability>,<space>,<times>"/],
      ['timeout', 7, /^timeout: must be a "<interval>,<probability>,<space>,<times>" string/],
    ] as const)('refuses a bad %s %j as invalid, naming the attribute', (key, value, message) => {
      const e = attributeErrorOf(() => applyAttributes(DEFAULT_ATTRIBUTES, { [key]: value } as Partial<DiskAttributes>, false));
      expect(e.kind).toBe('invalid');
      expect(e.field).toBe(ATTRIBUTE_NAMES[key]);
      expect(e.message).toMatch(message);
    });
  });
});
