import * as fc from 'fast-check';
import type { KeySchema } from './key-schema';
import { PAGE_SIZE, PageStore, SECTOR_SIZE, type PageOp } from './page-store';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('page-store');
const DISK = 'rnullb0';
let keys: KeySchema;
let store: PageStore;

beforeEach(() => {
  keys = env.keys();
  store = new PageStore(env.redis, keys);
});
afterEach(() => env.cleanup());
afterAll(() => env.close());

/** Deterministic bytes: every value 0..255 appears, including NUL, CR and LF. */
function pattern(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const SECT = (bytes: number) => bytes / SECTOR_SIZE;

describe('PageStore', () => {
  it('reads zeros where nothing was written and holds no memory', async () => {
    const data = await store.read(DISK, 12345, 3 * PAGE_SIZE + 1024);
    expect(data.equals(Buffer.alloc(3 * PAGE_SIZE + 1024))).toBe(true);
    expect(await store.bytesUsed(DISK)).toBe(0);
  });

  it('round-trips a write that crosses page boundaries, storing only touched pages', async () => {
    const data = pattern(2 * PAGE_SIZE + 1536, 7); // sectors 7..25: pages 0..3
    await store.write(DISK, 7, data);
    expect((await store.read(DISK, 7, data.length)).equals(data)).toBe(true);
    expect(await store.pagesUsed(DISK)).toBe(4);
    expect(await store.bytesUsed(DISK)).toBe(4 * PAGE_SIZE);
    const around = await store.read(DISK, 0, 4 * PAGE_SIZE);
    expect(around.subarray(0, 7 * SECTOR_SIZE).equals(Buffer.alloc(7 * SECTOR_SIZE))).toBe(true);
    expect(around.subarray(7 * SECTOR_SIZE + data.length).every((b) => b === 0)).toBe(true);
  });

  it('keeps the rest of a page on a partial write (read-modify-write in Lua)', async () => {
    const page = pattern(PAGE_SIZE, 1);
    await store.write(DISK, 8, page);
    const patch = pattern(SECTOR_SIZE, 2);
    await store.write(DISK, 8 + 3, patch);
    const want = Buffer.from(page);
    patch.copy(want, 3 * SECTOR_SIZE);
    expect((await store.read(DISK, 8, PAGE_SIZE)).equals(want)).toBe(true);
    expect(await store.pagesUsed(DISK)).toBe(1);
  });

  it('stores every page as exactly PAGE_SIZE bytes', async () => {
    await store.write(DISK, 1, pattern(SECTOR_SIZE, 3));
    expect(await env.redis.smembers(keys.pageIndex(DISK))).toEqual(['0']);
    const raw = await env.redis.getBuffer(keys.page(DISK, 0));
    expect(raw?.length).toBe(PAGE_SIZE);
  });

  it('discard frees whole pages and zeroes partial ones; bytesUsed drops', async () => {
    await store.write(DISK, 0, pattern(4 * PAGE_SIZE, 4));
    expect(await store.pagesUsed(DISK)).toBe(4);
    // Sectors 4..19: the second half of page 0, all of page 1, the first half of page 2.
    await store.discard(DISK, 4, 2 * PAGE_SIZE);
    expect(await store.pagesUsed(DISK)).toBe(3);
    const got = await store.read(DISK, 0, 4 * PAGE_SIZE);
    const want = pattern(4 * PAGE_SIZE, 4);
    want.fill(0, 4 * SECTOR_SIZE, 4 * SECTOR_SIZE + 2 * PAGE_SIZE);
    expect(got.equals(want)).toBe(true);
    // Zeroing the remaining halves frees pages 0 and 2 too.
    await store.discard(DISK, 0, 4 * SECTOR_SIZE);
    await store.writeZeroes(DISK, 20, 4 * SECTOR_SIZE);
    expect(await store.pagesUsed(DISK)).toBe(1);
    expect(await store.bytesUsed(DISK)).toBe(PAGE_SIZE);
  });

  it('write-zeroes of a whole range stores nothing', async () => {
    await store.writeZeroes(DISK, 0, 8 * PAGE_SIZE);
    expect(await store.bytesUsed(DISK)).toBe(0);
    expect((await store.read(DISK, 0, 8 * PAGE_SIZE)).every((b) => b === 0)).toBe(true);
  });

  it('runs a batch in order: each op sees the ones before it', async () => {
    const a = pattern(PAGE_SIZE, 5);
    const b = pattern(SECTOR_SIZE, 6);
    const ops: PageOp[] = [
      { op: 'read', sector: 0, len: PAGE_SIZE },
      { op: 'write', sector: 0, data: a },
      { op: 'read', sector: 0, len: PAGE_SIZE },
      { op: 'write', sector: 1, data: b },
      { op: 'read', sector: 0, len: 2 * SECTOR_SIZE },
      { op: 'discard', sector: 0, len: PAGE_SIZE },
      { op: 'read', sector: 0, len: PAGE_SIZE },
    ];
    const [r0, w1, r2, , r4, d5, r6] = await store.apply(DISK, ops);
    expect(r0!.equals(Buffer.alloc(PAGE_SIZE))).toBe(true);
    expect(w1).toBeNull();
    expect(d5).toBeNull();
    expect(r2!.equals(a)).toBe(true);
    expect(r4!.equals(Buffer.concat([a.subarray(0, SECTOR_SIZE), b]))).toBe(true);
    expect(r6!.equals(Buffer.alloc(PAGE_SIZE))).toBe(true);
    expect(await store.pagesUsed(DISK)).toBe(0);
  });

  it('round-trips IO of 1 MiB and 5 MiB (over 1000 pages per script) at unaligned offsets', async () => {
    const data = pattern(1024 * 1024, 9);
    await store.write(DISK, 3, data);
    expect((await store.read(DISK, 3, data.length)).equals(data)).toBe(true);
    expect(await store.pagesUsed(DISK)).toBe(257);
    const big = pattern(5 * 1024 * 1024, 14);
    await store.write(DISK, 1001, big);
    expect((await store.read(DISK, 1001, big.length)).equals(big)).toBe(true);
    await store.discard(DISK, 0, 8 * 1024 * 1024);
    expect(await store.pagesUsed(DISK)).toBe(0);
  });

  it('rejects misaligned or negative ranges before touching Redis', async () => {
    await expect(store.read(DISK, 0, 100)).rejects.toThrow(/multiple of 512/);
    await expect(store.write(DISK, -1, Buffer.alloc(SECTOR_SIZE))).rejects.toThrow(/bad sector/);
    await expect(store.write(DISK, 0, Buffer.alloc(513))).rejects.toThrow(RangeError);
    await expect(store.discard(DISK, 1.5, SECTOR_SIZE)).rejects.toThrow(RangeError);
    await expect(store.read('bad/disk', 0, SECTOR_SIZE)).rejects.toThrow(RangeError);
    expect(await env.countKeys(keys)).toBe(0);
  });

  it('destroy frees every page of the disk and no other disk', async () => {
    await store.write(DISK, 0, pattern(8 * PAGE_SIZE, 12));
    await store.write('other', 0, pattern(PAGE_SIZE, 13));
    await store.destroy(DISK);
    expect(await store.bytesUsed(DISK)).toBe(0);
    expect(await store.bytesUsed('other')).toBe(PAGE_SIZE);
    expect((await store.read(DISK, 0, PAGE_SIZE)).every((b) => b === 0)).toBe(true);
  });

  it('matches an in-memory disk over a seeded random sequence of batched IO', async () => {
    const SECTORS = 48 * SECT(PAGE_SIZE); // 48 pages
    const model = Buffer.alloc(SECTORS * SECTOR_SIZE);
    const stored = new Set<number>();
    const opArb = fc.record({
      kind: fc.constantFrom('write', 'write', 'read', 'read', 'discard', 'writeZeroes'),
      sector: fc.integer({ min: 0, max: SECTORS - 1 }),
      sectors: fc.integer({ min: 1, max: 3 * SECT(PAGE_SIZE) }),
      seed: fc.integer({ min: 1, max: 0x7fffffff }),
    });
    const [batches] = fc.sample(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 120, maxLength: 120 }), {
      seed: 20240601,
      numRuns: 1,
    });
    let reads = 0;
    for (const batch of batches) {
      const ops: PageOp[] = [];
      const expected: (Buffer | null)[] = [];
      for (const o of batch) {
        const sectors = Math.min(o.sectors, SECTORS - o.sector);
        const off = o.sector * SECTOR_SIZE;
        const len = sectors * SECTOR_SIZE;
        const pages = [Math.floor(off / PAGE_SIZE), Math.floor((off + len - 1) / PAGE_SIZE)];
        if (o.kind === 'write') {
          const data = pattern(len, o.seed);
          ops.push({ op: 'write', sector: o.sector, data });
          data.copy(model, off);
          for (let p = pages[0]; p <= pages[1]; p++) stored.add(p);
          expected.push(null);
        } else if (o.kind === 'read') {
          ops.push({ op: 'read', sector: o.sector, len });
          expected.push(Buffer.from(model.subarray(off, off + len)));
          reads++;
        } else {
          ops.push({ op: o.kind as 'discard' | 'writeZeroes', sector: o.sector, len });
          model.fill(0, off, off + len);
          for (let p = pages[0]; p <= pages[1]; p++) {
            if (model.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE).every((b) => b === 0)) stored.delete(p);
          }
          expected.push(null);
        }
      }
      const got = await store.apply(DISK, ops);
      got.forEach((g, i) => {
        if (expected[i] === null) expect(g).toBeNull();
        else if (!g!.equals(expected[i]!)) throw new Error(`read ${JSON.stringify(batch[i])} differs from the model`);
      });
      expect(await store.pagesUsed(DISK)).toBe(stored.size);
    }
    expect(reads).toBeGreaterThan(100);
    expect((await store.read(DISK, 0, model.length)).equals(model)).toBe(true);
  });
});
