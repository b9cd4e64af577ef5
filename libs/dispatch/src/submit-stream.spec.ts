// SubmitStream's bounds with a fake call and a fake block layer (unit test): one message of
// thousands of submissions never has more than STREAM_INFLIGHT_LIMIT in flight, the rest
// waits and goes as earlier ones end, and a client that does not take its completions
// stops the backlog (the bad-input run of issue 15: 10,000 x 64 KiB reads in one message
// grew dispatch by ~500 MiB with 9,680 in flight).
import { EventEmitter } from 'node:events';
import { BlkStatus } from '#blk-mq';
import type { BlockLayer } from './block-layer';
import { STREAM_INFLIGHT_LIMIT, type StreamSubmission, SubmitStream } from './submit-stream';

class FakeCall extends EventEmitter {
  paused = false;
  writable = true;
  written: { tag: string; status: number }[] = [];
  ended = false;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write(m: { completions: { tag: string; status: number }[] }): boolean {
    this.written.push(...m.completions);
    return this.writable;
  }
  end() {
    this.ended = true;
  }
}

function setUp() {
  const call = new FakeCall();
  const pending: (() => void)[] = [];
  const layer = {
    submit: jest.fn(
      () => new Promise((resolve) => pending.push(() => resolve({ status: BlkStatus.OK, latencyNs: 0n, data: Buffer.alloc(0) }))),
    ),
  };
  const stream = new SubmitStream(call as never, layer as unknown as BlockLayer);
  const end = async (n: number) => {
    for (const f of pending.splice(0, n)) f();
    // The ends settle (microtasks), then the completions are flushed (setImmediate).
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  };
  return { call, layer, stream, end };
}

const reads = (n: number, from = 0): StreamSubmission[] =>
  Array.from({ length: n }, (_, i) => ({ tag: String(from + i), disk: 'd0', op: 0, sector: '0', length: 65536 }) as StreamSubmission);

describe('SubmitStream bounds', () => {
  it('keeps one huge message within the in-flight limit, pausing reads, and submits the rest as earlier ones end', async () => {
    const { call, layer, end } = setUp();
    call.emit('data', { submissions: reads(3000) });
    expect(layer.submit).toHaveBeenCalledTimes(STREAM_INFLIGHT_LIMIT);
    expect(call.paused).toBe(true);

    await end(10);
    expect(layer.submit).toHaveBeenCalledTimes(STREAM_INFLIGHT_LIMIT + 10);
    expect(call.written).toHaveLength(10);

    call.emit('end');
    for (let left = 3000; left > 0; left -= STREAM_INFLIGHT_LIMIT) await end(STREAM_INFLIGHT_LIMIT);
    await end(STREAM_INFLIGHT_LIMIT);
    expect(layer.submit).toHaveBeenCalledTimes(3000);
    expect(new Set(call.written.map((c) => c.tag)).size).toBe(3000);
    expect(call.ended).toBe(true);
    expect(call.paused).toBe(false);
  });

  it('submits nothing more from the backlog while the client does not take completions, and goes on at drain', async () => {
    const { call, layer, end } = setUp();
    call.writable = false; // the client never reads
    call.emit('data', { submissions: reads(2000) });
    await end(50); // these 50 completions are written, and the write says "blocked"
    const submitted = layer.submit.mock.calls.length;
    await end(50);
    expect(layer.submit.mock.calls.length).toBe(submitted); // ended ones are not replaced while blocked
    expect(submitted).toBeLessThanOrEqual(STREAM_INFLIGHT_LIMIT + 50);
    expect(call.paused).toBe(true);

    call.writable = true;
    call.emit('drain');
    expect(layer.submit.mock.calls.length).toBeGreaterThan(submitted);
  });
});
