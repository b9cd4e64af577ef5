import { blockSpan, partialBlocks, spanPieces } from './block-span';

describe('block spans of a misaligned request', () => {
  it('widens to whole blocks and cuts into pieces no longer than the maximum payload', () => {
    const span = blockSpan(1000n, 16 * 1024 * 1024, 4096);
    expect(span).toEqual({ start: 0n, end: 16n * 1024n * 1024n + 4096n });
    expect(spanPieces(span, 16 * 1024 * 1024)).toEqual([
      { offset: 0n, length: 16 * 1024 * 1024 },
      { offset: 16n * 1024n * 1024n, length: 4096 },
    ]);
    expect(spanPieces(blockSpan(0n, 8192, 4096), 1 << 20)).toEqual([{ offset: 0n, length: 8192 }]);
  });

  it.each([
    ['aligned', 4096n, 8192, []],
    ['partial at the start only', 4608n, 3584, [4096n]],
    ['partial at the end only', 4096n, 512, [4096n]],
    ['partial at both ends', 3584n, 1536, [0n, 4096n]],
    ['inside one block', 4608n, 512, [4096n]],
  ])('the blocks to read first: %s', (_name, offset, length, blocks) => {
    expect(partialBlocks(blockSpan(offset, length, 4096), offset, length, 4096)).toEqual(blocks);
  });
});
