// blktests block/029 against a real cluster (real processes, real Redis, fio over NBD):
// `submit_queues` flips between 1 and 4 while fio writes and verifies, with the driver in
// dispatch (local placement) and in the rnull workers (remote). Each change freezes the
// disk, drains it, re-lays the tag space and thaws it (DESIGN I14): no change fails, no IO
// fails or hangs, and every tag comes back afterwards.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Disk } from '#proto/grpc/blk/v1/gen_disk';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { blocksIn, fioVerify } from './support/fio-verify';
import { createDisk, eventually, type Fixture, startCluster, submit, tagsHeld, unary } from './support/cluster-fixture';

describe.each(['local', 'remote'] as const)('submit_queues change under IO (block/029), driver placement %s', (placement) => {
  let f: Fixture;
  let tmp: string;

  beforeAll(async () => {
    f = await startCluster({ nbdGateway: 'dispatch', rnullWorkers: 1, completionWorkers: 1, env: { DRIVER_PLACEMENT: placement } });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-freeze-'));
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const setQueues = (name: string, submitQueues: number) =>
    unary<object, Disk>(f.disks, 'configureDisk', { name, attributes: { submitQueues } });

  it.each([0, 1])(
    'fio verify keeps running while submit_queues flips 1 <-> 4, irqmode %i: no error, no hang',
    async (irqmode) => {
      const disk = `fz${irqmode}`;
      await createDisk(f, disk, { size: 64n, irqmode, memoryBacked: true, hwQueueDepth: 32 });
      const sizeMiB = 16;
      let fioDone = false;
      const job = fioVerify({ address: f.cluster.nbdAddress!, disk, sizeMiB, name: disk, cwd: tmp }).finally(() => (fioDone = true));

      // Flip while fio runs (its writes, then its verify reads): every change must succeed.
      const flips: number[] = [];
      await new Promise((r) => setTimeout(r, 300));
      for (let want = 4; !fioDone; want = want === 4 ? 1 : 4) {
        const d = await setQueues(disk, want);
        expect(d.attributes?.submitQueues).toBe(want);
        flips.push(want);
        await new Promise((r) => setTimeout(r, 150));
      }
      const report = await job;

      expect(report.error).toBe(0);
      expect(report.write.total_ios).toBe(blocksIn(sizeMiB));
      expect(report.read.total_ios).toBe(blocksIn(sizeMiB));
      expect(flips.length).toBeGreaterThanOrEqual(2); // at least one 1 -> 4 -> 1 round under IO
      // The last shape serves IO, and every tag of every shape came back.
      const d = await unary<object, Disk>(f.disks, 'getDisk', { name: disk });
      expect([d.attributes?.submitQueues, d.power]).toEqual([flips[flips.length - 1], true]);
      const c = await submit(f, { disk, op: Op.OP_READ, sector: 0n, length: 4096 });
      expect(c.status).toBe(Status.STATUS_OK);
      expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 10_000)).toBe(true);
    },
    240_000,
  );
});
