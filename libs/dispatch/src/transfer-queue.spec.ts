// TransferQueue: at most maxInFlight calls, the batches that wait leave merged in order,
// each batch gets its own statuses (or its call's error), only like batches merge, and the
// byte cap holds.
import { BlkStatus, type Request } from '#blk-mq';
import type { RnullPdu } from '#rnull';
import { TransferQueue } from './transfer-queue';

/** A request stand-in: the queue reads only `bytes`; `sector` names it in the calls. */
const rq = (sector: number, bytes = 4096) => ({ sector, bytes }) as unknown as Request<RnullPdu>;

interface Call {
  readonly sectors: number[];
  readonly cacheBytes: number;
  readonly zoned: boolean;
  end(statuses?: BlkStatus[]): void;
  fail(err: Error): void;
}

function recorder() {
  const calls: Call[] = [];
  const run = (rqs: readonly Request<RnullPdu>[], cacheBytes: number, zoned: boolean) =>
    new Promise<BlkStatus[]>((resolve, reject) => {
      calls.push({
        sectors: rqs.map((r) => r.sector),
        cacheBytes,
        zoned,
        // By default each request's status is its sector, so a wrong split shows.
        end: (statuses) => resolve(statuses ?? rqs.map((r) => r.sector as BlkStatus)),
        fail: reject,
      });
    });
  return { calls, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('TransferQueue', () => {
  it('starts a batch at once (same tick) while fewer than maxInFlight calls run', () => {
    const { calls, run } = recorder();
    const q = new TransferQueue(run, 2);
    void q.submit([rq(1)], 0, false);
    void q.submit([rq(2)], 0, false);
    expect(calls.map((c) => c.sectors)).toEqual([[1], [2]]);
    expect(q.queued).toBe(0);
  });

  it('holds batches while maxInFlight calls run and sends them merged, in order, when one ends; each gets its own statuses', async () => {
    const { calls, run } = recorder();
    const q = new TransferQueue(run, 1);
    const a = q.submit([rq(1), rq(2)], 0, false);
    const b = q.submit([rq(3)], 0, false);
    const c = q.submit([rq(4), rq(5)], 0, false);
    expect(calls.map((x) => x.sectors)).toEqual([[1, 2]]);
    expect(q.queued).toBe(2);
    calls[0].end();
    await expect(a).resolves.toEqual([1, 2]);
    await tick();
    expect(calls.map((x) => x.sectors)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    calls[1].end();
    await expect(b).resolves.toEqual([3]);
    await expect(c).resolves.toEqual([4, 5]);
    expect({ calls: q.calls, batches: q.batches }).toEqual({ calls: 2, batches: 3 });
  });

  it("fails every batch of a call with the call's error, and goes on with the next", async () => {
    const { calls, run } = recorder();
    const q = new TransferQueue(run, 1);
    const a = q.submit([rq(1)], 0, false);
    const b = q.submit([rq(2)], 0, false);
    const c = q.submit([rq(3)], 0, false);
    calls[0].end();
    await a;
    await tick();
    calls[1].fail(new Error('redis gone'));
    await expect(b).rejects.toThrow('redis gone');
    await expect(c).rejects.toThrow('redis gone');
    const d = q.submit([rq(4)], 0, false);
    expect(calls[2].sectors).toEqual([4]);
    calls[2].end();
    await expect(d).resolves.toEqual([4]);
  });

  it('a run that throws at once fails its batches and frees its slot', async () => {
    let first = true;
    const q = new TransferQueue((rqs) => {
      if (first) {
        first = false;
        throw new Error('bad batch');
      }
      return Promise.resolve(rqs.map(() => BlkStatus.OK));
    }, 1);
    await expect(q.submit([rq(1)], 0, false)).rejects.toThrow('bad batch');
    await expect(q.submit([rq(2)], 0, false)).resolves.toEqual([BlkStatus.OK]);
  });

  it('merges only batches with the same cache size and zoned flag, keeping the order', async () => {
    const { calls, run } = recorder();
    const q = new TransferQueue(run, 1);
    void q.submit([rq(1)], 0, false);
    void q.submit([rq(2)], 0, false);
    void q.submit([rq(3)], 1 << 20, false);
    void q.submit([rq(4)], 1 << 20, false);
    void q.submit([rq(5)], 0, true);
    for (let i = 0; i < 3; i++) {
      calls[i].end();
      await tick();
    }
    expect(calls.map((c) => [c.sectors, c.cacheBytes, c.zoned])).toEqual([
      [[1], 0, false],
      [[2], 0, false],
      [[3, 4], 1 << 20, false],
      [[5], 0, true],
    ]);
  });

  it('merges up to maxBytes of request data; a larger batch goes alone', async () => {
    const { calls, run } = recorder();
    const q = new TransferQueue(run, 1, 16384);
    void q.submit([rq(0)], 0, false);
    void q.submit([rq(1, 8192)], 0, false);
    void q.submit([rq(2, 8192)], 0, false);
    void q.submit([rq(3, 4096)], 0, false);
    void q.submit([rq(4, 65536)], 0, false);
    for (let i = 0; i < 3; i++) {
      calls[i].end();
      await tick();
    }
    expect(calls.map((c) => c.sectors)).toEqual([[0], [1, 2], [3], [4]]);
  });

  it('refuses a maxInFlight below 1', () => {
    expect(() => new TransferQueue(recorder().run, 0)).toThrow(/bad maxInFlight 0/);
  });
});
