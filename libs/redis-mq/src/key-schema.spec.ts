import { KeySchema } from './key-schema';

describe('KeySchema', () => {
  const keys = new KeySchema('t:');
  const perDisk = (k: KeySchema, disk: string) => [
    k.tableMeta(disk),
    k.pageIndex(disk),
    k.page(disk, 12),
    k.pagePrefix(disk),
    k.pageStage(disk, '3.9', 0),
    k.stagedPagePrefix(disk, '3.9'),
    k.requestData(disk),
    ...Object.values(k.hctxQueue(disk, 0)),
    ...Object.values(k.diskQueue(disk, 'softirq')),
    ...Object.values(k.diskQueue(disk, 'timer')),
    k.tagBudget(disk),
    k.ownerEpoch(disk),
    k.owners(disk),
    k.completionList(disk, 7),
  ];

  it('puts every key of a disk under the prefix with the disk as its first hash tag', () => {
    for (const key of perDisk(keys, 'rnullb0')) {
      expect(key.startsWith('t:blk:{rnullb0}:')).toBe(true);
      expect(/\{([^}]*)\}/.exec(key)?.[1]).toBe('rnullb0');
    }
    expect(new Set(perDisk(keys, 'rnullb0')).size).toBe(perDisk(keys, 'rnullb0').length);
  });

  it('builds completion lists as the prefix renewOwner-3.lua extends with the epoch', () => {
    expect(keys.completionList('d0', 42)).toBe(`${keys.completionListPrefix('d0')}42`);
    expect(() => keys.completionList('d0', -1)).toThrow(RangeError);
    expect(() => keys.diskQueue('d0', 'other' as 'timer')).toThrow(RangeError);
    expect(new Set([keys.diskQueue('d0', 'softirq').wait, keys.diskQueue('d0', 'timer').wait, keys.hctxQueue('d0', 0).wait]).size).toBe(3);
  });

  it('builds SCAN patterns that match exactly one disk, escaping glob characters', () => {
    expect(keys.diskPattern('rnullb0')).toBe('t:blk:{rnullb0}:*');
    // Disk names cannot hold glob characters (blk-mq's rule); prefixes can, and are escaped.
    expect(() => keys.diskPattern('a*b?[c]')).toThrow(RangeError);
    expect(new KeySchema('p[1]:').prefixPattern()).toBe('p\\[1\\]:*');
    expect(keys.requeuePattern('rnullb0')).toBe('t:bull:requeue.{rnullb0}:*');
    expect(new KeySchema('p[1]:').requeuePattern('d0')).toBe('p\\[1\\]:bull:requeue.{d0}:*');
  });

  it("names a disk's requeue queue with the disk as hash tag (its BullMQ keys share the disk's slot)", () => {
    expect(keys.requeueQueueName('d0')).toBe('requeue.{d0}');
    expect(() => keys.requeueQueueName('a{b')).toThrow(RangeError);
  });

  it('refuses disk names and prefixes that would break the hash tag or the token format', () => {
    for (const bad of ['', 'a/b', 'a{b', 'a}b', 'a b', 'x'.repeat(32)]) {
      expect(() => keys.pageIndex(bad)).toThrow(RangeError);
    }
    expect(() => new KeySchema('{x}')).toThrow(/braces/);
  });

  it('checks a disk name once and keeps its base, and refuses a bad name every time it is asked', () => {
    const schema = new KeySchema('t:');
    expect(schema.pageIndex('d0')).toBe(schema.pageIndex('d0'));
    expect(schema.diskBase('d0')).toBe('t:blk:{d0}:');
    for (let i = 0; i < 2; i++) expect(() => schema.diskBase('a{b')).toThrow(RangeError);
    // More disks than it keeps: it starts over and still builds every base right.
    for (let i = 0; i < 5000; i++) expect(schema.diskBase(`d${i}`)).toBe(`t:blk:{d${i}}:`);
  });

  it('keeps cluster-wide keys out of every disk pattern', () => {
    for (const key of [keys.diskRegistry(), keys.diskIndexCounter(), keys.diskEvents()]) {
      expect(key.startsWith('t:')).toBe(true);
      expect(key.includes('{')).toBe(false);
    }
  });

  it('gives each shared batch queue one hash slot of its own that no disk name can take', () => {
    const q = Object.values(keys.sharedQueue('softirq'));
    expect(new Set(q.map((k) => /\{([^}]*)\}/.exec(k)?.[1]))).toEqual(new Set(['/softirq']));
    expect(() => keys.page('/softirq', 0)).toThrow(RangeError);
    expect(() => keys.sharedQueue('a{b')).toThrow(RangeError);
  });
});
