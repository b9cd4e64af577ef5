// The dispatch side's bios and requests: splitting to max bytes, back merges, and how a
// request's end reaches the bios it carries.
import { BlkStatus, ReqFlag, ReqOp } from '#blk-mq';
import { IoRequest, PendingBio, splitToRequests } from './io-request';

interface Done {
  status: BlkStatus;
  data: Buffer | undefined;
  message: string;
  latencyNs: bigint;
}

/** A PendingBio that records every call of its done callback. */
function bio(op: ReqOp, bytes: number) {
  const done: Done[] = [];
  const b = new PendingBio(op, bytes, (status, data, message, latencyNs) => done.push({ status, data, message, latencyNs }));
  return { bio: b, done };
}

const filled = (n: number, seed: number) => Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff));

/** A request with one part of a fresh bio. */
function rq(op: ReqOp, sector: number, bytes: number, flags = 0): IoRequest {
  const r = new IoRequest(op, sector, flags);
  r.add({ bio: bio(op, bytes).bio, bioOffset: 0, bytes });
  return r;
}

describe('splitToRequests', () => {
  it('splits at max bytes, each request one part with its slice of the data', () => {
    const { bio: b } = bio(ReqOp.WRITE, 10240);
    const data = filled(10240, 1);
    const rqs = splitToRequests(b, ReqOp.WRITE, 16, 10240, ReqFlag.FUA, data, 4096);
    expect(rqs.map((r) => [r.sector, r.bytes, r.flags, r.op])).toEqual([
      [16, 4096, ReqFlag.FUA, ReqOp.WRITE],
      [24, 4096, ReqFlag.FUA, ReqOp.WRITE],
      [32, 2048, ReqFlag.FUA, ReqOp.WRITE],
    ]);
    expect(rqs.map((r) => r.parts.map((p) => [p.bioOffset, p.bytes]))).toEqual([[[0, 4096]], [[4096, 4096]], [[8192, 2048]]]);
    expect(Buffer.concat(rqs.map((r) => r.payload()))).toEqual(data);
    expect(rqs.every((r) => r.parts[0].bio === b && r.token === undefined)).toBe(true);
  });

  it('makes one request for an IO of exactly max bytes, or less', () => {
    expect(splitToRequests(bio(ReqOp.READ, 8192).bio, ReqOp.READ, 0, 8192, 0, undefined, 8192)).toHaveLength(1);
    expect(splitToRequests(bio(ReqOp.READ, 4096).bio, ReqOp.READ, 0, 4096, 0, undefined, 8192)).toHaveLength(1);
    expect(splitToRequests(bio(ReqOp.READ, 8192 + 512).bio, ReqOp.READ, 0, 8192 + 512, 0, undefined, 8192)).toHaveLength(2);
  });

  it('splits DISCARD and WRITE_ZEROES like data ops, with no payload', () => {
    for (const op of [ReqOp.DISCARD, ReqOp.WRITE_ZEROES]) {
      const rqs = splitToRequests(bio(op, 12288).bio, op, 0, 12288, 0, undefined, 8192);
      expect(rqs.map((r) => [r.sector, r.bytes])).toEqual([[0, 8192], [16, 4096]]);
      expect(rqs.every((r) => r.parts[0].data === undefined)).toBe(true);
    }
  });

  it('makes FLUSH one empty request at sector 0', () => {
    const { bio: b, done } = bio(ReqOp.FLUSH, 0);
    const rqs = splitToRequests(b, ReqOp.FLUSH, 0, 0, ReqFlag.PREFLUSH, undefined, 4096);
    expect(rqs).toHaveLength(1);
    expect(rqs[0]).toMatchObject({ op: ReqOp.FLUSH, sector: 0, bytes: 0, flags: ReqFlag.PREFLUSH });
    expect(rqs[0].parts).toEqual([{ bio: b, bioOffset: 0, bytes: 0 }]);
    rqs[0].end(BlkStatus.OK, undefined);
    expect(done.map((d) => d.status)).toEqual([BlkStatus.OK]);
  });

  it('adds one part to the bio per request: the bio completes only when all have ended', () => {
    const { bio: b, done } = bio(ReqOp.WRITE, 12288);
    const rqs = splitToRequests(b, ReqOp.WRITE, 0, 12288, 0, filled(12288, 0), 4096);
    rqs[0].end(BlkStatus.OK, undefined);
    rqs[2].end(BlkStatus.OK, undefined);
    expect(done).toEqual([]);
    rqs[1].end(BlkStatus.OK, undefined);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ status: BlkStatus.OK, data: undefined, message: '' });
  });
});

