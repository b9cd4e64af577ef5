// Redis unreachable: requests get UNAVAILABLE and no service goes down; when Redis
// returns, the services reconnect and IO works again.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status as Code } from '@grpc/grpc-js';
import { Op, Status } from '#proto/grpc/blk/v1/block_device';
import { freePort, redisAnswers } from '../tools/cluster/private-redis';
import { createDisk, eventually, failureCode, type Fixture, startCluster, submit } from './support/cluster-fixture';

let port: number;
let dir: string;
let server: ChildProcess | undefined;
let f: Fixture;

/** A private redis-server that keeps its data in an append-only file across restarts. */
async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  expect(await eventually(() => redisAnswers(`redis://127.0.0.1:${port}`, 200), 10_000, 50)).toBe(true);
}

beforeAll(async () => {
  port = await freePort();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-outage-'));
  await startRedis();
  f = await startCluster({ redisUrl: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await f?.stop();
  server?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

it('answers UNAVAILABLE while Redis is away and serves IO again when it returns', async () => {
  await createDisk(f, 'out0', { size: 4n });
  const data = Buffer.alloc(4096, 9);
  expect((await submit(f, { disk: 'out0', op: Op.OP_WRITE, sector: 0n, length: 4096, data })).status).toBe(Status.STATUS_OK);

  server!.kill('SIGKILL');
  await new Promise((r) => server!.once('exit', r));
  // dispatch notices the lost connection: its health check fails.
  const { http } = await f.cluster.live('dispatch')[0].ready;
  expect(await eventually(async () => (await fetch(`http://127.0.0.1:${http}/healthz`)).status === 503, 10_000, 50)).toBe(true);
  const e = await failureCode(submit(f, { disk: 'out0', op: Op.OP_READ, sector: 0n, length: 4096 }));
  expect(e.code).toBe(Code.UNAVAILABLE);
  expect(e.details).toMatch(/redis/i);
  const g = await failureCode(new Promise((res, rej) => f.disks.listDisks({}, (err, r) => (err ? rej(err) : res(r)))));
  expect(g.code).toBe(Code.UNAVAILABLE);

  await startRedis();
  expect(
    await eventually(
      async () => {
        try {
          return (await submit(f, { disk: 'out0', op: Op.OP_READ, sector: 0n, length: 4096 })).status === Status.STATUS_OK;
        } catch {
          return false;
        }
      },
      30_000,
      200,
    ),
  ).toBe(true);
  const r = await submit(f, { disk: 'out0', op: Op.OP_READ, sector: 0n, length: 4096 });
  expect(Buffer.compare(Buffer.from(r.data), data)).toBe(0);
  for (const p of f.cluster.processes) expect(p.child.exitCode).toBeNull();
});
