// The cluster's limits on disks over gRPC against a real cluster (issue 15 part 4): gendisk
// started with MAX_DISKS=2 and MAX_TOTAL_SIZE_MIB=64 refuses the disk past either with
// RESOURCE_EXHAUSTED naming the variable, through dispatch's forwarder too, and takes one
// again once a disk is deleted.
import { status as Code } from '@grpc/grpc-js';
import { createDisk, failureCode, type Fixture, startCluster, unary } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({ env: { MAX_DISKS: '2', MAX_TOTAL_SIZE_MIB: '64' } });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

it('refuses a disk past MAX_DISKS or MAX_TOTAL_SIZE_MIB with RESOURCE_EXHAUSTED naming the limit', async () => {
  await createDisk(f, 'lim0', { size: 40n }, false);
  const tooBig = await failureCode(unary(f.disks, 'createDisk', { name: 'lim1', attributes: { size: 32n } }));
  expect(tooBig.code).toBe(Code.RESOURCE_EXHAUSTED);
  expect(tooBig.details).toMatch(/MAX_TOTAL_SIZE_MIB=64/);
  await createDisk(f, 'lim1', { size: 16n }, false);
  const tooMany = await failureCode(unary(f.disks, 'createDisk', { name: 'lim2', attributes: { size: 1n } }));
  expect(tooMany.code).toBe(Code.RESOURCE_EXHAUSTED);
  expect(tooMany.details).toMatch(/MAX_DISKS=2/);
  await unary(f.disks, 'deleteDisk', { name: 'lim0' });
  await createDisk(f, 'lim2', { size: 1n }, false);
});
