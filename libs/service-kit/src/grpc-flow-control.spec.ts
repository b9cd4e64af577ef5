import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES } from '#proto';
import { widenFlowControlWindows } from './grpc-flow-control';

/** What an HTTP/2 client sees of a server: its SETTINGS and, once the WINDOW_UPDATE came, the connection window. */
async function windowsSeen(port: number): Promise<{ streamWindow?: number; connectionWindow?: number }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
    // The WINDOW_UPDATE of the connection follows the SETTINGS frame; a ping round trip is behind both.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return { streamWindow: session.remoteSettings.initialWindowSize, connectionWindow: session.state.remoteWindowSize };
  } finally {
    session.destroy();
  }
}

async function boundServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}

describe('widenFlowControlWindows', () => {
  const servers: grpc.Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  it("makes a server's connections advertise the project's stream and connection windows", async () => {
    const { server, port } = await boundServer();
    servers.push(server);
    const before = await windowsSeen(port);
    widenFlowControlWindows(server);
    const after = await windowsSeen(port);
    // HTTP/2's defaults, as grpc-js leaves them, then the project's.
    expect(before).toEqual({ streamWindow: 65535, connectionWindow: 65535 });
    expect(after).toEqual({ streamWindow: GRPC_STREAM_WINDOW_BYTES, connectionWindow: GRPC_CONNECTION_WINDOW_BYTES });
  });

  it('takes other sizes, and refuses a server that is not bound (its listeners are not there yet)', async () => {
    const { server, port } = await boundServer();
    servers.push(server);
    widenFlowControlWindows(server, 256 * 1024, 2 * 1024 * 1024);
    expect(await windowsSeen(port)).toEqual({ streamWindow: 256 * 1024, connectionWindow: 2 * 1024 * 1024 });
    const unbound = new grpc.Server();
    expect(() => widenFlowControlWindows(unbound)).toThrow(/gRPC flow-control windows: cannot reach the listening sockets/);
  });
});
