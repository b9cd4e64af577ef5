// FencedPages through a write-back cache (cache_size, DESIGN I13) against a real Redis, in
// both scripts (runOwnedPageOps for local placement, runPageOps for remote): writes land
// in the cache and reads see them first; FUA writes go through; FLUSH writes everything
// back; a full cache writes pages back; dropping the cache (power off) loses what it held.
import { readDataId, requestId } from './batch-codec';
import { FencedPages, type PageFence } from './fenced-pages';
import { LeasedQueue } from './leased-queue';
import { OwnerRegistry } from './owner-registry';
import { PageStore } from './page-store';
import { dropWriteCache } from './write-cache';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('fenced-pages-cache');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'c0';
const MiB = 1024 * 1024;
const page = (fill: number) => Buffer.alloc(4096, fill);

async function setup() {
  const keys = env.keys();
  const epoch = await new OwnerRegistry(env.redis, keys).register(DISK, 60_000);
  return { keys, epoch, pages: new FencedPages(env.redis, keys), store: new PageStore(env.redis, keys) };
}

/** The store alone (what survives a power cycle): PageStore reads only `page:<p>`. */
const stored = (store: PageStore, sector: number, bytes = 4096) => store.read(DISK, sector, bytes);

describe('runOwned with a write-back cache', () => {
  it('keeps a write in the cache (reads see it, the store does not) until FLUSH writes it back', async () => {
    const { keys, epoch, pages, store } = await setup();
    const r = await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 8, bytes: 4096, data: page(1) }], MiB);
    expect(r).toEqual({ status: 'ok', results: [0], cache: { pages: 1, writtenBack: 0 } });
    expect((await pages.readPages(DISK, [{ sector: 8, bytes: 4096 }], true))[0]).toEqual(page(1));
    expect(await stored(store, 8)).toEqual(page(0));
    const f = await pages.runOwned(DISK, epoch, [{ op: 'flush', sector: 0, bytes: 0 }], MiB);
    expect(f).toEqual({ status: 'ok', results: [0], cache: { pages: 0, writtenBack: 1 } });
    expect(await stored(store, 8)).toEqual(page(1));
    expect(await env.redis.exists(keys.cacheIndex(DISK))).toBe(0);
  });

  it('writes a FUA write through, with the cached part of its page', async () => {
    const { epoch, pages, store } = await setup();
    await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 512, data: Buffer.alloc(512, 3) }], MiB);
    const r = await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 1, bytes: 512, data: Buffer.alloc(512, 4), fua: true }], MiB);
    expect(r).toMatchObject({ cache: { pages: 0, writtenBack: 1 } });
    expect(await stored(store, 0, 1024)).toEqual(Buffer.concat([Buffer.alloc(512, 3), Buffer.alloc(512, 4)]));
  });

  it('a whole-page FUA write replaces the cached page; staged writes are cached too', async () => {
    const { epoch, pages, store } = await setup();
    const four = Buffer.alloc(4 * 4096, 6);
    await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: four.length, data: four }], MiB);
    expect(await stored(store, 0)).toEqual(page(0));
    const fua = Buffer.alloc(4 * 4096, 7);
    const r = await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: fua.length, data: fua, fua: true }], MiB);
    expect(r).toMatchObject({ cache: { pages: 0 } });
    expect(await stored(store, 0, fua.length)).toEqual(fua);
    expect((await pages.readPages(DISK, [{ sector: 0, bytes: fua.length }], true))[0]).toEqual(fua);
  });

  it('in one batch of staged writes, a FUA write after a cached write of the same pages leaves only the FUA data', async () => {
    const { keys, epoch, pages, store } = await setup();
    const cached = Buffer.alloc(8 * 4096, 6);
    const fua = Buffer.alloc(8 * 4096, 7);
    const r = await pages.runOwned(
      DISK,
      epoch,
      [
        { op: 'write', sector: 0, bytes: cached.length, data: cached },
        { op: 'write', sector: 0, bytes: fua.length, data: fua, fua: true },
      ],
      MiB,
    );
    expect(r).toMatchObject({ status: 'ok', results: [0, 0], cache: { pages: 0 } });
    expect(await stored(store, 0, fua.length)).toEqual(fua);
    expect((await pages.readPages(DISK, [{ sector: 0, bytes: fua.length }], true))[0]).toEqual(fua);
    // Nothing stale left to come back at the next FLUSH.
    expect(await env.redis.scard(keys.cacheIndex(DISK))).toBe(0);
    await pages.runOwned(DISK, epoch, [{ op: 'flush', sector: 0, bytes: 0 }], MiB);
    expect(await stored(store, 0, fua.length)).toEqual(fua);
  });

  it('writes pages back when the cache is full, keeping at most cache_size', async () => {
    const { epoch, pages, store } = await setup();
    const data = Buffer.alloc(2 * MiB, 9);
    const r = await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: data.length, data }], MiB);
    expect(r).toMatchObject({ cache: { pages: 256, writtenBack: 256 } });
    expect((await pages.readPages(DISK, [{ sector: 0, bytes: data.length }], true))[0]).toEqual(data);
    expect(await store.pagesUsed(DISK)).toBe(256);
  });

  it('a discard writes the cache back first and applies to the store', async () => {
    const { epoch, pages, store } = await setup();
    await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 8192, data: Buffer.alloc(8192, 2) }], MiB);
    const r = await pages.runOwned(DISK, epoch, [{ op: 'discard', sector: 0, bytes: 4096 }], MiB);
    expect(r).toMatchObject({ cache: { pages: 0, writtenBack: 2 } });
    expect((await pages.readPages(DISK, [{ sector: 0, bytes: 8192 }], true))[0]).toEqual(Buffer.concat([page(0), page(2)]));
    expect(await stored(store, 8)).toEqual(page(2));
  });

  it('dropping the cache (power off) loses what no FLUSH covered, keeps the store', async () => {
    const { keys, epoch, pages, store } = await setup();
    await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 4096, data: page(1), fua: true }], MiB);
    await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 4096, data: page(2) }], MiB);
    expect(await dropWriteCache(env.redis, keys, DISK)).toBe(1);
    expect((await pages.readPages(DISK, [{ sector: 0, bytes: 4096 }], true))[0]).toEqual(page(1));
    expect(await stored(store, 0)).toEqual(page(1));
  });
});