describe('IoRequest.canBackMerge', () => {
  const a = () => rq(ReqOp.WRITE, 0, 4096, ReqFlag.FUA);

  it('merges a contiguous request of the same op and flags that fits', () => {
    const first = a();
    expect(first.endSector).toBe(8);
    expect(first.canBackMerge(rq(ReqOp.WRITE, 8, 4096, ReqFlag.FUA), 8192)).toBe(true);
    expect(rq(ReqOp.READ, 0, 4096).canBackMerge(rq(ReqOp.READ, 8, 4096), 8192)).toBe(true);
  });

  it('refuses a different op, different flags, a gap, an overlap or a request before it', () => {
    expect(a().canBackMerge(rq(ReqOp.READ, 8, 4096, ReqFlag.FUA), 1 << 20)).toBe(false);
    expect(a().canBackMerge(rq(ReqOp.WRITE, 8, 4096, 0), 1 << 20)).toBe(false);
    expect(a().canBackMerge(rq(ReqOp.WRITE, 16, 4096, ReqFlag.FUA), 1 << 20)).toBe(false);
    expect(a().canBackMerge(rq(ReqOp.WRITE, 0, 4096, ReqFlag.FUA), 1 << 20)).toBe(false);
    expect(rq(ReqOp.WRITE, 8, 4096, ReqFlag.FUA).canBackMerge(a(), 1 << 20)).toBe(false);
  });

  it('refuses a merge over max bytes', () => {
    expect(a().canBackMerge(rq(ReqOp.WRITE, 8, 4096, ReqFlag.FUA), 8191)).toBe(false);
  });

  it('never merges FLUSH, DISCARD or WRITE_ZEROES', () => {
    for (const op of [ReqOp.DISCARD, ReqOp.WRITE_ZEROES]) {
      expect(rq(op, 0, 4096).canBackMerge(rq(op, 8, 4096), 1 << 20)).toBe(false);
    }
    expect(rq(ReqOp.FLUSH, 0, 0).canBackMerge(rq(ReqOp.FLUSH, 0, 0), 1 << 20)).toBe(false);
  });

  it('after a merge the parts are in order and the payload is their concatenation', () => {
    const { bio: b1 } = bio(ReqOp.WRITE, 4096);
    const { bio: b2 } = bio(ReqOp.WRITE, 8192);
    const [first] = splitToRequests(b1, ReqOp.WRITE, 0, 4096, 0, filled(4096, 1), 1 << 20);
    const [second] = splitToRequests(b2, ReqOp.WRITE, 8, 8192, 0, filled(8192, 2), 1 << 20);
    expect(first.canBackMerge(second, 1 << 20)).toBe(true);
    for (const p of second.parts) first.add(p);
    expect(first.bytes).toBe(12288);
    expect(first.endSector).toBe(24);
    expect(first.payload()).toEqual(Buffer.concat([filled(4096, 1), filled(8192, 2)]));
  });
});

