// FencedPages (runPageOps-4.lua) against a real Redis: the lease and owner fences change
// nothing (or only drop payloads), read after write, partial pages, per-op payload
// failures, payload fields deleted after the copy, a 512 MiB write zeroes of a sparse disk.
import { readDataId, requestId } from './batch-codec';
import { FencedPages, type PageFence, STAGE_MIN_PAGES } from './fenced-pages';
import { LeasedQueue } from './leased-queue';
import { scriptsFor } from './lua-scripts';
import { OwnerRegistry } from './owner-registry';
import { PageStore } from './page-store';
import { ScriptCode } from './script-errors';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('fenced-pages');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'd0';

async function setup() {
  const keys = env.keys();
  const epoch = await new OwnerRegistry(env.redis, keys).register(DISK, 60_000);
  const queue = new LeasedQueue(env.redis, 'q', keys.hctxQueue(DISK, 0));
  await queue.push(Buffer.from('batch'));
  const [lease] = await queue.claim(1, 60_000);
  const fence: PageFence = { leased: queue.keys.leased, member: lease.member, epoch };
  const stage = (tag: number, data: Buffer) => env.redis.hset(keys.requestData(DISK), requestId(epoch, 0, tag, 1), data);
  const readData = (tag: number) => env.redis.hgetBuffer(keys.requestData(DISK), readDataId(epoch, 0, tag, 1));
  return {
    keys,
    epoch,
    queue,
    lease,
    fence,
    stage,
    readData,
    pages: new FencedPages(env.redis, keys),
    store: new PageStore(env.redis, keys),
  };
}

const id = (epoch: number, tag: number) => requestId(epoch, 0, tag, 1);

