// The batch codec: round trips, every refusal, and Lua's struct.unpack reading what Node
// wrote with the exported format strings (a real Redis EVAL).
import {
  CodecError,
  END_FORMAT,
  HEADER_BYTES,
  HEADER_FORMAT,
  MessageKind,
  REQUEST_FORMAT,
  REQUEST_ID_FORMAT,
  decodeBatch,
  decodeEnds,
  encodeBatch,
  encodeEnds,
  readDataId,
  requestId,
  type EndRecord,
  type RequestRecord,
} from './batch-codec';
import { RedisTestEnv } from './testing/redis-test-env';

const H = { hctx: 3, epoch: 70000, seq: 4000000000, atMs: 1764630000123.5 };
const RQ: RequestRecord = { tag: 65535, gen: 0xfffffffe, op: 1, flags: 0x81, bytes: 1 << 20, sector: 2 ** 53 - 1 };
const END: EndRecord = { tag: 7, gen: 9, status: 10, hasData: true, dataBytes: 4, sector: 123456789012 };

function refuses(fn: () => unknown, field: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CodecError);
  expect(err).toBeInstanceOf(RangeError);
  expect((err as CodecError).field).toBe(field);
}

describe('batch codec', () => {
  it('round-trips a batch, an empty batch, and end messages with and without data', () => {
    const b = encodeBatch(H, [RQ, { ...RQ, tag: 0, gen: 0, op: 0, sector: 0, bytes: 0 }]);
    expect(b.length).toBe(24 + 2 * 20);
    expect(decodeBatch(b)).toEqual({
      header: { kind: MessageKind.Batch, count: 2, ...H },
      rqs: [RQ, { ...RQ, tag: 0, gen: 0, op: 0, sector: 0, bytes: 0 }],
    });
    expect(decodeBatch(encodeBatch(H, [])).rqs).toEqual([]);

    const ends = [END, { ...END, tag: 8, hasData: false, dataBytes: 0 }, { ...END, tag: 9, dataBytes: 2 }];
    const msg = Buffer.concat([encodeEnds(MessageKind.End, H, ends), Buffer.from('abcdXY')]);
    const d = decodeEnds(msg);
    expect(d.header).toEqual({ kind: MessageKind.End, count: 3, ...H });
    expect(d.ends).toEqual(ends);
    expect(d.data.map((x) => x?.toString())).toEqual(['abcd', undefined, 'XY']);
    expect(d.data[0]!.buffer).toBe(msg.buffer);

    const timer = decodeEnds(encodeEnds(MessageKind.Timer, H, ends));
    expect(timer.header.kind).toBe(MessageKind.Timer);
    expect(timer.data).toEqual([undefined, undefined, undefined]);
  });

  it('builds request ids and read-data ids', () => {
    expect(requestId(1, 2, 3, 4).toString('hex')).toBe('01000000' + '0200' + '0300' + '04000000');
    expect(readDataId(1, 2, 3, 4).toString('hex')).toBe(requestId(1, 2, 3, 4).toString('hex') + '72');
    refuses(() => requestId(2 ** 32, 0, 0, 0), 'epoch');
    refuses(() => readDataId(0, 0, 65536, 0), 'tag');
  });

  it('refuses every out-of-range field on encode, naming it', () => {
    refuses(() => encodeBatch({ ...H, hctx: 65536 }, []), 'hctx');
    refuses(() => encodeBatch({ ...H, epoch: -1 }, []), 'epoch');
    refuses(() => encodeBatch({ ...H, seq: 1.5 }, []), 'seq');
    refuses(() => encodeBatch({ ...H, atMs: NaN }, []), 'atMs');
    refuses(() => encodeBatch(H, [{ ...RQ, tag: 65536 }]), 'rqs[0].tag');
    refuses(() => encodeBatch(H, [RQ, { ...RQ, gen: 2 ** 32 }]), 'rqs[1].gen');
    refuses(() => encodeBatch(H, [{ ...RQ, op: 256 }]), 'rqs[0].op');
    refuses(() => encodeBatch(H, [{ ...RQ, flags: -1 }]), 'rqs[0].flags');
    refuses(() => encodeBatch(H, [{ ...RQ, bytes: 2 ** 32 }]), 'rqs[0].bytes');
    refuses(() => encodeBatch(H, [{ ...RQ, sector: 2 ** 53 }]), 'rqs[0].sector');
    refuses(() => encodeBatch(H, [{ ...RQ, sector: -1 }]), 'rqs[0].sector');
    refuses(() => encodeBatch(H, new Array<RequestRecord>(65536).fill(RQ)), 'count');
    refuses(() => encodeEnds(MessageKind.Batch as MessageKind.End, H, []), 'kind');
    refuses(() => encodeEnds(MessageKind.End, H, [{ ...END, status: 256 }]), 'ends[0].status');
    refuses(() => encodeEnds(MessageKind.End, H, [{ ...END, dataBytes: -1 }]), 'ends[0].dataBytes');
    refuses(() => encodeEnds(MessageKind.End, H, [{ ...END, hasData: 1 as unknown as boolean }]), 'ends[0].hasData');
  });

  it('refuses malformed messages on decode, naming what is wrong', () => {
    const b = encodeBatch(H, [RQ]);
    refuses(() => decodeBatch(b.subarray(0, 10)), 'header');
    refuses(() => decodeBatch(b.subarray(0, b.length - 1)), 'length');
    refuses(() => decodeBatch(Buffer.concat([b, Buffer.alloc(1)])), 'length');
    refuses(() => decodeBatch(Buffer.concat([Buffer.from('xq'), b.subarray(2)])), 'magic');
    const v1 = Buffer.from(b);
    v1[2] = 1; // version 1: end records without the landed sector
    refuses(() => decodeBatch(v1), 'version');
    refuses(() => decodeEnds(b), 'kind');
    const k9 = Buffer.from(b);
    k9[3] = 9;
    refuses(() => decodeBatch(k9), 'kind');
    const badSector = Buffer.from(b);
    badSector.writeDoubleLE(0.5, HEADER_BYTES + 12);
    refuses(() => decodeBatch(badSector), 'rqs[0].sector');

    const e = encodeEnds(MessageKind.End, H, [END]);
    refuses(() => decodeEnds(e.subarray(0, HEADER_BYTES + 5)), 'length');
    refuses(() => decodeEnds(Buffer.concat([e, Buffer.from('abc')])), 'ends[0].data');
    refuses(() => decodeEnds(Buffer.concat([e, Buffer.from('abcde')])), 'length');
    refuses(() => decodeEnds(Buffer.concat([encodeEnds(MessageKind.Softirq, H, [END]), Buffer.from('abcd')])), 'length');
    const flag2 = Buffer.concat([e, Buffer.from('abcd')]);
    flag2[HEADER_BYTES + 7] = 2;
    refuses(() => decodeEnds(flag2), 'ends[0].hasData');
    refuses(() => decodeEnds('rq' as unknown as Buffer), 'message');
  });
});

