// EndWriter (endBatch-6.lua) against a real Redis: delivery with read data appended,
// IOERR for missing data, forwarding, the owner-gone and lease-lost branches.
import { MessageKind, decodeEnds, encodeEnds, readDataId, type EndRecord } from './batch-codec';
import { EndWriter } from './end-writer';
import { LeasedQueue } from './leased-queue';
import { OwnerRegistry } from './owner-registry';
import { RedisTestEnv } from './testing/redis-test-env';

const env = new RedisTestEnv('end-writer');
afterEach(() => env.cleanup());
afterAll(() => env.close());

const DISK = 'd0';
const HCTX = 1;

async function setup() {
  const keys = env.keys();
  const epoch = await new OwnerRegistry(env.redis, keys).register(DISK, 60_000);
  const queue = new LeasedQueue(env.redis, 'q', keys.hctxQueue(DISK, HCTX));
  await queue.push(Buffer.from('batch'));
  const [lease] = await queue.claim(1, 60_000);
  const rqdata = keys.requestData(DISK);
  const stageRead = (tag: number, data: Buffer) => env.redis.hset(rqdata, readDataId(epoch, HCTX, tag, 1), data);
  const header = { hctx: HCTX, epoch, seq: 3, atMs: 1000 };
  const base = { disk: DISK, leased: queue.keys.leased, member: lease.member, epoch };
  return { keys, epoch, queue, lease, rqdata, stageRead, header, base, writer: new EndWriter(env.redis, keys) };
}

const end = (tag: number, dataBytes = 0): EndRecord => ({ tag, gen: 1, status: 0, hasData: dataBytes > 0, dataBytes, sector: 0 });

