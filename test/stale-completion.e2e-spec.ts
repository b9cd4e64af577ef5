// A duplicated completion delivery and a completion after a timeout are refused by the
// owner as stale and counted, and neither touches the request that reuses the tag
// (DESIGN I2). The duplicate is a real softirq batch pushed again onto the disk's softirq
// queue, as a redelivery after a worker crash would push it.
import type { Redis } from 'ioredis';
import { BlkStatus } from '#blk-mq';
import { encodeEnds, KeySchema, LeasedQueue, MessageKind, OwnerRegistry } from '#redis-mq';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { createDisk, eventually, type Fixture, startCluster, submit, tagsHeld } from './support/cluster-fixture';

let f: Fixture;
let keys: KeySchema;
let conn: Redis;
beforeAll(async () => {
  f = await startCluster();
  keys = new KeySchema(f.prefix);
  conn = f.connect();
});
afterAll(async () => {
  await conn?.quit();
  await f?.stop();
});

/** `rnull_stale_ends_total` of `disk` on dispatch, the owner that refuses them. */
async function staleEnds(disk: string): Promise<number> {
  const p = f.cluster.live('dispatch')[0];
  const { http } = await p.ready;
  const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const m = new RegExp(`^rnull_stale_ends_total\\{[^}]*disk="${disk}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The owner epoch dispatch holds for `disk`. */
async function ownerEpoch(disk: string): Promise<number> {
  const [owner] = await new OwnerRegistry(conn, keys).owners(disk);
  return owner?.epoch ?? 0;
}

it('refuses a duplicated softirq delivery without touching the request that reuses the tag', async () => {
  await createDisk(f, 'dup0', { size: 4n, irqmode: 1, hwQueueDepth: 1 });
  const w = await submit(f, { disk: 'dup0', op: Op.OP_WRITE, sector: 0n, length: 4096, data: Buffer.alloc(4096, 7) });
  expect(w.status).toBe(Status.STATUS_OK);
  const epoch = await ownerEpoch('dup0');
  expect(epoch).toBeGreaterThan(0);
  const before = await staleEnds('dup0');

  // The softirq batch of the first request (tag 0, generation 1) is delivered a second time.
  const softirq = new LeasedQueue(conn, 'softirq.dup0', keys.diskQueue('dup0', 'softirq'));
  await softirq.push(
    encodeEnds(MessageKind.Softirq, { hctx: 0, epoch, seq: 999, atMs: Date.now() }, [
      { tag: 0, gen: 1, status: BlkStatus.OK, hasData: false, dataBytes: 0, sector: 0 },
    ]),
  );
  expect(await eventually(async () => (await staleEnds('dup0')) === before + 1, 10_000, 50)).toBe(true);

  // The disk still serves, the data is the first write's, and no tag is left held.
  const r = await submit(f, { disk: 'dup0', op: Op.OP_READ, sector: 0n, length: 4096 });
  expect(Buffer.from(r.data)).toEqual(Buffer.alloc(4096, 7));
  expect(await eventually(async () => (await tagsHeld(f, 'dup0')) === 0)).toBe(true);
});

it('refuses a completion that arrives after the timeout, and the tag serves the next request', async () => {
  // The timer fires after 3 s, the request times out after 0.4 s.
  await createDisk(f, 'late0', { size: 4n, irqmode: 2, completionNsec: 3_000_000_000n, timeoutMs: 400, hwQueueDepth: 1 });
  const before = await staleEnds('late0');
  const t0 = Date.now();
  const r = await submit(f, { disk: 'late0', op: Op.OP_READ, sector: 0n, length: 4096 });
  expect(r.status).toBe(Status.STATUS_TIMEOUT);
  expect(r.message).toMatch(/timed out/);
  expect(Date.now() - t0).toBeLessThan(2500);

  // The one tag is free again at once: a write of a no-timer disk attribute change would
  // reshape; instead the next request simply gets the tag (and times out the same way).
  const again = await submit(f, { disk: 'late0', op: Op.OP_READ, sector: 8n, length: 4096 });
  expect(again.status).toBe(Status.STATUS_TIMEOUT);

  // The timers of both fire later and are refused by the owner.
  expect(await eventually(async () => (await staleEnds('late0')) === before + 2, 10_000, 100)).toBe(true);
  expect(await eventually(async () => (await tagsHeld(f, 'late0')) === 0)).toBe(true);
});