describe('FencedPages.runFenced', () => {
  it('copies writes in (their payloads stay for a second delivery; endBatch deletes them), and copies reads out, partial pages included', async () => {
    const { keys, epoch, fence, stage, readData, pages, store } = await setup();
    const a = Buffer.alloc(1024, 0xaa);
    const b = Buffer.alloc(8192, 0xbb);
    await stage(1, a);
    await stage(2, b);
    const result = await pages.runFenced(DISK, fence, [
      { op: 'write', sector: 1, bytes: 1024, id: id(epoch, 1) },
      { op: 'write', sector: 12, bytes: 8192, id: id(epoch, 2) },
      { op: 'read', sector: 0, bytes: 4096, id: id(epoch, 3) },
      { op: 'read', sector: 14, bytes: 1024, id: id(epoch, 4) },
    ]);
    expect(result).toEqual({ status: 'ok', results: [0, 0, 0, 0] });
    expect(await readData(3)).toEqual(Buffer.concat([Buffer.alloc(512), a, Buffer.alloc(2560)]));
    expect(await readData(4)).toEqual(Buffer.alloc(1024, 0xbb));
    expect(await env.redis.hexists(keys.requestData(DISK), id(epoch, 1))).toBe(1);
    expect(await env.redis.hexists(keys.requestData(DISK), id(epoch, 2))).toBe(1);
    expect(await store.read(DISK, 12, 8192)).toEqual(b);
    expect(await store.pagesUsed(DISK)).toBe(4);
  });

  it('a batch delivered again (its first run lost the lease before the end) writes the same data again', async () => {
    const { keys, epoch, fence, stage, pages, store } = await setup();
    await stage(1, Buffer.alloc(4096, 0x5a));
    const ops = [{ op: 'write' as const, sector: 8, bytes: 4096, id: id(epoch, 1) }];
    expect(await pages.runFenced(DISK, fence, ops)).toEqual({ status: 'ok', results: [0] });
    await store.write(DISK, 8, Buffer.alloc(4096, 0x11)); // anything between the two runs
    expect(await pages.runFenced(DISK, fence, ops)).toEqual({ status: 'ok', results: [0] });
    expect(await store.read(DISK, 8, 4096)).toEqual(Buffer.alloc(4096, 0x5a));
    expect(await env.redis.hlen(keys.requestData(DISK))).toBe(1);
  });

  it('fails only the request whose payload is missing or mis-sized', async () => {
    const { keys, epoch, fence, stage, pages, store } = await setup();
    await stage(1, Buffer.alloc(100, 1));
    await stage(2, Buffer.alloc(512, 2));
    const result = await pages.runFenced(DISK, fence, [
      { op: 'write', sector: 0, bytes: 512, id: id(epoch, 1) },
      { op: 'write', sector: 8, bytes: 512, id: id(epoch, 9) },
      { op: 'write', sector: 16, bytes: 512, id: id(epoch, 2) },
    ]);
    expect(result).toEqual({ status: 'ok', results: [ScriptCode.RequestDataSize, ScriptCode.NoRequestData, 0] });
    expect(await store.pagesUsed(DISK)).toBe(1);
    expect(await store.read(DISK, 16, 512)).toEqual(Buffer.alloc(512, 2));
    // The mis-sized payload is deleted; the good one stays until its end.
    expect(await env.redis.hkeysBuffer(keys.requestData(DISK))).toEqual([id(epoch, 2)]);
  });

  it("a write of fewer bytes than its payload writes the payload's prefix (a driver's partial IO)", async () => {
    const { epoch, fence, stage, pages, store } = await setup();
    await stage(1, Buffer.concat([Buffer.alloc(512, 7), Buffer.alloc(512, 8)]));
    const result = await pages.runFenced(DISK, fence, [{ op: 'write', sector: 0, bytes: 512, id: id(epoch, 1) }]);
    expect(result).toEqual({ status: 'ok', results: [0] });
    expect(await store.read(DISK, 0, 1024)).toEqual(Buffer.concat([Buffer.alloc(512, 7), Buffer.alloc(512, 0)]));
  });

  it('a lost lease changes nothing', async () => {
    const { keys, epoch, queue, lease, fence, stage, pages } = await setup();
    await stage(1, Buffer.alloc(512, 1));
    await queue.ack([lease.member]);
    const ops = [
      { op: 'write' as const, sector: 0, bytes: 512, id: id(epoch, 1) },
      { op: 'read' as const, sector: 0, bytes: 512, id: id(epoch, 2) },
    ];
    expect(await pages.runFenced(DISK, fence, ops)).toEqual({ status: 'leaseLost' });
    expect(await env.redis.hlen(keys.requestData(DISK))).toBe(1);
    expect(await env.redis.exists(keys.pageIndex(DISK), keys.page(DISK, 0))).toBe(0);
  });

  it("a gone owner moves nothing and drops the batch's write payloads", async () => {
    const { keys, epoch, fence, stage, pages, store } = await setup();
    await store.write(DISK, 0, Buffer.alloc(4096, 7));
    await stage(1, Buffer.alloc(512, 1));
    await env.redis.zrem(keys.owners(DISK), epoch);
    const ops = [
      { op: 'write' as const, sector: 0, bytes: 512, id: id(epoch, 1) },
      { op: 'read' as const, sector: 0, bytes: 512, id: id(epoch, 2) },
      { op: 'discard' as const, sector: 0, bytes: 4096 },
    ];
    expect(await pages.runFenced(DISK, fence, ops)).toEqual({ status: 'ownerGone' });
    expect(await env.redis.exists(keys.requestData(DISK))).toBe(0);
    expect(await store.read(DISK, 0, 4096)).toEqual(Buffer.alloc(4096, 7));
  });

  it('a 512 MiB write zeroes of a sparse disk frees the pages inside, zeroes the partial ends, keeps the rest', async () => {
    const { epoch, fence, stage, pages, store } = await setup();
    const PAGES = (512 * 1024 * 1024) / 4096;
    const full = Buffer.alloc(4096, 9);
    for (const p of [0, 1000, PAGES, PAGES + 5]) await store.write(DISK, p * 8, full);
    await stage(1, full);
    await stage(2, full);
    const result = await pages.runFenced(DISK, fence, [
      { op: 'write', sector: 5000 * 8, bytes: 4096, id: id(epoch, 1) },
      { op: 'writeZeroes', sector: 4, bytes: 512 * 1024 * 1024 },
      { op: 'write', sector: 7000 * 8, bytes: 4096, id: id(epoch, 2) },
      { op: 'discard', sector: 0, bytes: 2048 },
    ]);
    expect(result).toEqual({ status: 'ok', results: [0, 0, 0, 0] });
    expect(await store.read(DISK, 0, 4096)).toEqual(Buffer.alloc(4096));
    expect(await store.read(DISK, PAGES * 8, 4096)).toEqual(Buffer.concat([Buffer.alloc(2048), Buffer.alloc(2048, 9)]));
    expect(await store.read(DISK, (PAGES + 5) * 8, 4096)).toEqual(full);
    expect(await store.read(DISK, 7000 * 8, 4096)).toEqual(full);
    expect(await store.pagesUsed(DISK)).toBe(3);
  });

  it('a discard of 16 TiB visits stored pages only (a walk of its 2^32 pages would not finish)', async () => {
    const { fence, pages, store } = await setup();
    const TiB = 2 ** 40;
    await store.write(DISK, 8, Buffer.alloc(4096, 1));
    await store.write(DISK, (16 * TiB) / 512, Buffer.alloc(4096, 2));
    expect(await pages.runFenced(DISK, fence, [{ op: 'discard', sector: 0, bytes: 16 * TiB }])).toEqual({ status: 'ok', results: [0] });
    expect(await store.pagesUsed(DISK)).toBe(1);
    expect(await store.read(DISK, (16 * TiB) / 512, 4096)).toEqual(Buffer.alloc(4096, 2));
  });

  it('refuses malformed ops before sending anything', async () => {
    const { fence, pages } = await setup();
    await expect(pages.runFenced(DISK, fence, [{ op: 'read', sector: 0, bytes: 100, id: Buffer.alloc(12) }])).rejects.toThrow(
      /bad length 100/,
    );
    await expect(pages.runFenced(DISK, fence, [{ op: 'write', sector: 0, bytes: 512, id: Buffer.alloc(3) }])).rejects.toThrow(
      /12-byte request id/,
    );
    await expect(pages.runFenced(DISK, fence, [{ op: 'read', sector: -1, bytes: 512, id: Buffer.alloc(12) }])).rejects.toThrow(
      /bad sector/,
    );
  });
});

