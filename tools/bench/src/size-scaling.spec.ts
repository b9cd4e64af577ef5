import { Op } from '#proto/grpc/blk/v1/block_device';
import { perByte, pieces, SIZE_CASES, sizeLabel } from './size-scaling';

const MiB = 1 << 20;

describe('size scaling arithmetic', () => {
  it('gives wall ns per byte, MiB/s and CPU ns per byte', () => {
    const r = perByte(16 * MiB, 0.5, 0.25);
    expect(r.mibPerSec).toBeCloseTo(32, 9);
    expect(r.nsPerByte).toBeCloseTo(5e8 / (16 * MiB), 9);
    expect(r.cpuNsPerByte).toBeCloseTo(2.5e8 / (16 * MiB), 9);
    expect(perByte(MiB, 1).cpuNsPerByte).toBeUndefined();
  });

  it('cuts a row into equal submissions from sector 0, payload only on WRITE', () => {
    const payload = Buffer.alloc(16 * MiB, 1);
    const w = pieces('write', 'd', 256 * MiB, 16, payload);
    expect(w).toHaveLength(16);
    expect(w[1]).toMatchObject({ op: Op.OP_WRITE, sector: BigInt((16 * MiB) / 512), length: 16 * MiB });
    expect(w[15].data.length).toBe(16 * MiB);
    const z = pieces('write-zeroes', 'd', 512 * MiB, 32);
    expect(z[31]).toMatchObject({ op: Op.OP_WRITE_ZEROES, sector: BigInt((31 * 16 * MiB) / 512), length: 16 * MiB });
    expect(z[0].data.length).toBe(0);
  });

  it('has the rows the issue names, each within the 16 MiB cap per submission for writes', () => {
    expect(SIZE_CASES.map((k) => `${k.op} ${k.bytes / MiB}`)).toEqual([
      'write 1',
      'write 4',
      'write 16',
      'write 256',
      'write-zeroes 64',
      'write-zeroes 512',
    ]);
    for (const k of SIZE_CASES.filter((c) => c.op === 'write')) expect(k.bytes / k.submissions).toBeLessThanOrEqual(16 * MiB);
    expect(sizeLabel({ op: 'write', bytes: 256 * MiB, submissions: 16 })).toBe('256 MiB write x16 max_sectors=default');
  });
});
