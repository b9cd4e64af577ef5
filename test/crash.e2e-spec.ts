// SIGKILL an rnull and a completion process while IO runs, start new ones: every
// submitted request ends exactly once, no tag stays taken, every acknowledged write reads
// back (DESIGN invariants 3 and 4).
import { CompletionBatch, Op, Status, SubmitBatch, type Completion, type Submission } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, type Fixture, startCluster, streamAll, tagsHeld } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  // Batches of a dead worker are delivered again after ~1 s.
  f = await startCluster({ env: { STALLED_INTERVAL_MS: '1000' } });
});
afterAll(async () => {
  await f?.stop();
});

const BLOCK = 4096;
const TOTAL = 1500;

function payload(i: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  for (let j = 0; j < BLOCK; j += 4) b.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
  return b;
}

it.each([1, 2])('irqmode %i: survives SIGKILL of rnull and completion mid-IO', async (irqmode) => {
  const disk = `crash${irqmode}`;
  await createDisk(f, disk, { size: 16n, irqmode, completionNsec: 2_000_000n, submitQueues: 2, hwQueueDepth: 16 });
  const writes: Submission[] = Array.from({ length: TOTAL }, (_, i) => ({
    tag: BigInt(i),
    disk,
    op: Op.OP_WRITE,
    // Scattered, non-contiguous blocks so nothing merges and every write is its own request.
    sector: BigInt(((i * 7) % 4000) * 8 + 0),
    length: BLOCK,
    data: payload(i),
    flags: 0,
  }));
  // Distinct blocks: i*7 mod 4000 is a permutation for i < 4000.
  const completions: Completion[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const call = f.io.submitStream();
    let next = 0;
    const pump = () => {
      // Keep ~64 in flight.
      while (next < TOTAL && next - completions.length < 64) {
        call.write(SubmitBatch.fromPartial({ submissions: writes.slice(next, next + 8) }));
        next += 8;
      }
      if (completions.length === TOTAL) call.end();
    };
    call.on('data', (b: CompletionBatch) => {
      completions.push(...b.completions);
      pump();
    });
    call.on('error', reject);
    call.on('end', () => resolve());
    pump();
  });

  // Let IO flow, then kill the workers and start new ones.
  expect(await eventually(async () => completions.length > 200, 30_000, 20)).toBe(true);
  const rnull = f.cluster.live('rnull')[0];
  const completion = f.cluster.live('completion')[0];
  await Promise.all([rnull.kill(), completion.kill()]);
  const killedAt = completions.length;
  await Promise.all([f.cluster.spawn('rnull'), f.cluster.spawn('completion')]);
  await done;

  // Every request ended exactly once.
  expect(killedAt).toBeLessThan(TOTAL);
  const tags = completions.map((c) => c.tag);
  expect(new Set(tags).size).toBe(TOTAL);
  expect(tags.length).toBe(TOTAL);
  const ok = completions.filter((c) => c.status === Status.STATUS_OK);
  expect(ok.length).toBeGreaterThan(0);

  // No tag is left taken once the disk is idle.
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 30_000)).toBe(true);

  // Every acknowledged write reads back.
  const reads: Submission[] = ok.map((c) => ({ ...writes[Number(c.tag)], op: Op.OP_READ, data: Buffer.alloc(0) }));
  const got = await streamAll(f, reads, 16);
  for (const r of reads) {
    const c = got.get(r.tag)!;
    expect(c.status).toBe(Status.STATUS_OK);
    expect(Buffer.compare(Buffer.from(c.data), payload(Number(r.tag)))).toBe(0);
  }
});