describe('FencedPages.runOwned', () => {
  it('writes the bytes it is given, partial pages included, and zeroes', async () => {
    const { epoch, pages, store } = await setup();
    const a = Buffer.alloc(1024, 0xaa);
    const b = Buffer.alloc(8192, 0xbb);
    const result = await pages.runOwned(DISK, epoch, [
      { op: 'write', sector: 1, bytes: 1024, data: a },
      { op: 'write', sector: 16, bytes: 8192, data: b },
      { op: 'writeZeroes', sector: 16, bytes: 4096 },
    ]);
    expect(result).toEqual({ status: 'ok', results: [0, 0, 0] });
    const [first, zeroed] = await pages.readPages(DISK, [
      { sector: 0, bytes: 4096 },
      { sector: 16, bytes: 8192 },
    ]);
    expect(first).toEqual(Buffer.concat([Buffer.alloc(512), a, Buffer.alloc(4096 - 1536)]));
    expect(zeroed).toEqual(Buffer.concat([Buffer.alloc(4096), Buffer.alloc(4096, 0xbb)]));
    expect(await store.read(DISK, 24, 4096)).toEqual(Buffer.alloc(4096, 0xbb));
  });

  const stageKeysOf = async (keys: ReturnType<typeof env.keys>) => (await env.redis.keys(`${keys.diskBase(DISK)}stage:*`)).length;

  it('stages whole-page writes and RENAMEs them into place: later ops of the batch see them, no stage key is left (I8)', async () => {
    const { keys, epoch, pages, store } = await setup();
    const two = Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(4096, 2)]);
    const patch = Buffer.alloc(512, 9);
    const result = await pages.runOwned(DISK, epoch, [
      { op: 'write', sector: 0, bytes: 8192, data: two }, // staged: pages 0 and 1
      { op: 'write', sector: 1, bytes: 512, data: patch }, // rewrites part of staged page 0
      { op: 'write', sector: 8, bytes: 4096, data: Buffer.alloc(4096, 3) }, // staged again over page 1
      { op: 'write', sector: 16, bytes: 4096, data: Buffer.alloc(4096, 4) }, // staged page 2 ...
      { op: 'discard', sector: 16, bytes: 4096 }, // ... then freed
    ]);
    expect(result).toEqual({ status: 'ok', results: [0, 0, 0, 0, 0] });
    const page0 = Buffer.alloc(4096, 1);
    patch.copy(page0, 512);
    expect(await store.read(DISK, 0, 12288)).toEqual(Buffer.concat([page0, Buffer.alloc(4096, 3), Buffer.alloc(4096)]));
    expect((await env.redis.smembers(keys.pageIndex(DISK))).sort()).toEqual(['0', '1']);
    expect(await env.redis.exists(keys.page(DISK, 2))).toBe(0);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('a batch of staged writes only: pages move in op order, the index lists each once, no stage key is left', async () => {
    const { keys, epoch, pages, store } = await setup();
    await store.write(DISK, 0, Buffer.alloc(4096, 8)); // page 0 exists: overwritten
    const result = await pages.runOwned(DISK, epoch, [
      { op: 'write', sector: 0, bytes: 12288, data: Buffer.concat([1, 2, 3].map((b) => Buffer.alloc(4096, b))) },
      { op: 'write', sector: 8, bytes: 4096, data: Buffer.alloc(4096, 9) }, // page 1 again: the later op wins
    ]);
    expect(result).toEqual({ status: 'ok', results: [0, 0] });
    expect(await store.read(DISK, 0, 12288)).toEqual(Buffer.concat([1, 9, 3].map((b) => Buffer.alloc(4096, b))));
    expect((await env.redis.smembers(keys.pageIndex(DISK))).sort()).toEqual(['0', '1', '2']);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('sends the bytes of a batch under STAGE_MIN_PAGES whole pages with the call: no MSET', async () => {
    const { keys, epoch, pages, store } = await setup();
    const sent = jest.spyOn(env.redis, 'sendCommand');
    const msets = () => sent.mock.calls.filter(([c]) => c.name === 'mset').length;
    const bytes = (STAGE_MIN_PAGES - 1) * 4096;
    try {
      expect(await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 8, bytes, data: Buffer.alloc(bytes, 6) }])).toEqual({
        status: 'ok',
        results: [0],
      });
      expect(msets()).toBe(0);
      expect(
        await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 8, bytes: bytes + 4096, data: Buffer.alloc(bytes + 4096, 7) }]),
      ).toEqual({
        status: 'ok',
        results: [0],
      });
      expect(msets()).toBe(1);
    } finally {
      sent.mockRestore();
    }
    expect(await store.read(DISK, 8, 4096)).toEqual(Buffer.alloc(4096, 7));
    expect(await store.pagesUsed(DISK)).toBe(STAGE_MIN_PAGES);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('fails a run whose staged pages are missing without moving anything', async () => {
    const { keys, epoch, store } = await setup();
    await env.redis.set(`${keys.pageStage(DISK, 'x', 0)}0`, Buffer.alloc(4096, 5));
    const args = [epoch, 4096, keys.pagePrefix(DISK), 0, '', '', '', 'S', 0, 8192, keys.pageStage(DISK, 'x', 0)];
    const scriptKeys = [keys.pageIndex(DISK), keys.owners(DISK), keys.zones(DISK)];
    await expect(scriptsFor(env.redis).run('runOwnedPageOps', scriptKeys, args)).rejects.toThrow(/1 of 2 staged pages are missing/);
    expect(await store.pagesUsed(DISK)).toBe(0);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('fails a moveStagedPages run whose staged pages are missing without moving anything', async () => {
    const { keys, epoch, store } = await setup();
    const stage = keys.stagedPagePrefix(DISK, 'x');
    await env.redis.set(`${stage}3`, Buffer.alloc(4096, 5));
    const scriptKeys = [keys.pageIndex(DISK), keys.owners(DISK)];
    await expect(scriptsFor(env.redis).run('moveStagedPages', scriptKeys, [epoch, keys.pagePrefix(DISK), stage, 3, 4])).rejects.toThrow(
      /1 of 2 staged pages are missing/,
    );
    expect(await store.pagesUsed(DISK)).toBe(0);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('runs a batch of whole-page writes without a cache through moveStagedPages, anything else through runOwnedPageOps', async () => {
    const { epoch, pages, store } = await setup();
    const run = jest.spyOn(scriptsFor(env.redis), 'run');
    const four = Buffer.alloc(4 * 4096, 4);
    try {
      await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: four.length, data: four }]);
      await pages.runOwned(DISK, epoch, [
        { op: 'write', sector: 64, bytes: four.length, data: four },
        { op: 'discard', sector: 0, bytes: 4096 },
      ]);
      await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 128, bytes: four.length, data: four }], 1 << 20);
      expect(run.mock.calls.map(([name]) => name)).toEqual(['moveStagedPages', 'runOwnedPageOps', 'runOwnedPageOps']);
    } finally {
      run.mockRestore();
    }
    expect(await store.read(DISK, 0, 4096)).toEqual(Buffer.alloc(4096));
    expect(await store.read(DISK, 8, 3 * 4096)).toEqual(Buffer.alloc(3 * 4096, 4));
    expect(await store.read(DISK, 64, four.length)).toEqual(four);
  });

  it('moves nothing for an owner epoch that is gone (I4)', async () => {
    const { keys, epoch, pages, store } = await setup();
    await new OwnerRegistry(env.redis, keys).unregister(DISK, epoch);
    // Four pages: staged (STAGE_MIN_PAGES), so the refused run must delete its stage keys.
    const result = await pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 16384, data: Buffer.alloc(16384, 1) }]);
    expect(result).toEqual({ status: 'ownerGone' });
    expect(await store.read(DISK, 0, 16384)).toEqual(Buffer.alloc(16384));
    expect(await store.pagesUsed(DISK)).toBe(0);
    expect(await stageKeysOf(keys)).toBe(0);
  });

  it('refuses a write whose data is not its length, before anything is sent', async () => {
    const { epoch, pages } = await setup();
    await expect(pages.runOwned(DISK, epoch, [{ op: 'write', sector: 0, bytes: 4096, data: Buffer.alloc(512) }])).rejects.toThrow(
      /want 4096 bytes/,
    );
  });
});

