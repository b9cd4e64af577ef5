import { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { BlockDeviceClient, CompletionBatch, Status, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { LoadSpec, runLoad, SubmitStreamOpener } from './load-generator';
import { GenDiskClient } from '#proto/grpc/blk/v1/gen_disk';
import { FakeOptions, FakeRnullServer } from './testing/fake-rnull-server';

/** A SubmitStream double: `onWrite` sees each batch and may push completions or fail. */
function streamDouble(onWrite: (batch: SubmitBatch, s: Duplex) => void): SubmitStreamOpener {
  return {
    submitStream: () => {
      const s = new Duplex({
        objectMode: true,
        read() {},
        write(batch: SubmitBatch, _enc, cb) {
          cb();
          onWrite(batch, s);
        },
      });
      return Object.assign(s, { cancel: () => undefined }) as unknown as ReturnType<SubmitStreamOpener['submitStream']>;
    },
  };
}

describe('runLoad against the fake server', () => {
  let fake: FakeRnullServer;
  let client: BlockDeviceClient;

  /** Starts the fake with one powered 8 MiB disk d0 and a client for it. */
  async function start(options: FakeOptions = {}): Promise<void> {
    fake = await FakeRnullServer.start(options);
    client = new BlockDeviceClient(fake.address, grpc.credentials.createInsecure());
    const gd = new GenDiskClient(fake.address, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) =>
      gd.createDisk({ name: 'd0', attributes: { size: 8n }, power: true }, (err) => (err ? reject(err) : resolve())),
    );
    gd.close();
  }

  function spec(overrides: Partial<LoadSpec> = {}): LoadSpec {
    return {
      client,
      disk: 'd0',
      capacitySectors: fake.disks.get('d0')!.disk.capacitySectors,
      blockSize: 4096,
      rw: 'randrw',
      queueDepth: 8,
      batchSize: 4,
      ios: 500,
      ...overrides,
    };
  }

  afterEach(async () => {
    client?.close();
    await fake?.stop();
  });

  it('completes exactly `ios` IOs, counting reads and writes and every byte', async () => {
    await start();
    const r = await runLoad(spec({ ios: 500 }));
    expect(r.ios).toBe(500);
    expect(r.reads + r.writes).toBe(500);
    expect(r.reads).toBeGreaterThan(0);
    expect(r.writes).toBeGreaterThan(0);
    expect(r.bytes).toBe(500 * 4096);
    expect(r.errors).toEqual({});
    expect(r.latency.count).toBe(500);
    expect(r.latency.p50Ns).toBeGreaterThan(0);
    expect(r.latency.maxNs).toBeGreaterThanOrEqual(r.latency.p999Ns);
    expect(fake.ios).toBe(500);
  });

  it('keeps exactly qd IOs in flight, in messages of at most `batch` submissions', async () => {
    await start({ completionDelayMs: 2 });
    const seen = { outstanding: 0, max: 0 };
    const counting: SubmitStreamOpener = {
      submitStream: () => {
        const s = client.submitStream();
        const write = s.write.bind(s) as (b: SubmitBatch) => boolean;
        s.write = ((b: SubmitBatch) => {
          seen.outstanding += b.submissions.length;
          seen.max = Math.max(seen.max, seen.outstanding);
          return write(b);
        }) as typeof s.write;
        s.on('data', (b: CompletionBatch) => (seen.outstanding -= b.completions.length));
        return s;
      },
    };
    const r = await runLoad(spec({ client: counting, ios: 400, queueDepth: 16, batchSize: 4, rw: 'randread' }));
    expect(r.ios).toBe(400);
    expect(seen.max).toBe(16);
    expect(seen.outstanding).toBe(0);
    expect(fake.largestBatch).toBe(4);
    expect(fake.streamMessages).toBe(r.messagesSent);
    expect(r.messagesSent).toBeGreaterThanOrEqual(100);
  });

  it('caps write payload per message at maxMessageBytes', async () => {
    await start();
    const r = await runLoad(spec({ ios: 64, queueDepth: 64, batchSize: 64, rw: 'write', blockSize: 65536, maxMessageBytes: 262144 }));
    expect(r.ios).toBe(64);
    expect(r.messagesSent).toBe(16);
    expect(fake.largestBatch).toBe(4);
  });

  it('counts non-OK completions by status with the server message', async () => {
    await start({ failEvery: { n: 10, status: Status.STATUS_IOERR, message: 'injected' } });
    const r = await runLoad(spec({ ios: 200, rw: 'read' }));
    expect(r.ios).toBe(200);
    expect(r.errors).toEqual({ STATUS_IOERR: 20 });
    expect(r.errorMessages).toEqual({ STATUS_IOERR: 'injected' });
    expect(r.bytes).toBe(180 * 4096);
  });

  it('stops issuing after durationMs and drains what is in flight', async () => {
    await start({ completionDelayMs: 1 });
    const t0 = Date.now();
    const r = await runLoad(spec({ ios: undefined, durationMs: 150 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.ios).toBeGreaterThan(0);
    expect(r.ios).toBe(fake.ios);
  });

  it('stops issuing on abort and reports progress while running', async () => {
    await start({ completionDelayMs: 1 });
    const stop = new AbortController();
    const reports: number[] = [];
    const r = await runLoad(
      spec({
        ios: undefined,
        durationMs: 60_000,
        signal: stop.signal,
        progressIntervalMs: 20,
        onProgress: (p) => {
          reports.push(p.ios);
          if (reports.length === 3) stop.abort();
        },
      }),
    );
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(r.ios).toBe(fake.ios);
    expect(r.ios).toBeGreaterThanOrEqual(reports[2]);
  });
});

describe('runLoad failures', () => {
  const base = { disk: 'd0', capacitySectors: 2048n, blockSize: 4096, rw: 'randread' as const, queueDepth: 4, batchSize: 2, ios: 10 };

  it('rejects with the stream error', async () => {
    const client = streamDouble((_b, s) => s.destroy(Object.assign(new Error('boom'), { code: 13 })));
    await expect(runLoad({ ...base, client })).rejects.toThrow('boom');
  });

  it('rejects when the server ends the stream with IOs in flight', async () => {
    const client = streamDouble((_b, s) => s.push(null));
    await expect(runLoad({ ...base, client })).rejects.toThrow(/ended the stream with \d+ IOs in flight/);
  });

  it('counts completions for tags that are not in flight', async () => {
    const client = streamDouble((b, s) => {
      const completions = b.submissions.map((x) => ({
        tag: x.tag,
        status: Status.STATUS_OK,
        data: Buffer.alloc(0),
        message: '',
        latencyNsec: 0n,
      }));
      s.push(CompletionBatch.fromPartial({ completions: [...completions, { tag: 999_999n }] }));
    });
    const r = await runLoad({ ...base, client });
    expect(r.ios).toBe(10);
    expect(r.unknownTags).toBe(r.messagesReceived);
  });

  it('refuses a disk smaller than one IO and a bad block size', async () => {
    const client = streamDouble(() => undefined);
    await expect(runLoad({ ...base, client, capacitySectors: 4n })).rejects.toThrow(/smaller than one 4096-byte IO/);
    await expect(runLoad({ ...base, client, blockSize: 1000 })).rejects.toThrow(/multiple of 512/);
  });
});
