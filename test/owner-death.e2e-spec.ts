// SIGKILL the dispatch instance that owns a disk's requests while its whole tag budget is
// in flight: once its owner lease expires, a restarted dispatch reclaims the budget and
// serves the disk's full hw_queue_depth again (DESIGN §3, I3), and nothing the dead owner
// queued ever moves data over newer writes (I4).
import * as grpc from '@grpc/grpc-js';
import { KeySchema, LeasedQueue, OwnerRegistry } from '#redis-mq';
import { BlockDeviceClient, Op, Status, type Completion } from '#proto/grpc/blk/v1/block_device';
import { GenDiskClient } from '#proto/grpc/blk/v1/gen_disk';
import { freePort } from '../tools/cluster/private-redis';
import type { ServiceProcess } from '../tools/cluster/service-process';
import { createDisk, eventually, type Fixture, startCluster, submit, tagsHeld } from './support/cluster-fixture';

const LEASE_MS = 1000;
const DEPTH = 4;
const BLOCK = 4096;
/** Four blocks 4 MiB apart: they never merge, each write is its own request and tag. */
const SECTORS = Array.from({ length: DEPTH }, (_, i) => BigInt(i) * 8192n);

let f: Fixture;
/** The fixture as seen through the dispatch instance that currently serves. */
let g: Fixture;
const clients: { close(): void }[] = [];
const stopped: ServiceProcess[] = [];

beforeAll(async () => {
  f = await startCluster({ env: { OWNER_LEASE_MS: String(LEASE_MS), STALLED_INTERVAL_MS: '1000' } });
  g = f;
});
afterAll(async () => {
  for (const p of stopped) p.child.kill('SIGCONT');
  for (const c of clients) c.close();
  await f?.stop();
});

function pattern(tag: string, i: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  for (let j = 0; j < BLOCK; j += 4) b.writeUInt32LE(((tag.charCodeAt(0) << 24) ^ (i * 2654435761 + j)) >>> 0, j);
  return b;
}

/** SIGKILLs the serving dispatch and starts a new one on a fresh port; `g` talks to it. */
async function restartDispatch(env: Record<string, string> = {}): Promise<{ dead: ServiceProcess; fresh: ServiceProcess }> {
  const [dead] = f.cluster.live('dispatch');
  await dead.kill();
  expect(dead.child.signalCode).toBe('SIGKILL');
  const address = `127.0.0.1:${await freePort()}`;
  const fresh = await f.cluster.spawn('dispatch', { GRPC_URL: address, ...env });
  const opt = { 'grpc.max_receive_message_length': -1 };
  const io = new BlockDeviceClient(address, grpc.credentials.createInsecure(), opt);
  const disks = new GenDiskClient(address, grpc.credentials.createInsecure(), opt);
  clients.push(io, disks);
  g = { ...f, io, disks };
  return { dead, fresh };
}

function writeAll(fx: Fixture, disk: string, tag: string): Promise<Completion[]> {
  return Promise.all(SECTORS.map((sector, i) => submit(fx, { disk, op: Op.OP_WRITE, sector, length: BLOCK, data: pattern(tag, i) })));
}

function readAll(fx: Fixture, disk: string): Promise<Completion[]> {
  return Promise.all(SECTORS.map((sector) => submit(fx, { disk, op: Op.OP_READ, sector, length: BLOCK })));
}

function expectData(reads: Completion[], expected: (i: number) => Buffer): void {
  expect(reads.map((r) => r.status)).toEqual(SECTORS.map(() => Status.STATUS_OK));
  reads.forEach((r, i) => expect(Buffer.compare(Buffer.from(r.data), expected(i))).toBe(0));
}

async function owners(disk: string): Promise<number[]> {
  return (await new OwnerRegistry(f.redis, new KeySchema(f.prefix)).owners(disk)).map((o) => o.epoch);
}

it('a SIGKILLed owner with its whole tag budget in flight: a new dispatch gets every tag back and serves the full depth', async () => {
  const disk = 'own0';
  const completionMs = 3000;
  await createDisk(f, disk, { size: 16n, irqmode: 2, completionNsec: BigInt(completionMs) * 1_000_000n, hwQueueDepth: DEPTH });

  // Four writes of pattern A hold all four tags until their timers fire.
  const doomedAt = Date.now();
  let settled = 0;
  const doomed = writeAll(f, disk, 'A').then(
    (cs) => cs,
    (e: grpc.ServiceError) => e,
  );
  void doomed.then(() => settled++);
  expect(await eventually(async () => (await tagsHeld(f, disk)) === DEPTH, 30_000, 20)).toBe(true);
  const [deadEpoch] = await owners(disk);
  expect(deadEpoch).toBeGreaterThan(0);
  expect(settled).toBe(0); // still in flight when the owner dies

  const { fresh } = await restartDispatch();
  // The dead owner's clients get an error, never an acknowledgement.
  const answer = await doomed;
  expect(answer).toBeInstanceOf(Error);

  // The new owner's renewal reclaims the dead one once its lease ran out.
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 60_000)).toBe(true);
  expect(await eventually(async () => !(await owners(disk)).includes(deadEpoch), 30_000)).toBe(true);
  // Its log line comes through the child's stdout pipe, possibly after the Redis state.
  const logged = () => f.lines().some((l) => l.startsWith(`[${fresh.spec.label}]`) && l.includes('reclaimed the budget'));
  expect(await eventually(async () => logged(), 10_000)).toBe(true);

  // All four tags serve again: four concurrent writes of pattern B each get a tag and
  // complete (without the reclaim none would: the budget would stay used by the dead owner).
  const writes = await writeAll(g, disk, 'B');
  expect(writes.map((w) => w.status)).toEqual(SECTORS.map(() => Status.STATUS_OK));
  expectData(await readAll(g, disk), (i) => pattern('B', i));

  // Well after every doomed timer fired, the data is still B and no tag is held.
  const late = doomedAt + completionMs + 2000 - Date.now();
  if (late > 0) await new Promise((r) => setTimeout(r, late));
  expectData(await readAll(g, disk), (i) => pattern('B', i));
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 30_000)).toBe(true);
  expect(await owners(disk)).not.toContain(deadEpoch);
}, 180_000);

