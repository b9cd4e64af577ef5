// blktests block/010 on the cluster: random 4 KiB reads on four disks at once, first with
// a tag set per disk, then with shared_tags=1 (one tag set for all four, DESIGN I15).
// Every IO succeeds, the shared set never holds more than its depth (sampled in Redis
// while the IO runs), no disk starves (hctx_may_queue's fair share), and every tag is
// back at the end. block/010 compares the two runs' IOPS; the figures are printed.
import { SharedTagSet, KeySchema } from '#redis-mq';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, type Fixture, startCluster, submit, tagsHeld, unary } from './support/cluster-fixture';

const DISKS = 4;
/** hw_queue_depth: with shared tags, the depth of the one set all four draw from. */
const DEPTH = 8;
/** Requests each disk keeps in flight (fio's iodepth): twice its depth, so tags contend. */
const IODEPTH = 16;
const RUN_MS = 3000;
const SIZE_MIB = 16;
const BLOCKS = (SIZE_MIB * 1024 * 1024) / 4096;

interface RunResult {
  /** Reads completed per disk. */
  done: number[];
  /** Reads that did not end OK, with their messages. */
  failed: string[];
  iops: number;
}

/** `IODEPTH` closed loops of unary random reads per disk for `RUN_MS`. */
async function randread(f: Fixture, disks: string[]): Promise<RunResult> {
  const done = disks.map(() => 0);
  const failed: string[] = [];
  let seed = 12345;
  const nextBlock = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % BLOCKS;
  };
  const start = Date.now();
  const until = start + RUN_MS;
  await Promise.all(
    disks.flatMap((disk, d) =>
      Array.from({ length: IODEPTH }, async () => {
        while (Date.now() < until) {
          const c = await submit(f, { disk, op: Op.OP_READ, sector: BigInt(nextBlock() * 8), length: 4096 });
          if (c.status === Status.STATUS_OK) done[d] += 1;
          else failed.push(`${disk}: ${c.status} ${c.message}`);
        }
      }),
    ),
  );
  const total = done.reduce((a, b) => a + b, 0);
  return { done, failed, iops: Math.round((total * 1000) / (Date.now() - start)) };
}

describe.each(['remote', 'local'])('driver placement %s', (placement) => {
  let f: Fixture;
  let set: SharedTagSet;
  beforeAll(async () => {
    f = await startCluster({ rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
    set = new SharedTagSet(f.redis, new KeySchema(f.prefix));
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  let individual: RunResult;

  it('individual tags: four disks, a tag set each', async () => {
    const disks = Array.from({ length: DISKS }, (_, i) => `own${i}`);
    for (const d of disks) await createDisk(f, d, { size: BigInt(SIZE_MIB), hwQueueDepth: DEPTH });
    individual = await randread(f, disks);
    expect(individual.failed).toEqual([]);
    for (const n of individual.done) expect(n).toBeGreaterThan(0);
    for (const d of disks) await unary(f.disks, 'powerDisk', { name: d, power: false });
  });

  it('shared tags: four disks on one set of hw_queue_depth tags, never over it, none starved, every tag back', async () => {
    const disks = Array.from({ length: DISKS }, (_, i) => `shared${i}`);
    for (const d of disks) await createDisk(f, d, { size: BigInt(SIZE_MIB), hwQueueDepth: DEPTH, sharedTags: true });
    expect((await set.state()).members).toEqual(disks);

    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(Math.max(0, ...(await set.state()).used));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const shared = await randread(f, disks);
    sampling = false;
    await sampler;

    expect(shared.failed).toEqual([]);
    const maxUsed = Math.max(...samples);
    expect(maxUsed).toBeLessThanOrEqual(DEPTH);
    // The set was in use (the sampler saw held tags), and full at some point: they contended.
    expect(maxUsed).toBe(DEPTH);
    // Fair share: each disk completes at least a fifth of the mean (an even split is 1).
    const mean = shared.done.reduce((a, b) => a + b, 0) / DISKS;
    for (const n of shared.done) expect(n).toBeGreaterThan(mean / 5);
    expect(await eventually(async () => (await set.state()).used.every((u) => u === 0))).toBe(true);
    for (const d of disks) expect(await tagsHeld(f, d)).toBe(0);

    process.stdout.write(
      `block/010 (${placement}): individual tags ${individual?.iops} IOPS [${individual?.done.join(', ')}]; ` +
        `shared tags ${shared.iops} IOPS [${shared.done.join(', ')}]; shared set used <= ${maxUsed} of ${DEPTH} in ${samples.length} samples\n`,
    );
  });
});