describe('batch codec, read by Lua', () => {
  const env = new RedisTestEnv('batch-codec');
  afterAll(() => env.close());

  it('struct.unpack with the exported formats reads the fields Node wrote', async () => {
    const lua = `
      local h = { struct.unpack(ARGV[1], ARGV[4]) }
      local r = { struct.unpack(ARGV[2], ARGV[4], 25) }
      local e = { struct.unpack(ARGV[3], ARGV[5], 25) }
      local id = struct.pack(ARGV[6], h[6], h[4], e[1], e[2])
      return { h[1], h[2], h[3], h[4], h[5], h[6], h[7], tostring(h[8]),
               r[1], r[2], r[3], r[4], r[5], tostring(r[6]), e[1], e[2], e[3], e[4], e[5], id, tostring(e[6]) }`;
    const batch = encodeBatch(H, [{ ...RQ, sector: 123456789012 }]);
    const ends = encodeEnds(MessageKind.Softirq, H, [END]);
    const reply = (await env.redis.callBuffer(
      'EVAL',
      lua,
      0,
      HEADER_FORMAT,
      REQUEST_FORMAT,
      END_FORMAT,
      batch,
      ends,
      REQUEST_ID_FORMAT,
    )) as (Buffer | number)[];
    const out = reply.map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : x));
    expect(out.slice(0, 7)).toEqual(['rq', 2, MessageKind.Batch, H.hctx, 1, H.epoch, H.seq]);
    expect(Number(out[7])).toBe(H.atMs);
    expect(out.slice(8, 13)).toEqual([RQ.tag, RQ.gen, RQ.op, RQ.flags, RQ.bytes]);
    expect(Number(out[13])).toBe(123456789012);
    expect(out.slice(14, 19)).toEqual([END.tag, END.gen, END.status, 1, END.dataBytes]);
    expect(reply[19]).toEqual(requestId(H.epoch, H.hctx, END.tag, END.gen));
    expect(Number(out[20])).toBe(END.sector);
  });
});