describe('runFenced with a write-back cache', () => {
  async function fenced() {
    const s = await setup();
    const queue = new LeasedQueue(env.redis, 'q', s.keys.hctxQueue(DISK, 0));
    await queue.push(Buffer.from('batch'));
    const [lease] = await queue.claim(1, 60_000);
    const fence: PageFence = { leased: queue.keys.leased, member: lease.member, epoch: s.epoch };
    const id = (tag: number) => requestId(s.epoch, 0, tag, 1);
    const put = (tag: number, data: Buffer) => env.redis.hset(s.keys.requestData(DISK), id(tag), data);
    const readData = (tag: number) => env.redis.hgetBuffer(s.keys.requestData(DISK), readDataId(s.epoch, 0, tag, 1));
    return { ...s, fence, id, put, readData };
  }

  it('caches a write, reads it from the cache, writes it back at FLUSH', async () => {
    const { fence, pages, store, id, put, readData } = await fenced();
    await put(1, Buffer.alloc(1024, 5));
    const r = await pages.runFenced(
      DISK,
      fence,
      [
        { op: 'write', sector: 2, bytes: 1024, id: id(1) },
        { op: 'read', sector: 0, bytes: 4096, id: id(2) },
      ],
      MiB,
    );
    expect(r).toEqual({ status: 'ok', results: [0, 0], cache: { pages: 1, writtenBack: 0 } });
    const expected = Buffer.concat([Buffer.alloc(1024), Buffer.alloc(1024, 5), Buffer.alloc(2048)]);
    expect(await readData(2)).toEqual(expected);
    expect(await stored(store, 0)).toEqual(page(0));
    expect(await pages.runFenced(DISK, fence, [{ op: 'flush', sector: 0, bytes: 0 }], MiB)).toMatchObject({ cache: { writtenBack: 1 } });
    expect(await stored(store, 0)).toEqual(expected);
  });

  it('writes a FUA write through', async () => {
    const { fence, pages, store, id, put } = await fenced();
    await put(1, page(8));
    const r = await pages.runFenced(DISK, fence, [{ op: 'write', sector: 0, bytes: 4096, id: id(1), fua: true }], MiB);
    expect(r).toMatchObject({ cache: { pages: 0, writtenBack: 1 } });
    expect(await stored(store, 0)).toEqual(page(8));
  });
});
