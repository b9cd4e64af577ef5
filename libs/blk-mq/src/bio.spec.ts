// Bio, BioIterator and Segment: page-bounded segments, readable strings, copies.

import { Bio, PAGE_SIZE, Segment } from './bio';
import { ReqFlag, ReqOp, opIsWrite, reqFlagsName, reqOpName } from './req-op';

describe('Bio and its segments', () => {
  it('walks a page-aligned buffer one page per segment, sectors advancing', () => {
    const buffer = new Uint8Array(3 * PAGE_SIZE);
    const bio = new Bio({ op: ReqOp.WRITE, sector: 8, bytes: buffer.length, buffer, flags: ReqFlag.FUA });
    expect([...bio].map(String)).toEqual([
      'Segment{sector 8, 4096 B @ page 0+0}',
      'Segment{sector 16, 4096 B @ page 1+0}',
      'Segment{sector 24, 4096 B @ page 2+0}',
    ]);
    expect(bio.toString()).toBe('Bio{WRITE sector 8, 12288 B, 3 segments, FUA}');
    expect([bio.sectors, bio.endSector]).toEqual([24, 32]);
  });

  it('numbers pages from the start of the submitter buffer and never crosses one', () => {
    const buffer = new Uint8Array(4 * PAGE_SIZE);
    const bio = new Bio({ op: ReqOp.READ, sector: 100, bytes: 2 * PAGE_SIZE, buffer, bufferOffset: PAGE_SIZE + 1024 });
    const it = bio.segments();
    expect(it.remaining).toBe(8192);
    expect(String(it.next().value)).toBe('Segment{sector 100, 3072 B @ page 1+1024}');
    expect(it.remaining).toBe(5120);
    expect([...it].map(String)).toEqual(['Segment{sector 106, 4096 B @ page 2+0}', 'Segment{sector 114, 1024 B @ page 3+0}']);
    expect(it.next().done).toBe(true);
  });

  it('moves data in and out of a segment without copying the buffer', () => {
    const buffer = new Uint8Array(PAGE_SIZE * 2);
    const [, seg] = [...new Bio({ op: ReqOp.READ, sector: 0, bytes: buffer.length, buffer })];
    seg.copyFromPage(new Uint8Array(PAGE_SIZE).fill(7));
    expect(buffer[PAGE_SIZE]).toBe(7);
    expect(buffer[0]).toBe(0);
    const dst = new Uint8Array(PAGE_SIZE + 10);
    seg.copyToPage(dst, 10);
    expect(dst[10 + PAGE_SIZE - 1]).toBe(7);
    seg.zero();
    expect(buffer[PAGE_SIZE]).toBe(0);
    expect(() => seg.copyToPage(new Uint8Array(100))).toThrow(/overruns a 100 B destination/);
    expect(seg.data.buffer).toBe(buffer.buffer);
  });

  it('gives ops without data no segments and refuses a data op without a buffer', () => {
    const discard = new Bio({ op: ReqOp.DISCARD, sector: 0, bytes: 8192 });
    expect([...discard]).toEqual([]);
    expect(discard.segments().remaining).toBe(0);
    expect(discard.data).toBeUndefined();
    expect(() => new Bio({ op: ReqOp.WRITE, sector: 0, bytes: 512 })).toThrow(/WRITE bio of 512 B needs a buffer/);
    expect(new Segment(1, 512, 0, 0, new Uint8Array(512)).toString()).toBe('Segment{sector 1, 512 B @ page 0+0}');
  });

  it('counts the segments it yields', () => {
    const buffer = new Uint8Array(4 * PAGE_SIZE);
    for (const [offset, bytes] of [
      [0, 512],
      [0, PAGE_SIZE],
      [3584, 1024],
      [512, 2 * PAGE_SIZE],
      [0, 4 * PAGE_SIZE],
    ]) {
      const bio = new Bio({ op: ReqOp.READ, sector: 0, bytes, buffer, bufferOffset: offset });
      expect(bio.segmentCount).toBe([...bio].length);
    }
    expect(new Bio({ op: ReqOp.DISCARD, sector: 0, bytes: 4096 }).segmentCount).toBe(0);
  });

  it('names ops and flags the kernel way', () => {
    expect([ReqOp.READ, ReqOp.WRITE, ReqOp.FLUSH, ReqOp.DISCARD, ReqOp.WRITE_ZEROES]).toEqual([0, 1, 2, 3, 9]);
    expect(reqOpName(ReqOp.WRITE_ZEROES)).toBe('WRITE_ZEROES');
    expect(reqFlagsName(ReqFlag.FUA | ReqFlag.PREFLUSH)).toBe('FUA|PREFLUSH');
    expect(reqFlagsName(0)).toBe('NONE');
    expect([opIsWrite(ReqOp.READ), opIsWrite(ReqOp.DISCARD)]).toEqual([false, true]);
  });
});
