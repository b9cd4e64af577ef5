import * as fs from 'node:fs';
import * as path from 'node:path';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { BlockDeviceService, CompletionBatch, Op, Status, Submission, SubmitBatch } from '#proto/grpc/blk/v1/block_device';
import { ListDisksResponse } from '#proto/grpc/blk/v1/gen_disk';
import { encodeMessage, SHARED_WRITER_MAX_BYTES } from './message-encoding';

/** A batch of `n` writes of `bytes` each, every payload byte telling its write apart. */
function writes(n: number, bytes: number, seed = 0): SubmitBatch {
  const submissions: Submission[] = [];
  for (let i = 0; i < n; i++) {
    submissions.push({
      tag: BigInt(seed * 1000 + i + 1),
      disk: `rnullb${seed}`,
      op: Op.OP_WRITE,
      sector: BigInt(i * 8) + 2n ** 40n,
      length: bytes,
      data: Buffer.alloc(bytes, (seed * 31 + i) & 0xff),
      flags: i % 2,
    });
  }
  return { submissions };
}

/** What ts-proto's own serializer made before gen-proto.js rewrote it. */
const plain = <T>(type: { encode(m: T, w?: BinaryWriter): BinaryWriter }, value: T) => Buffer.from(type.encode(value).finish());

describe('encodeMessage', () => {
  it('gives the bytes of T.encode(value).finish() for small, large and empty messages', () => {
    const cases: [string, Buffer, Buffer][] = [
      ['empty batch', encodeMessage(SubmitBatch, { submissions: [] }), plain(SubmitBatch, { submissions: [] })],
      ['one read', encodeMessage(SubmitBatch, writes(1, 0)), plain(SubmitBatch, writes(1, 0))],
      ['32 writes of 4 KiB', encodeMessage(SubmitBatch, writes(32, 4096)), plain(SubmitBatch, writes(32, 4096))],
      ['a 16 MiB write', encodeMessage(SubmitBatch, writes(1, 16 << 20)), plain(SubmitBatch, writes(1, 16 << 20))],
      [
        'completions',
        encodeMessage(CompletionBatch, {
          completions: [{ tag: 7n, status: Status.STATUS_IOERR, data: Buffer.alloc(0), message: 'é', latencyNsec: 5n, sector: 0n }],
        }),
        plain(CompletionBatch, {
          completions: [{ tag: 7n, status: Status.STATUS_IOERR, data: Buffer.alloc(0), message: 'é', latencyNsec: 5n, sector: 0n }],
        }),
      ],
    ];
    for (const [name, got, want] of cases) {
      expect({ name, equal: got.equals(want), length: got.length }).toEqual({ name, equal: true, length: want.length });
    }
  });

  it('returns Buffers that later messages do not overwrite', () => {
    const first = writes(32, 4096, 1);
    const kept = encodeMessage(SubmitBatch, first);
    const copy = Buffer.from(kept);
    for (let seed = 2; seed < 6; seed++) encodeMessage(SubmitBatch, writes(32, 4096, seed));
    expect(kept.equals(copy)).toBe(true);
    expect(SubmitBatch.decode(kept)).toEqual(first);
  });

  it('stays right after a message larger than the kept writer and after a throw mid-message', () => {
    const big = writes(2, SHARED_WRITER_MAX_BYTES);
    expect(encodeMessage(SubmitBatch, big).equals(plain(SubmitBatch, big))).toBe(true);
    // A message that cannot be encoded (a tag that is not a bigint) throws part way through.
    const bad = { submissions: [writes(1, 4096).submissions[0], { ...writes(1, 4096).submissions[0], tag: 'x' as unknown as bigint }] };
    expect(() => encodeMessage(SubmitBatch, bad)).toThrow();
    const after = writes(3, 512, 9);
    expect(encodeMessage(SubmitBatch, after).equals(plain(SubmitBatch, after))).toBe(true);
  });

  it('is what every generated grpc-js serializer calls (tools/gen-proto.js rewrites them)', () => {
    const dir = path.join(__dirname, 'grpc/blk/v1');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      // A serializer's body may wrap onto the next line.
      const serializers = source.match(/(request|response)Serialize: \(value: \w+\): Buffer =>\s*[^\n]*/g) ?? [];
      expect({ file, some: serializers.length > 0 }).toEqual({ file, some: true });
      expect({ file, others: serializers.filter((s) => !/=>\s*encodeMessage\(\w+, value\),$/.test(s)) }).toEqual({ file, others: [] });
    }
  });

  it('serializes through the generated service definitions', () => {
    const batch = writes(4, 4096, 3);
    const serialized = BlockDeviceService.submitStream.requestSerialize(batch);
    expect(serialized.equals(plain(SubmitBatch, batch))).toBe(true);
    // A second message through the same serializer leaves the first intact (a shared writer that aliased would not).
    BlockDeviceService.submitStream.requestSerialize(writes(4, 4096, 4));
    expect(SubmitBatch.decode(serialized)).toEqual(batch);
    const disks: ListDisksResponse = { disks: [] };
    expect(encodeMessage(ListDisksResponse, disks).equals(plain(ListDisksResponse, disks))).toBe(true);
  });
});