describe('EndWriter.endBatch', () => {
  it('delivers the end message with read data appended in record order, deletes the data, acks', async () => {
    const { keys, epoch, queue, rqdata, stageRead, header, base, writer } = await setup();
    await stageRead(0, Buffer.from('aaaa'));
    await stageRead(2, Buffer.from('cc'));
    const msg = encodeEnds(MessageKind.End, header, [end(0, 4), end(1), end(2, 2)]);
    expect(await writer.endBatch({ ...base, end: msg })).toBe('delivered');
    const [pushed] = await env.redis.lrangeBuffer(keys.completionList(DISK, epoch), 0, -1);
    const d = decodeEnds(pushed);
    expect(d.ends).toEqual([end(0, 4), end(1), end(2, 2)]);
    expect(d.data.map((x) => x?.toString())).toEqual(['aaaa', undefined, 'cc']);
    expect(await env.redis.exists(rqdata)).toBe(0);
    expect(await queue.counts()).toEqual({ waiting: 0, leased: 0 });
  });

  it('turns a read whose data is missing or mis-sized into IOERR without data', async () => {
    const { keys, epoch, stageRead, header, base, writer } = await setup();
    await stageRead(1, Buffer.from('xyz'));
    await stageRead(2, Buffer.from('ok'));
    const msg = encodeEnds(MessageKind.End, header, [end(0, 4), end(1, 4), end(2, 2)]);
    expect(await writer.endBatch({ ...base, end: msg })).toBe('delivered');
    const d = decodeEnds((await env.redis.lrangeBuffer(keys.completionList(DISK, epoch), 0, -1))[0]);
    expect(d.ends).toEqual([
      { tag: 0, gen: 1, status: 10, hasData: false, dataBytes: 0, sector: 0 },
      { tag: 1, gen: 1, status: 10, hasData: false, dataBytes: 0, sector: 0 },
      end(2, 2),
    ]);
    expect(d.data.map((x) => x?.toString())).toEqual([undefined, undefined, 'ok']);
  });

  it("forwards a softirq or timer batch, leaving its read data for the forward's own end", async () => {
    const { keys, epoch, rqdata, stageRead, header, base, writer } = await setup();
    await stageRead(0, Buffer.from('data'));
    const fwd = encodeEnds(MessageKind.Timer, { ...header, atMs: 5000 }, [end(0, 4)]);
    expect(await writer.endBatch({ ...base, forward: { queue: 'timer', message: fwd } })).toBe('delivered');
    const timer = new LeasedQueue(env.redis, 't', keys.diskQueue(DISK, 'timer'));
    expect(await env.redis.zcard(timer.keys.marker)).toBe(1);
    const [lease] = await timer.claim(1, 10_000);
    expect(lease.body).toEqual(fwd);
    expect(await env.redis.hlen(rqdata)).toBe(1);
    expect(await env.redis.exists(keys.completionList(DISK, epoch))).toBe(0);
    // The completion worker then ends it from the timer queue.
    const msg = encodeEnds(MessageKind.End, header, [end(0, 4)]);
    expect(await writer.endBatch({ ...base, leased: timer.keys.leased, member: lease.member, end: msg })).toBe('delivered');
    expect(decodeEnds((await env.redis.lrangeBuffer(keys.completionList(DISK, epoch), 0, -1))[0]).data[0]).toEqual(Buffer.from('data'));
    expect(await env.redis.exists(rqdata)).toBe(0);
  });

  it('when the owner is gone: delivers nothing, deletes the read data of both messages, acks', async () => {
    const { keys, epoch, queue, rqdata, stageRead, header, base, writer } = await setup();
    await stageRead(0, Buffer.from('aaaa'));
    await stageRead(1, Buffer.from('bbbb'));
    await stageRead(9, Buffer.from('keep'));
    await env.redis.zrem(keys.owners(DISK), epoch);
    const msg = encodeEnds(MessageKind.End, header, [end(0, 4)]);
    const fwd = encodeEnds(MessageKind.Softirq, header, [end(1, 4)]);
    expect(await writer.endBatch({ ...base, end: msg, forward: { queue: 'softirq', message: fwd } })).toBe('ownerGone');
    expect(await env.redis.hlen(rqdata)).toBe(1);
    expect(await env.redis.exists(keys.completionList(DISK, epoch), keys.diskQueue(DISK, 'softirq').wait)).toBe(0);
    expect(await queue.counts()).toEqual({ waiting: 0, leased: 0 });
  });

  it('when the lease is lost: changes nothing', async () => {
    const { keys, epoch, queue, lease, rqdata, stageRead, header, base, writer } = await setup();
    await stageRead(0, Buffer.from('aaaa'));
    await queue.ack([lease.member]);
    await queue.push(Buffer.from('other'));
    const msg = encodeEnds(MessageKind.End, header, [end(0, 4)]);
    const fwd = encodeEnds(MessageKind.Softirq, header, [end(1)]);
    expect(await writer.endBatch({ ...base, end: msg, forward: { queue: 'softirq', message: fwd } })).toBe('leaseLost');
    expect(await env.redis.hlen(rqdata)).toBe(1);
    expect(await env.redis.exists(keys.completionList(DISK, epoch), keys.diskQueue(DISK, 'softirq').wait)).toBe(0);
  });

  it('acks alone with no messages, and refuses malformed messages changing nothing', async () => {
    const { queue, header, base, writer } = await setup();
    await expect(writer.endBatch({ ...base, end: encodeEnds(MessageKind.End, { ...header, epoch: 99 }, []) })).rejects.toThrow(/epoch 99/);
    await expect(writer.endBatch({ ...base, end: encodeEnds(MessageKind.Softirq, header, []) })).rejects.toThrow(/right kind/);
    await expect(
      writer.endBatch({ ...base, forward: { queue: 'timer', message: encodeEnds(MessageKind.End, header, []) } }),
    ).rejects.toThrow(/right kind/);
    await expect(
      writer.endBatch({ ...base, end: Buffer.concat([encodeEnds(MessageKind.End, header, [end(0)]), Buffer.from('x')]) }),
    ).rejects.toThrow(/length/);
    expect(await queue.counts()).toEqual({ waiting: 0, leased: 1 });
    expect(await writer.endBatch(base)).toBe('delivered');
    expect(await queue.counts()).toEqual({ waiting: 0, leased: 0 });
  });
});
