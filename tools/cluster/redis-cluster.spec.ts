// The Redis Cluster fixture against real redis-server processes: a node whose picked port
// was taken before it bound it is started again on fresh ports.
import * as net from 'node:net';
import { freePort } from './private-redis';
import { RedisCluster } from './redis-cluster';

let holder: net.Server | undefined;
afterEach(async () => {
  await new Promise((r) => (holder ? holder.close(r) : r(undefined)));
  holder = undefined;
});

it('starts a node again on fresh ports when a picked port is already taken', async () => {
  // It accepts and closes at once, as a port some other program holds.
  holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((r) => holder!.listen(0, '127.0.0.1', r));
  const busy = (holder.address() as net.AddressInfo).port;
  const picked: number[] = [];
  // The first port handed out is the held one, as if another socket had taken it meanwhile.
  const pickPort = async () => {
    const port = picked.length === 0 ? busy : await freePort();
    picked.push(port);
    return port;
  };
  const cluster = new RedisCluster({ masters: 3, replicasPerMaster: 0, pickPort });
  try {
    await cluster.start();
    expect(picked[0]).toBe(busy);
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.nodes.map((n) => n.port)).not.toContain(busy);
    expect((await cluster.masters()).length).toBe(3);
  } finally {
    await cluster.stop();
  }
}, 60_000);