describe('IoRequest.end', () => {
  it('distributes read data to the bios it carries parts of, at their offsets', () => {
    const x = bio(ReqOp.READ, 8192);
    const y = bio(ReqOp.READ, 4096);
    const r = new IoRequest(ReqOp.READ, 0, 0);
    x.bio.addPart();
    x.bio.addPart();
    y.bio.addPart();
    r.add({ bio: x.bio, bioOffset: 4096, bytes: 4096 });
    r.add({ bio: y.bio, bioOffset: 0, bytes: 4096 });
    const data = filled(8192, 5);
    r.end(BlkStatus.OK, data);
    expect(x.done).toEqual([]);
    expect(y.done).toHaveLength(1);
    expect(y.done[0].data).toEqual(data.subarray(4096));

    const r0 = new IoRequest(ReqOp.READ, 0, 0);
    r0.add({ bio: x.bio, bioOffset: 0, bytes: 4096 });
    r0.end(BlkStatus.OK, filled(4096, 9));
    expect(x.done).toHaveLength(1);
    expect(x.done[0]).toMatchObject({ status: BlkStatus.OK, message: '' });
    expect(x.done[0].data).toEqual(Buffer.concat([filled(4096, 9), data.subarray(0, 4096)]));
  });

  it('hands a one-part read the fetched buffer itself, and copies when parts share a bio', () => {
    const x = bio(ReqOp.READ, 4096);
    const [r] = splitToRequests(x.bio, ReqOp.READ, 0, 4096, 0, undefined, 4096);
    const data = filled(8192, 3);
    r.end(BlkStatus.OK, data.subarray(4096));
    expect(x.done[0].data!.buffer).toBe(data.buffer);
    expect(x.done[0].data).toEqual(filled(4096, 3));

    const y = bio(ReqOp.READ, 8192);
    const [a, b] = splitToRequests(y.bio, ReqOp.READ, 0, 8192, 0, undefined, 4096);
    const da = filled(4096, 1);
    a.end(BlkStatus.OK, da);
    b.end(BlkStatus.OK, filled(4096, 2));
    expect(y.done[0].data!.buffer).not.toBe(da.buffer);
    expect(y.done[0].data).toEqual(Buffer.concat([filled(4096, 1), filled(4096, 2)]));
  });

  it('fills the parts with zeros when a read brings no data (memory_backed=0)', () => {
    const x = bio(ReqOp.READ, 4096);
    const [r] = splitToRequests(x.bio, ReqOp.READ, 0, 4096, 0, undefined, 4096);
    x.bio.data!.fill(0xee);
    r.end(BlkStatus.OK, undefined);
    expect(x.done[0].data).toEqual(Buffer.alloc(4096));
  });

  it('gives a failed read no data and passes status and message to every bio', () => {
    const x = bio(ReqOp.READ, 4096);
    const y = bio(ReqOp.READ, 4096);
    const r = new IoRequest(ReqOp.READ, 0, 0);
    for (const b of [x, y]) {
      b.bio.addPart();
      r.add({ bio: b.bio, bioOffset: 0, bytes: 4096 });
    }
    r.end(BlkStatus.IOERR, filled(8192, 1), 'lost');
    for (const b of [x, y]) expect(b.done).toEqual([expect.objectContaining({ status: BlkStatus.IOERR, data: undefined, message: 'lost' })]);
  });
});

describe('PendingBio', () => {
  it('allocates a data buffer for READ only', () => {
    expect(bio(ReqOp.READ, 8192).bio.data).toHaveLength(8192);
    expect(bio(ReqOp.WRITE, 8192).bio.data).toBeUndefined();
    expect(bio(ReqOp.DISCARD, 8192).bio.data).toBeUndefined();
  });

  it('completes once, after the last part, with the first failure and its message', () => {
    const { bio: b, done } = bio(ReqOp.WRITE, 16384);
    for (let i = 0; i < 4; i++) b.addPart();
    b.endPart(BlkStatus.OK);
    b.endPart(BlkStatus.TIMEOUT, 'first');
    b.endPart(BlkStatus.IOERR, 'second');
    expect(done).toEqual([]);
    b.endPart(BlkStatus.OK);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ status: BlkStatus.TIMEOUT, data: undefined, message: 'first' });
    expect(typeof done[0].latencyNs).toBe('bigint');
    expect(done[0].latencyNs >= 0n).toBe(true);
  });

  it('hands a READ its data only when every part succeeded', () => {
    const ok = bio(ReqOp.READ, 512);
    ok.bio.addPart();
    ok.bio.endPart(BlkStatus.OK);
    expect(ok.done[0].data).toBe(ok.bio.data);

    const bad = bio(ReqOp.READ, 1024);
    bad.bio.addPart();
    bad.bio.addPart();
    bad.bio.endPart(BlkStatus.MEDIUM, 'bad page');
    bad.bio.endPart(BlkStatus.OK);
    expect(bad.done).toEqual([expect.objectContaining({ status: BlkStatus.MEDIUM, data: undefined, message: 'bad page' })]);
  });
});
