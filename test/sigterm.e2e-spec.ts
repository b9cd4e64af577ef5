// Every service stops within a few seconds on SIGTERM with no request lost: in-flight IO
// either completes or is returned to the client with an error.
import { CompletionBatch, Op, Status, SubmitBatch, type Completion } from '#proto/grpc/blk/v1/block_device';
import { createDisk, type Fixture, startCluster } from './support/cluster-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startCluster({ env: { STALLED_INTERVAL_MS: '1000' } });
  await createDisk(f, 'term0', { size: 16n, irqmode: 2, completionNsec: 20_000_000n, hwQueueDepth: 32 });
});
afterAll(async () => {
  await f?.stop();
});

/** Streams writes, 32 in flight, until `stop()`; resolves with what came back. */
function streamUntilStopped() {
  const call = f.io.submitStream();
  const completions: Completion[] = [];
  let sent = 0;
  let stopping = false;
  let streamError: Error | undefined;
  const pump = () => {
    while (!stopping && sent - completions.length < 32) {
      const tag = BigInt(sent++);
      call.write(
        SubmitBatch.fromPartial({
          submissions: [
            { tag, disk: 'term0', op: Op.OP_WRITE, sector: BigInt((sent % 4000) * 8), length: 4096, data: Buffer.alloc(4096, sent & 0xff) },
          ],
        }),
      );
    }
    if (stopping && completions.length === sent) call.end();
  };
  const done = new Promise<void>((resolve) => {
    call.on('data', (b: CompletionBatch) => {
      completions.push(...b.completions);
      pump();
    });
    call.on('error', (e) => {
      streamError = e;
      resolve();
    });
    call.on('end', () => resolve());
  });
  pump();
  return {
    completions,
    sentCount: () => sent,
    error: () => streamError,
    async stop() {
      stopping = true;
      pump();
      await done;
    },
  };
}

it.each(['rnull', 'completion'])('%s: SIGTERM drains its batches; with a replacement every IO completes OK', async (service) => {
  const io = streamUntilStopped();
  await new Promise((r) => setTimeout(r, 1500));
  const victim = f.cluster.live(service)[0];
  const replacement = f.cluster.spawn(service);
  const t0 = Date.now();
  const code = await victim.stop();
  const stopMs = Date.now() - t0;
  await replacement;
  await new Promise((r) => setTimeout(r, 500));
  await io.stop();
  expect(code).toBe(0);
  expect(stopMs).toBeLessThan(5000);
  expect(io.error()).toBeUndefined();
  expect(io.completions.length).toBe(io.sentCount());
  expect(new Set(io.completions.map((c) => c.tag)).size).toBe(io.sentCount());
  expect(io.completions.every((c) => c.status === Status.STATUS_OK)).toBe(true);
});

it('dispatch: SIGTERM answers every request in flight (completed, or the stream ends with an error) and exits in seconds', async () => {
  const io = streamUntilStopped();
  await new Promise((r) => setTimeout(r, 1500));
  const dispatch = f.cluster.live('dispatch')[0];
  const t0 = Date.now();
  const stopped = dispatch.stop();
  const stopPromise = io.stop();
  const code = await stopped;
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(code).toBe(0);
  await stopPromise;
  // Every submission the server read was answered; an error on the stream answers the rest.
  const answered = new Set(io.completions.map((c) => c.tag));
  expect(answered.size).toBe(io.completions.length);
  if (!io.error()) expect(answered.size).toBe(io.sentCount());
  expect(io.completions.filter((c) => c.status === Status.STATUS_OK).length).toBeGreaterThan(0);
});
