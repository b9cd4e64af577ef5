// A port picked free can be taken by another socket before the child binds it; the cluster
// then starts that child again on fresh ports instead of failing (Cluster.spawn).
import * as net from 'node:net';
import { type Fixture, startCluster } from './support/cluster-fixture';

let f: Fixture;
let holder: net.Server;
beforeAll(async () => {
  f = await startCluster();
  holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await f?.stop();
  await new Promise((resolve) => holder?.close(resolve));
});

it('a service whose picked port is in use is started again on a fresh one', async () => {
  const busy = (holder.address() as net.AddressInfo).port;
  const offered: string[] = [];
  const p = await f.cluster.spawn('rnull', async () => {
    // The first start gets the held port, as if another socket had taken it meanwhile.
    const env: Record<string, string> = offered.length === 0 ? { HTTP_PORT: String(busy) } : {};
    offered.push(env.HTTP_PORT ?? 'fresh');
    return env;
  });
  expect(offered).toEqual([String(busy), 'fresh']);
  expect(p.child.exitCode).toBeNull();
  expect(f.lines().some((l) => l.includes('EADDRINUSE'))).toBe(true);
  expect(f.lines().some((l) => l.includes('starting it again on fresh ports'))).toBe(true);
});

it('a port that stays in use fails the start after three tries', async () => {
  const busy = (holder.address() as net.AddressInfo).port;
  let calls = 0;
  const attempt = f.cluster.spawn('completion', async () => {
    calls++;
    return { HTTP_PORT: String(busy) };
  });
  await expect(attempt).rejects.toThrow(/exited with code 1 before it was ready/);
  expect(calls).toBe(3);
});
