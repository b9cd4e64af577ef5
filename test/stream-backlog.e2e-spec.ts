// Abuse of one SubmitStream against a real cluster (issue 15's bad-input run): one message
// of 10,000 x 64 KiB READs from a client that never reads its completions. Dispatch keeps
// at most STREAM_INFLIGHT_LIMIT of them in flight, stops taking the rest while the
// completions are not read, so its memory stays bounded (before: ~500 MiB more, 9,680 in
// flight), and another client's 4 KiB read is served meanwhile (before: over 10 s).
import * as fs from 'node:fs';
import { Op, Status, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { createDisk, type Fixture, startCluster, submit } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster();
  await createDisk(f, 'flood0', { size: 64n, memoryBacked: true });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

/** Resident set of the dispatch process, MiB. */
function dispatchRssMiB(): number {
  const p = f.cluster.processes.find((x) => x.spec.label.startsWith('dispatch'))!;
  const status = fs.readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

it('bounds what one stream holds when its client sends 10,000 reads in one message and never reads', async () => {
  const before = dispatchRssMiB();
  const call = f.io.submitStream();
  call.on('error', () => undefined);
  call.pause(); // never take a completion
  const submissions = Array.from({ length: 10_000 }, (_, i) => ({
    tag: BigInt(i + 1),
    disk: 'flood0',
    op: Op.OP_READ,
    sector: BigInt((i % 2048) * 8),
    length: 65536,
    data: Buffer.alloc(0),
    flags: 0,
  }));
  call.write(SubmitBatch.fromPartial({ submissions }));
  await new Promise((r) => setTimeout(r, 3000)); // what the flood can do meanwhile

  const t0 = Date.now();
  const other = await submit(f, { disk: 'flood0', op: Op.OP_READ, length: 4096 });
  const otherMs = Date.now() - t0;
  expect(other.status).toBe(Status.STATUS_OK);
  const grown = dispatchRssMiB() - before;
  call.cancel();

  // 1024 reads of 64 KiB in flight, then as completions in gRPC's write buffers, are 64
  // MiB twice over; measured here: +154 MiB after, +690 MiB (and 36 s for the other read)
  // before the backlog.
  expect(grown).toBeLessThan(320);
  expect(otherMs).toBeLessThan(5000);
}, 60_000);
