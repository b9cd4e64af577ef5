// Two dispatch instances serve the same disk at once, each with its own NBD listener; their
// requests share the disk's tags through the Redis budget. fio verify runs through both at
// once; one instance is SIGKILLed mid-run: the other's run finishes clean, and the dead
// one's tags come back after its owner lease (DESIGN I3).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServiceProcess } from '../tools/cluster/service-process';
import * as grpc from '@grpc/grpc-js';
import { BlockDeviceClient, type Completion, Op, Status, Submission } from '#proto/grpc/blk/v1/block_device';
import { blocksIn, fioVerify } from './support/fio-verify';
import { createDisk, eventually, type Fixture, startCluster, submit, tagsHeld, unary } from './support/cluster-fixture';

const LEASE_MS = 1500;
let f: Fixture;
let second: ServiceProcess;
let secondNbd: string;
let tmp: string;

beforeAll(async () => {
  f = await startCluster({ nbdGateway: 'dispatch', env: { OWNER_LEASE_MS: String(LEASE_MS), STALLED_INTERVAL_MS: '1000' } });
  const added = await f.cluster.addDispatch();
  second = added.process;
  secondNbd = added.nbd!;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-multi-'));
}, 120_000);
afterAll(async () => {
  await f?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

it('fio verify through two instances on one disk at once; SIGKILL of one leaves the other serving and its tags come back', async () => {
  await createDisk(f, 'multi0', { size: 64n, irqmode: 1, hwQueueDepth: 32 });
  // Both instances serve the disk: a short verify through each, at the same time.
  const [a, b] = await Promise.all([
    fioVerify({ address: f.cluster.nbdAddress!, disk: 'multi0', offsetMiB: 0, sizeMiB: 4, name: 'a', cwd: tmp }),
    fioVerify({ address: secondNbd, disk: 'multi0', offsetMiB: 32, sizeMiB: 4, name: 'b', cwd: tmp }),
  ]);
  for (const r of [a, b]) expect(r.error).toBe(0);
  // One store behind both: what one instance acknowledged, the other reads back.
  const secondIo = new BlockDeviceClient(f.cluster.dispatchAddresses[1], grpc.credentials.createInsecure());
  const data = Buffer.alloc(8192, 0x6b);
  expect((await submit(f, { disk: 'multi0', op: Op.OP_WRITE, sector: 100_000n, length: 8192, data })).status).toBe(Status.STATUS_OK);
  const back = await unary<Submission, Completion>(
    secondIo,
    'submit',
    Submission.fromPartial({ disk: 'multi0', op: Op.OP_READ, sector: 100_000n, length: 8192 }),
  );
  secondIo.close();
  expect(back.status).toBe(Status.STATUS_OK);
  expect(Buffer.compare(Buffer.from(back.data), data)).toBe(0);

  // Again, longer, and the second instance dies under its run.
  const survivor = fioVerify({ address: f.cluster.nbdAddress!, disk: 'multi0', sizeMiB: 24, name: 'survivor', cwd: tmp });
  const victim = fioVerify({ address: secondNbd, disk: 'multi0', offsetMiB: 32, sizeMiB: 24, name: 'victim', cwd: tmp }).then(
    () => 'finished',
    () => 'failed',
  );
  await new Promise((r) => setTimeout(r, 1000));
  await second.kill();
  expect(await victim).toBe('failed'); // its connection went with the instance
  const job = await survivor;
  expect(job.error).toBe(0);
  expect(job.write.total_ios).toBe(blocksIn(24));
  expect(job.read.total_ios).toBe(blocksIn(24));
  // The dead instance's tags come back once its lease ran out and the survivor reclaimed it.
  expect(await eventually(async () => (await tagsHeld(f, 'multi0')) === 0, 20_000)).toBe(true);
  expect(f.cluster.live('dispatch')).toHaveLength(1);
}, 200_000);
