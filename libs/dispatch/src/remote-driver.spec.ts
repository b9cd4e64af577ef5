import { batchEnds } from './remote-driver';

describe('batchEnds (how queueRqs splits a plug batch by the bytes it moves)', () => {
  const MiB = 1024 * 1024;
  it('keeps requests within the limit in one batch', () => {
    expect(batchEnds([4096, 4096, 4096], 4 * MiB)).toEqual([3]);
  });
  it('starts a new batch where the next request would pass the limit', () => {
    expect(batchEnds([MiB, MiB, MiB, MiB, MiB], 4 * MiB)).toEqual([4, 5]);
    expect(batchEnds([3 * MiB, 2 * MiB, 2 * MiB, 0], 4 * MiB)).toEqual([1, 4]);
    expect(batchEnds([3 * MiB, 2 * MiB, 3 * MiB], 4 * MiB)).toEqual([1, 2, 3]);
  });
  it('gives a request bigger than the limit a batch of its own', () => {
    expect(batchEnds([8 * MiB, 4096, 8 * MiB], 4 * MiB)).toEqual([1, 2, 3]);
  });
  it('counts requests that move no bytes (discards) as free', () => {
    expect(batchEnds([4 * MiB, 0, 0], 4 * MiB)).toEqual([3]);
  });
  it('makes no batch of no requests', () => {
    expect(batchEnds([], 4 * MiB)).toEqual([]);
  });
});
