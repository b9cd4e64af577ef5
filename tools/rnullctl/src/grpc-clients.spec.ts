// RnullClients against two fake dispatch instances behind one target: unary calls go
// round robin over both (what `--address dns:///dispatch:50051` does with compose's scale).
import { Op } from '#proto/grpc/blk/v1/block_device';
import { RnullClients } from './grpc-clients';
import { FakeRnullServer } from './testing/fake-rnull-server';

it('spreads unary calls over every address of an ipv4: target list, round robin', async () => {
  const fakes = [await FakeRnullServer.start(), await FakeRnullServer.start()];
  try {
    for (const f of fakes) {
      const one = new RnullClients(f.address, 5000);
      await one.createDisk({ name: 'rr0', attributes: { size: 4n }, power: true });
      one.close();
    }
    const both = new RnullClients(`ipv4:${fakes.map((f) => f.address).join(',')}`, 5000);
    for (let i = 0; i < 20; i++)
      await both.submit({ tag: BigInt(i), disk: 'rr0', op: Op.OP_READ, sector: 0n, length: 4096, data: Buffer.alloc(0), flags: 0 });
    both.close();
    expect(fakes[0].ios + fakes[1].ios).toBe(20);
    expect(fakes[0].ios).toBeGreaterThanOrEqual(8);
    expect(fakes[1].ios).toBeGreaterThanOrEqual(8);
  } finally {
    await Promise.all(fakes.map((f) => f.stop()));
  }
});
