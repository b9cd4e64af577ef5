// SIGKILL the dispatch instance whose requests hold every tag of the shared tag set: once
// its holding's `until` (two owner leases after its last renewal) passed, the restarted
// dispatch takes the whole set for another shared_tags disk, well before the dead owner's
// requests would have freed their tags (DESIGN I15, I3).
import * as grpc from '@grpc/grpc-js';
import { KeySchema, SharedTagSet } from '#redis-mq';
import { BlockDeviceClient, Op, Status } from '#proto/grpc/blk/v1/block_device';
import { GenDiskClient } from '#proto/grpc/blk/v1/gen_disk';
import { freePort } from '../tools/cluster/private-redis';
import { createDisk, eventually, type Fixture, startCluster, submit } from './support/cluster-fixture';

const LEASE_MS = 1000;
const DEPTH = 4;
const BLOCK = 4096;
/** The dead owner's requests would end after this long (irqmode 2). */
const COMPLETION_MS = 20_000;

let f: Fixture;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  f = await startCluster({ env: { OWNER_LEASE_MS: String(LEASE_MS), STALLED_INTERVAL_MS: '1000' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await f?.stop();
});

function writes(fx: Fixture, disk: string): Promise<unknown>[] {
  // Blocks 4 MiB apart never merge: each write is its own request and tag.
  return Array.from({ length: DEPTH }, (_, i) =>
    submit(fx, { disk, op: Op.OP_WRITE, sector: BigInt(i) * 8192n, length: BLOCK, data: Buffer.alloc(BLOCK, i + 1) }),
  );
}

it("a SIGKILLed owner's tags in the shared tag set come back to a disk served by the new dispatch", async () => {
  const set = new SharedTagSet(f.redis, new KeySchema(f.prefix));
  const attributes = { size: 16n, hwQueueDepth: DEPTH, sharedTags: true };
  await createDisk(f, 'sa', { ...attributes, irqmode: 2, completionNsec: BigInt(COMPLETION_MS) * 1_000_000n });
  await createDisk(f, 'sb', attributes);

  const doomed = writes(f, 'sa').map((p) => p.catch((e: grpc.ServiceError) => e));
  expect(await eventually(async () => (await set.state()).heldByDisk.sa === DEPTH, 30_000, 20)).toBe(true);

  const [dead] = f.cluster.live('dispatch');
  await dead.kill();
  expect(dead.child.signalCode).toBe('SIGKILL');
  const killedAt = Date.now();
  const address = `127.0.0.1:${await freePort()}`;
  await f.cluster.spawn('dispatch', { GRPC_URL: address });
  const opt = { 'grpc.max_receive_message_length': -1 };
  const io = new BlockDeviceClient(address, grpc.credentials.createInsecure(), opt);
  const disks = new GenDiskClient(address, grpc.credentials.createInsecure(), opt);
  clients.push(io, disks);
  const g: Fixture = { ...f, io, disks };

  // The dead owner's clients get an error, never an acknowledgement.
  for (const answer of await Promise.all(doomed)) expect(answer).toBeInstanceOf(Error);
  // The set is full until the dead holding is reclaimed; then sb gets every tag.
  const done = await Promise.all(writes(g, 'sb'));
  const waited = Date.now() - killedAt;
  expect(done.map((c) => (c as { status: Status }).status)).toEqual(done.map(() => Status.STATUS_OK));
  // Not before the dead holding's `until` (two leases after its last renewal, which came
  // at most a third of a lease before the kill): the set was full until the reclaim.
  expect(waited).toBeGreaterThan(LEASE_MS);
  expect(waited).toBeLessThan(COMPLETION_MS / 2);
  const state = await set.state();
  expect(state.heldByDisk.sa ?? 0).toBe(0);
  expect(await eventually(async () => (await set.state()).used.every((u) => u === 0), 10_000)).toBe(true);
  process.stdout.write(`shared tags owner death: sb served ${DEPTH} writes ${waited} ms after the SIGKILL (lease ${LEASE_MS} ms)\n`);
}, 120_000);
