// GRPC_MAX_INFLIGHT_PER_CLIENT with fake calls and a fake block layer (unit test): streams
// of one client share one budget, wait for room (reads paused) and go on as the client's
// submissions end, whichever stream they were on; another client is not held back; the
// entry of a client goes once no call holds it and nothing is in flight.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { BlkStatus } from '#blk-mq';
import type { BlockLayer } from './block-layer';
import { ClientBudgets, clientKeyOf } from './client-budget';
import { type StreamSubmission, SubmitStream } from './submit-stream';

class FakeCall extends EventEmitter {
  paused = false;
  written: string[] = [];
  ended = false;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write(m: { completions: { tag: string }[] }): boolean {
    this.written.push(...m.completions.map((c) => c.tag));
    return true;
  }
  end() {
    this.ended = true;
  }
}

const reads = (n: number, from = 0): StreamSubmission[] =>
  Array.from({ length: n }, (_, i) => ({ tag: String(from + i), disk: 'd0', op: 0, sector: '0', length: 4096 }) as StreamSubmission);

function setUp(limit: number) {
  const pending: (() => void)[] = [];
  const layer = {
    submit: jest.fn(() => new Promise((resolve) => pending.push(() => resolve({ status: BlkStatus.OK, latencyNs: 0n })))),
  } as unknown as BlockLayer & { submit: jest.Mock };
  const budgets = new ClientBudgets(limit);
  const open = (client: string) => {
    const call = new FakeCall();
    const stream = new SubmitStream(call as never, layer, budgets.of(client));
    return { call, stream };
  };
  const end = async (n: number) => {
    for (const f of pending.splice(0, n)) f();
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  };
  return { layer, budgets, open, end };
}

it('holds a client to the limit over all its streams; the waiting stream pauses and goes on as any of them ends', async () => {
  const { layer, budgets, open, end } = setUp(100);
  const a = open('peer:10.0.0.1');
  const b = open('peer:10.0.0.1');
  a.call.emit('data', { submissions: reads(80) });
  b.call.emit('data', { submissions: reads(80) });
  expect(layer.submit).toHaveBeenCalledTimes(100);
  expect(budgets.of('peer:10.0.0.1').held).toBe(100);
  expect([a.call.paused, b.call.paused]).toEqual([false, true]);

  await end(30); // a's first 30 end: b takes their room
  expect(layer.submit).toHaveBeenCalledTimes(130);
  expect(a.call.written).toHaveLength(30);
  await end(30);
  expect(layer.submit).toHaveBeenCalledTimes(160);
  expect(b.call.paused).toBe(false);
  a.call.emit('end');
  b.call.emit('end');
  await end(100);
  expect([a.call.written.length, b.call.written.length, a.call.ended, b.call.ended]).toEqual([80, 80, true, true]);
});

it('does not hold back another client', async () => {
  const { layer, open } = setUp(10);
  open('peer:10.0.0.1').call.emit('data', { submissions: reads(50) });
  const other = open('token:abc');
  other.call.emit('data', { submissions: reads(5) });
  expect(layer.submit).toHaveBeenCalledTimes(15);
  expect(other.call.paused).toBe(false);
});

it('gives back the room of a refused submission and of a closed stream, and drops an idle client', async () => {
  const { layer, budgets, open, end } = setUp(10);
  const a = open('peer:1');
  a.call.emit('data', { submissions: [...reads(3), ...reads(1)] }); // tag 0 twice: the second is refused at once
  const entry = budgets.of('peer:1'); // held by the test too, until it releases it
  expect(entry.held).toBe(3);
  entry.release();
  a.call.emit('cancelled'); // the client went away with 3 in flight
  expect(budgets.size).toBe(1);
  await end(3);
  expect([entry.held, budgets.size]).toEqual([0, 0]);
  expect(layer.submit).toHaveBeenCalledTimes(3);
});

it('knows a client by its token (hashed) where it sends one, else by its address without the port', () => {
  const md = new grpc.Metadata();
  expect(clientKeyOf(md, 'ipv4:127.0.0.1:5555')).toBe('peer:127.0.0.1');
  expect(clientKeyOf(md, 'ipv6:[::1]:5555')).toBe('peer:[::1]');
  md.set('authorization', 'Bearer s3cret-token');
  const key = clientKeyOf(md, 'ipv4:127.0.0.1:5555');
  expect(key).toMatch(/^token:[0-9a-f]{16}$/);
  expect(key).not.toContain('s3cret');
});
