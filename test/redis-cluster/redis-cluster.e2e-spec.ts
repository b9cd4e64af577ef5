// The cluster on a real Redis Cluster (3 masters, 3 replicas): disks land on every shard
// and each serves IO with its keys on its own shard only (DESIGN I7); bad or unreachable
// REDIS_CLUSTER_NODES stop a service at start with an error that names it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KeySchema } from '#redis-mq';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { ServiceProcess } from '../../tools/cluster/service-process';
import '../support/on-redis-cluster';
import { createDisk, type Fixture, startCluster, submit, unary } from '../support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({ env: { STALLED_INTERVAL_MS: '1000' } });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

/** `count` of the keys in `slot`, asked of the node on `port` itself (0 when it does not serve it). */
async function keysInSlot(port: number, slot: number): Promise<number> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  try {
    await r.connect();
    return Number(await r.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)));
  } finally {
    r.disconnect();
  }
}

it('spreads disks over all three shards; each serves IO with every key of it on its own shard', async () => {
  const keys = new KeySchema(f.prefix);
  const masters = await f.redisCluster!.masters();
  expect(masters).toHaveLength(3);
  // One disk per shard: the first names whose hash slot each master serves.
  const byMaster = new Map<number, { disk: string; slot: number }>();
  for (let i = 0; byMaster.size < masters.length && i < 1000; i++) {
    const disk = `shard${i}`;
    const slot = Number(await f.redis.call('CLUSTER', 'KEYSLOT', keys.tableMeta(disk)));
    const port = await f.redisCluster!.masterOf(slot);
    if (!byMaster.has(port)) byMaster.set(port, { disk, slot });
  }
  expect(byMaster.size).toBe(3);

  const disks = [...byMaster.entries()];
  await Promise.all(
    disks.map(([, { disk }], irqmode) => createDisk(f, disk, { size: 8n, irqmode, completionNsec: 100_000n, hwQueueDepth: 8 })),
  );
  await Promise.all(
    disks.map(async ([, { disk }]) => {
      const blocks = Array.from({ length: 16 }, (_, i) => ({ sector: BigInt(i * 64), data: randomBytes(8192) }));
      const wrote = await Promise.all(
        blocks.map((b) => submit(f, { disk, op: Op.OP_WRITE, sector: b.sector, length: 8192, data: b.data })),
      );
      expect(wrote.map((c) => c.status)).toEqual(blocks.map(() => Status.STATUS_OK));
      for (const b of blocks) {
        const r = await submit(f, { disk, op: Op.OP_READ, sector: b.sector, length: 8192 });
        expect(r.status).toBe(Status.STATUS_OK);
        expect(Buffer.compare(Buffer.from(r.data), b.data)).toBe(0);
      }
    }),
  );
  // Each disk's keys are on its master, and in its slot only.
  for (const [port, { disk, slot }] of disks) {
    expect(await keysInSlot(port, slot)).toBeGreaterThan(0);
    const stored = await f.redis.scard(keys.pageIndex(disk));
    expect(stored).toBeGreaterThan(0);
    for (const [other] of disks) if (other !== port) expect(await keysInSlot(other, slot)).toBe(0);
  }
});

it("deletes a disk: every key of it goes from its shard, BullMQ's requeue queue too", async () => {
  const keys = new KeySchema(f.prefix);
  await createDisk(f, 'gone0', { size: 4n });
  expect((await submit(f, { disk: 'gone0', op: Op.OP_WRITE, sector: 0n, length: 4096, data: Buffer.alloc(4096, 3) })).status).toBe(
    Status.STATUS_OK,
  );
  const slot = Number(await f.redis.call('CLUSTER', 'KEYSLOT', keys.tableMeta('gone0')));
  const port = await f.redisCluster!.masterOf(slot);
  expect(await keysInSlot(port, slot)).toBeGreaterThan(0);
  // The rnull worker's BullMQ requeue queue of the disk has keys (in the disk's slot).
  const node = new Redis({ host: '127.0.0.1', port });
  const [, requeueKeys] = await node.scan('0', 'MATCH', keys.requeuePattern('gone0'), 'COUNT', 10_000);
  node.disconnect();
  expect(requeueKeys.length).toBeGreaterThan(0);
  await unary(f.disks, 'powerDisk', { name: 'gone0', power: false });
  await unary(f.disks, 'deleteDisk', { name: 'gone0' });
  for (let i = 0; i < 50 && (await keysInSlot(port, slot)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await keysInSlot(port, slot)).toBe(0);
});

describe('REDIS_CLUSTER_NODES that cannot work', () => {
  async function startFails(nodes: string): Promise<string> {
    const lines: string[] = [];
    const p = new ServiceProcess(
      { service: 'gendisk', label: 'gendisk', env: { REDIS_CLUSTER_NODES: nodes, HTTP_PORT: '0', GRPC_URL: '127.0.0.1:0' } },
      (_l, line) => lines.push(line),
    );
    await expect(p.ready).rejects.toThrow(/exited with code 1 before it was ready/);
    return lines.join('\n');
  }

  it('a malformed list stops the service at once, naming the variable and the bad entry', async () => {
    const out = await startFails('127.0.0.1:7000,nonsense');
    expect(out).toMatch(/REDIS_CLUSTER_NODES must be host:port\[,host:port…\], got "nonsense"/);
  });

  it('a cluster that does not answer stops the service after the connect timeout, naming the nodes', async () => {
    const t0 = Date.now();
    const out = await startFails('127.0.0.1:1');
    expect(out).toMatch(/the Redis Cluster at REDIS_CLUSTER_NODES=127\.0\.0\.1:1 did not answer within 10000 ms/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 40_000);
});
