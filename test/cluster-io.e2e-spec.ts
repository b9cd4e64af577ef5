// Write-then-read integrity through the whole cluster: irqmode 0/1/2 x memory_backed 0/1,
// random offsets and sizes, several concurrent clients on the stream and unary APIs.
import { Op, Status, type Submission } from '#proto/grpc/blk/v1/block_device';
import { createDisk, type Fixture, startCluster, streamAll, submit, unary } from './support/cluster-fixture';

/** Seeded PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIZE_MIB = 8;
const BLOCK = 4096;
const BLOCKS = (SIZE_MIB * 1024 * 1024) / BLOCK;

// Every case runs with the driver in its worker processes and inside dispatch.
describe.each(['remote', 'local'])('driver placement %s', (placement) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startCluster({ rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  describe.each([
    [0, true],
    [1, true],
    [2, true],
    [0, false],
    [1, false],
    [2, false],
  ])('irqmode %i, memory_backed %s', (irqmode, memoryBacked) => {
    const disk = `io-${irqmode}-${memoryBacked ? 1 : 0}`;
    const seed = 1000 + irqmode * 10 + (memoryBacked ? 1 : 0);

    beforeAll(async () => {
      await createDisk(f, disk, {
        size: BigInt(SIZE_MIB),
        irqmode,
        memoryBacked,
        completionNsec: 200_000n,
        submitQueues: 2,
        hwQueueDepth: 16,
      });
    });

    it('reads back what concurrent stream and unary clients wrote (zeros without memory backing)', async () => {
      const rand = prng(seed);
      // Disjoint extents, so concurrent clients never write the same block.
      const model = new Uint8Array(SIZE_MIB * 1024 * 1024);
      const extents: { block: number; blocks: number }[] = [];
      for (let b = 0; b < BLOCKS;) {
        const blocks = 1 + Math.floor(rand() * 24);
        if (rand() < 0.5 && b + blocks <= BLOCKS) extents.push({ block: b, blocks });
        b += blocks + Math.floor(rand() * 8);
      }
      const writes: Submission[] = extents.map((e, i) => {
        const data = Buffer.alloc(e.blocks * BLOCK);
        for (let j = 0; j < data.length; j += 4) data.writeUInt32LE(Math.floor(rand() * 2 ** 32), j);
        model.set(data, e.block * BLOCK);
        return { tag: BigInt(i), disk, op: Op.OP_WRITE, sector: BigInt((e.block * BLOCK) / 512), length: data.length, data, flags: 0 };
      });
      const streamA = writes.filter((_, i) => i % 3 === 0);
      const streamB = writes.filter((_, i) => i % 3 === 1);
      const unaries = writes.filter((_, i) => i % 3 === 2);
      const [a, b, u] = await Promise.all([
        streamAll(f, streamA, 8),
        streamAll(f, streamB, 1),
        Promise.all(unaries.map((w) => submit(f, w))),
      ]);
      expect([...a.values(), ...b.values(), ...u].map((c) => c.message || c.status)).toEqual(writes.map(() => Status.STATUS_OK));

      // Read back random ranges, some spanning written and unwritten blocks.
      const reads: Submission[] = [];
      for (let i = 0; i < 60; i++) {
        const blocks = 1 + Math.floor(rand() * 40);
        const block = Math.floor(rand() * (BLOCKS - blocks));
        reads.push({
          tag: BigInt(i),
          disk,
          op: Op.OP_READ,
          sector: BigInt((block * BLOCK) / 512),
          length: blocks * BLOCK,
          data: Buffer.alloc(0),
          flags: 0,
        });
      }
      const got = await streamAll(f, reads, 4);
      for (const r of reads) {
        const c = got.get(r.tag)!;
        expect(c.status).toBe(Status.STATUS_OK);
        const start = Number(r.sector) * 512;
        const want = memoryBacked ? model.subarray(start, start + r.length) : new Uint8Array(r.length);
        expect(Buffer.compare(Buffer.from(c.data), Buffer.from(want))).toBe(0);
      }
    });

    it('frees pages on discard and zeroes on write-zeroes', async () => {
      await unary(f.disks, 'powerDisk', { name: disk, power: false });
      await unary(f.disks, 'configureDisk', { name: disk, attributes: { discard: true } });
      await unary(f.disks, 'powerDisk', { name: disk, power: true });
      const data = Buffer.alloc(3 * BLOCK, 0x5a);
      expect((await submit(f, { disk, op: Op.OP_WRITE, sector: 800n, length: data.length, data })).status).toBe(Status.STATUS_OK);
      expect((await submit(f, { disk, op: Op.OP_DISCARD, sector: 800n, length: BLOCK })).status).toBe(Status.STATUS_OK);
      expect((await submit(f, { disk, op: Op.OP_WRITE_ZEROES, sector: 808n, length: BLOCK })).status).toBe(Status.STATUS_OK);
      expect((await submit(f, { disk, op: Op.OP_FLUSH })).status).toBe(Status.STATUS_OK);
      const r = await submit(f, { disk, op: Op.OP_READ, sector: 800n, length: data.length });
      expect(r.status).toBe(Status.STATUS_OK);
      const want = Buffer.alloc(3 * BLOCK);
      if (memoryBacked) want.fill(0x5a, 2 * BLOCK);
      expect(Buffer.compare(Buffer.from(r.data), want)).toBe(0);
    });
  });

  describe('large IO', () => {
    it('splits a 4 MiB write over max_sectors and reads it back whole', async () => {
      await createDisk(f, 'io-big', { size: 16n, maxSectors: 256 });
      const data = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
      expect((await submit(f, { disk: 'io-big', op: Op.OP_WRITE, sector: 2048n, length: data.length, data })).status).toBe(
        Status.STATUS_OK,
      );
      const r = await submit(f, { disk: 'io-big', op: Op.OP_READ, sector: 2048n, length: data.length });
      expect(r.status).toBe(Status.STATUS_OK);
      expect(Buffer.compare(Buffer.from(r.data), data)).toBe(0);
    });

    it("answers 24 concurrent 4 MiB reads of one stream (96 MiB, over gRPC's 64 MiB message limit) in several messages", async () => {
      await createDisk(f, 'io-wide', { size: 128n });
      const MiB4 = 4 * 1024 * 1024;
      const writes = Array.from({ length: 24 }, (_, i) => ({
        tag: BigInt(i + 1),
        disk: 'io-wide',
        op: Op.OP_WRITE,
        sector: BigInt(i * (MiB4 / 512)),
        length: MiB4,
        data: Buffer.alloc(MiB4, i + 1),
        flags: 0,
      }));
      const wrote = await streamAll(f, writes, 2);
      expect([...wrote.values()].every((c) => c.status === Status.STATUS_OK)).toBe(true);
      const reads = writes.map((w) => ({ ...w, op: Op.OP_READ, data: Buffer.alloc(0) }));
      const got = await streamAll(f, reads, 24);
      expect(got.size).toBe(24);
      for (const w of writes) {
        const c = got.get(w.tag)!;
        expect(c.status).toBe(Status.STATUS_OK);
        expect(Buffer.compare(Buffer.from(c.data), w.data)).toBe(0);
      }
    });
  });
});