it('a batch the dead owner queued but no driver ran yet never moves data (fenced by the owner epoch)', async () => {
  const disk = 'own1';
  await createDisk(g, disk, { size: 16n, irqmode: 0, hwQueueDepth: DEPTH });
  const keys = new KeySchema(f.prefix);
  const hctx = new LeasedQueue(f.redis, `rq.${disk}.0`, keys.hctxQueue(disk, 0));

  // Freeze the only rnull: the batch of four writes (pattern A) waits in the hctx queue, or
  // is claimed on the frozen worker's behalf by its pending blocking claim; either way no
  // page op of it runs.
  const [rnull] = f.cluster.live('rnull');
  rnull.child.kill('SIGSTOP');
  stopped.push(rnull);
  const doomed = writeAll(g, disk, 'A').then(
    (cs) => cs,
    (e: grpc.ServiceError) => e,
  );
  expect(await eventually(async () => (await tagsHeld(f, disk)) === DEPTH, 30_000, 20)).toBe(true);
  const [deadEpoch] = await owners(disk);
  const queued = await hctx.counts();
  expect(queued.waiting + queued.leased).toBeGreaterThan(0);

  await restartDispatch();
  expect(await doomed).toBeInstanceOf(Error);
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 60_000)).toBe(true);
  expect(await owners(disk)).not.toContain(deadEpoch);

  // A live rnull now takes the dead owner's batch (from the queue, or after the frozen
  // worker's lease ran out) with a lease of its own: only the owner fence stands in its way.
  await f.cluster.spawn('rnull');
  expect(
    await eventually(async () => {
      const c = await hctx.counts();
      return c.waiting + c.leased === 0;
    }, 60_000),
  ).toBe(true);
  // Pattern A was never acknowledged: the blocks read zeros.
  expectData(await readAll(g, disk), () => Buffer.alloc(BLOCK));

  // The full depth serves, and pattern B reads back.
  const writes = await writeAll(g, disk, 'B');
  expect(writes.map((w) => w.status)).toEqual(SECTORS.map(() => Status.STATUS_OK));
  expectData(await readAll(g, disk), (i) => pattern('B', i));

  // The frozen worker wakes up and acts on whatever it held: refused, the data stays B.
  rnull.child.kill('SIGCONT');
  stopped.splice(stopped.indexOf(rnull), 1);
  await new Promise((r) => setTimeout(r, 2000));
  expectData(await readAll(g, disk), (i) => pattern('B', i));
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 30_000)).toBe(true);
  expect(f.cluster.live('rnull').length).toBe(2);
}, 180_000);

it('DRIVER_PLACEMENT=local: a SIGKILLed owner whose driver ran in its own process gives every tag back, and its timers die with it', async () => {
  const local = { DRIVER_PLACEMENT: 'local' };
  await restartDispatch(local);
  const disk = 'own2';
  const completionMs = 3000;
  await createDisk(g, disk, { size: 16n, irqmode: 2, completionNsec: BigInt(completionMs) * 1_000_000n, hwQueueDepth: DEPTH });
  await writeAll(g, disk, 'A').then(
    () => undefined,
    () => undefined,
  );
  // Writes of pattern B hold all four tags (their completion timers run in dispatch) when it dies.
  const doomedAt = Date.now();
  const doomed = writeAll(g, disk, 'B').then(
    (cs) => cs,
    (e: grpc.ServiceError) => e,
  );
  expect(await eventually(async () => (await tagsHeld(f, disk)) === DEPTH, 30_000, 20)).toBe(true);
  const [deadEpoch] = await owners(disk);
  await restartDispatch(local);
  expect(await doomed).toBeInstanceOf(Error);
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 60_000)).toBe(true);
  expect(await eventually(async () => !(await owners(disk)).includes(deadEpoch), 30_000)).toBe(true);

  // The full depth serves again through the new instance's own driver.
  const writes = await writeAll(g, disk, 'C');
  expect(writes.map((w) => w.status)).toEqual(SECTORS.map(() => Status.STATUS_OK));
  expectData(await readAll(g, disk), (i) => pattern('C', i));
  const late = doomedAt + completionMs + 1000 - Date.now();
  if (late > 0) await new Promise((r) => setTimeout(r, late));
  expectData(await readAll(g, disk), (i) => pattern('C', i));
  expect(await eventually(async () => (await tagsHeld(f, disk)) === 0, 30_000)).toBe(true);
}, 180_000);
