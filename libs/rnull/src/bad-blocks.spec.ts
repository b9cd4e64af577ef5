// The bad sector table (block/badblocks.c as null_blk uses it): parsing the configfs
// write, setting, clearing, checking and showing ranges.
import { BadBlockCopy } from './bad-block-copy';
import { applyBadBlocksCommand, BAD_BLOCK_ENTRY_MAX_SECTORS, BadBlocks, MAX_BAD_BLOCK_ENTRIES, parseBadBlocksCommand } from './bad-blocks';

const table = (...commands: string[]) => {
  const bb = new BadBlocks();
  for (const c of commands) bb.apply(parseBadBlocksCommand(c));
  return bb;
};

describe('parseBadBlocksCommand (nullb_device_badblocks_store)', () => {
  it('reads "+START-END" and "-START-END", whitespace stripped, as kstrtoull base 0 reads numbers', () => {
    expect(parseBadBlocksCommand('+0-7')).toEqual({ action: '+', start: 0, end: 7 });
    expect(parseBadBlocksCommand('  -8-8\n')).toEqual({ action: '-', start: 8, end: 8 });
    expect(parseBadBlocksCommand('+0x10-0X1f')).toEqual({ action: '+', start: 16, end: 31 });
    expect(parseBadBlocksCommand('+010-017')).toEqual({ action: '+', start: 8, end: 15 });
    expect(parseBadBlocksCommand('++1-+2')).toEqual({ action: '+', start: 1, end: 2 });
  });

  it.each(['', ' ', '0-7', '*0-7', '+7', '+-7', '+1-2-3', '+1.5-2', '+08-9', '+0x-1', '+ 1-2'])('refuses %j', (text) => {
    expect(() => parseBadBlocksCommand(text)).toThrow(RangeError);
  });

  it('refuses START after END, and sectors beyond 2^53', () => {
    expect(() => parseBadBlocksCommand('+8-7')).toThrow('start 8 is after end 7');
    expect(() => parseBadBlocksCommand('+0-9007199254740993')).toThrow('out of range');
  });
});

describe('BadBlocks', () => {
  it('merges overlapping and adjacent ranges and keeps them sorted', () => {
    expect(table('+100-199', '+0-9', '+10-19', '+150-250').show()).toBe('0 20\n100 151\n');
    expect(table('+5-5', '+7-7', '+6-6').show()).toBe('5 3\n');
    expect(table('+0-3', '+10-13', '+2-11').show()).toBe('0 14\n');
  });

  it('clears inside a range (splitting it), across ranges, and nothing outside', () => {
    expect(table('+0-99', '-10-19').show()).toBe('0 10\n20 80\n');
    expect(table('+0-9', '+20-29', '-5-24').show()).toBe('0 5\n25 5\n');
    expect(table('+0-9', '-50-60').show()).toBe('0 10\n');
    expect(table('+0-9', '-0-9').empty).toBe(true);
  });

  it('shows "START LENGTH" lines, an entry per 512 sectors at most (BB_MAX_LEN), "" when none', () => {
    expect(new BadBlocks().show()).toBe('');
    expect(table('+0-1199').show()).toBe(`0 512\n512 512\n1024 176\n`);
    expect(BAD_BLOCK_ENTRY_MAX_SECTORS).toBe(512);
  });

  it('reads its own show() back', () => {
    const bb = table('+0-1199', '+4096-4100', '+9000-9000');
    expect(BadBlocks.fromShown(bb.show()).show()).toBe(bb.show());
    expect(() => BadBlocks.fromShown('12\n')).toThrow(RangeError);
  });

  it('check finds the first entry a range touches (badblocks_check: first_bad, bad_sectors)', () => {
    const bb = table('+16-23', '+100-107');
    expect(bb.check(0, 16)).toBeUndefined();
    expect(bb.check(24, 76)).toBeUndefined();
    expect(bb.check(8, 16)).toEqual({ firstBad: 16, badSectors: 8 });
    // The entry starts before the IO: first_bad is the entry's start.
    expect(bb.check(20, 100)).toEqual({ firstBad: 16, badSectors: 8 });
    expect(bb.check(107, 1)).toEqual({ firstBad: 100, badSectors: 8 });
    expect(bb.check(0, 0)).toBeUndefined();
    // A long range: the 512-sector entry that holds the first touched sector.
    expect(table('+0-1199').check(600, 8)).toEqual({ firstBad: 512, badSectors: 512 });
    expect(table('+0-1199').check(1100, 8)).toEqual({ firstBad: 1024, badSectors: 176 });
  });

  it('once: clearing the entry a check found leaves the others', () => {
    const bb = table('+16-23', '+100-107');
    const hit = bb.check(0, 200)!;
    bb.clear(hit.firstBad, hit.firstBad + hit.badSectors - 1);
    expect(bb.show()).toBe('100 8\n');
    expect(bb.check(0, 50)).toBeUndefined();
  });

  it(`refuses a set that would need more than ${MAX_BAD_BLOCK_ENTRIES} entries, changing nothing`, () => {
    const bb = new BadBlocks();
    for (let i = 0; i < MAX_BAD_BLOCK_ENTRIES; i++) bb.apply({ action: '+', start: i * 10, end: i * 10 });
    const before = bb.show();
    expect(() => bb.apply({ action: '+', start: 100_000, end: 100_000 })).toThrow(/at most 512 entries/);
    expect(bb.show()).toBe(before);
    // Growing an existing entry needs no new one.
    bb.apply({ action: '+', start: 0, end: 1 });
  });

  it('applyBadBlocksCommand turns a shown list and a write into the next list', () => {
    expect(applyBadBlocksCommand('', '+8-15')).toBe('8 8\n');
    expect(applyBadBlocksCommand('8 8\n', '-8-11')).toBe('12 4\n');
  });
});

describe('BadBlockCopy (one driver process copy of the list)', () => {
  it('follows the registry list, keeping a once-cleared entry cleared while the list still holds it', () => {
    const copy = new BadBlockCopy('8 8\n100 8\n');
    expect(copy.check(0, 16, true)).toEqual({ firstBad: 8, badSectors: 8 });
    expect(copy.show()).toBe('100 8\n');
    copy.follow('8 8\n100 8\n200 1\n'); // a later write of the file, before the clear landed
    expect(copy.show()).toBe('100 8\n200 1\n');
    copy.follow('100 8\n200 1\n'); // the clear landed: no longer pending
    copy.follow('8 8\n100 8\n200 1\n'); // the range set bad again
    expect(copy.show()).toBe('8 8\n100 8\n200 1\n');
  });

  it('drops a pending clear once settled, and checks without once change nothing', () => {
    const copy = new BadBlockCopy('8 8\n');
    expect(copy.check(8, 1, false)).toEqual({ firstBad: 8, badSectors: 8 });
    expect(copy.show()).toBe('8 8\n');
    copy.check(8, 1, true);
    copy.settle(8);
    copy.follow('0 1\n8 8\n'); // a changed list that still holds 8..15: taken as it is
    expect(copy.show()).toBe('0 1\n8 8\n');
  });
});