describe('FencedPages.readPages', () => {
  it('reads whole and partial pages with one MGET, zeros where nothing was written, and sees a write sent before it', async () => {
    const { epoch, pages } = await setup();
    const a = Buffer.alloc(4096, 0xaa);
    const b = Buffer.alloc(1024, 0xbb);
    // Sent in one tick: the write run first, then the read, on one connection.
    const [, [whole, partial, spanning, empty]] = await Promise.all([
      pages.runOwned(DISK, epoch, [
        { op: 'write', sector: 8, bytes: 4096, data: a },
        { op: 'write', sector: 17, bytes: 1024, data: b },
      ]),
      pages.readPages(DISK, [
        { sector: 8, bytes: 4096 },
        { sector: 16, bytes: 2048 },
        { sector: 12, bytes: 4096 },
        { sector: 64, bytes: 8192 },
      ]),
    ]);
    expect(whole).toEqual(a);
    expect(partial).toEqual(Buffer.concat([Buffer.alloc(512), b, Buffer.alloc(512)]));
    expect(spanning).toEqual(Buffer.concat([Buffer.alloc(2048, 0xaa), Buffer.alloc(512), Buffer.alloc(1024, 0xbb), Buffer.alloc(512)]));
    expect(empty).toEqual(Buffer.alloc(8192));
  });

  it('refuses a range that is not whole sectors, naming it', async () => {
    const { pages } = await setup();
    await expect(pages.readPages(DISK, [{ sector: 0, bytes: 100 }])).rejects.toThrow(/read 0: bad length 100/);
  });
});
