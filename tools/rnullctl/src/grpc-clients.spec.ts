// RnullClients against two fake dispatch instances behind one target: unary calls go
// round robin over both (what `--address dns:///dispatch:50051` does with compose's scale).
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { GRPC_STREAM_WINDOW_BYTES } from '#proto';
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

it("receives with the project's flow-control windows (libs/proto/src/grpc-flow-control.ts)", async () => {
  // A bare HTTP/2 server that records, when a call arrives, the stream window the client
  // advertised and the connection window it opened, and ends the call UNIMPLEMENTED. The
  // client sends its SETTINGS and WINDOW_UPDATE before any call's HEADERS.
  const server = http2.createServer();
  const seen = new Promise<{ streamWindow?: number; connectionWindow?: number }>((resolve) =>
    server.on('stream', (stream) => {
      resolve({ streamWindow: stream.session?.remoteSettings.initialWindowSize, connectionWindow: stream.session?.state.remoteWindowSize });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const clients = new RnullClients(`127.0.0.1:${port}`, 5000);
  try {
    await expect(clients.listDisks()).rejects.toThrow(/UNIMPLEMENTED/);
    expect(await seen).toEqual({ streamWindow: GRPC_STREAM_WINDOW_BYTES, connectionWindow: GRPC_STREAM_WINDOW_BYTES });
  } finally {
    clients.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
