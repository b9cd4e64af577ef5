// checkSubmission: every refusal names its field, its kind and, where one applies, the limit;
// the engine answers with the same text behind the disk name.

import { BlkStatus } from './blk-status';
import { ConfigError } from './config-check';
import { GenDiskBuilder } from './gen-disk-builder';
import { queueLimits } from './queue-limits';
import { ReqFlag, ReqOp } from './req-op';
import type { DiskGeometry, Submission } from './submission';
import { MAX_SUBMISSION_BYTES, checkSubmission } from './submission-check';
import { TagSet } from './tag-set';
import { MemDriver } from './testing/mem-driver';

const geo: DiskGeometry = { name: 'chk0', capacitySectors: 8192, limits: queueLimits({ logicalBlockSize: 4096 }) };
const MiB16 = 16 * 1024 * 1024;

describe('checkSubmission', () => {
  it('accepts good submissions', () => {
    expect(checkSubmission({ op: ReqOp.READ, sector: 8, bytes: 4096 }, geo)).toBeUndefined();
    expect(checkSubmission({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(8192), flags: ReqFlag.FUA }, geo)).toBeUndefined();
    expect(checkSubmission({ op: ReqOp.FLUSH, sector: 0 }, geo)).toBeUndefined();
    expect(checkSubmission({ op: ReqOp.READ, sector: 8184, bytes: 4096 }, geo)).toBeUndefined();
  });

  it.each<[unknown, Partial<ReturnType<typeof checkSubmission>>]>([
    [null, { field: 'submission', kind: 'invalid', status: BlkStatus.IOERR }],
    [
      { op: 42, sector: 0, bytes: 4096 },
      { field: 'op', kind: 'invalid', status: BlkStatus.NOTSUPP, message: 'unknown op 42' },
    ],
    [
      { op: ReqOp.READ, sector: 0, bytes: 4096, flags: 64 },
      { field: 'flags', kind: 'invalid', status: BlkStatus.NOTSUPP },
    ],
    [
      { op: ReqOp.READ, sector: -8, bytes: 4096 },
      { field: 'sector', kind: 'invalid' },
    ],
    [
      { op: ReqOp.READ, sector: 1.5, bytes: 4096 },
      { field: 'sector', kind: 'invalid' },
    ],
    [
      { op: ReqOp.READ, sector: 0, data: 'x' },
      { field: 'data', kind: 'invalid', message: 'data must be a Uint8Array' },
    ],
    [
      { op: ReqOp.DISCARD, sector: 0, bytes: 4096, data: new Uint8Array(4096) },
      { field: 'data', message: 'DISCARD carries no data' },
    ],
    [
      { op: ReqOp.WRITE, sector: 0 },
      { field: 'data', kind: 'invalid', message: 'WRITE needs data' },
    ],
    [
      { op: ReqOp.READ, sector: 0 },
      { field: 'bytes', kind: 'invalid' },
    ],
    [
      { op: ReqOp.WRITE, sector: 0, bytes: 8192, data: new Uint8Array(4096) },
      { field: 'bytes', message: 'bytes 8192 does not match data length 4096' },
    ],
    [
      { op: ReqOp.FLUSH, sector: 0, bytes: 4096 },
      { field: 'bytes', message: 'FLUSH carries no range, got 4096 bytes' },
    ],
    [
      { op: ReqOp.READ, sector: 0, bytes: 0 },
      { field: 'bytes', message: 'READ of 0 bytes' },
    ],
    [
      { op: ReqOp.READ, sector: 1, bytes: 4096 },
      { field: 'sector', kind: 'invalid', message: expect.stringMatching(/not aligned to the logical block size 4096/) },
    ],
    [
      { op: ReqOp.READ, sector: 0, bytes: 1000 },
      { field: 'bytes', kind: 'invalid' },
    ],
    [
      { op: ReqOp.READ, sector: 8192, bytes: 4096 },
      { field: 'sector', kind: 'out-of-range', status: BlkStatus.IOERR },
    ],
    [
      { op: ReqOp.DISCARD, sector: 0, bytes: 4096 },
      { field: 'op', kind: 'unsupported', status: BlkStatus.NOTSUPP },
    ],
    [
      { op: ReqOp.WRITE_ZEROES, sector: 0, bytes: 4096 },
      { field: 'op', kind: 'unsupported', message: 'WRITE_ZEROES not supported' },
    ],
  ])('refuses %p naming the field and kind', (sub, want) => {
    const r = checkSubmission(sub as Submission, geo);
    expect(r).toMatchObject(want as object);
    expect(typeof r!.message).toBe('string');
  });

  it('names the submission limit, by default 1 GiB for data ops only', () => {
    const big = { op: ReqOp.READ, sector: 0, bytes: 20_000_000 - (20_000_000 % 4096) };
    const capacity: DiskGeometry = { ...geo, capacitySectors: 1 << 22 };
    expect(checkSubmission(big, capacity)).toBeUndefined();
    expect(checkSubmission(big, capacity, { maxSubmissionBytes: MiB16 })).toEqual({
      status: BlkStatus.IOERR,
      field: 'bytes',
      kind: 'invalid',
      message: `length ${big.bytes} is over the limit of 16777216 bytes per submission`,
    });
    expect(checkSubmission({ ...big, bytes: MiB16 }, capacity, { maxSubmissionBytes: MiB16 })).toBeUndefined();
    expect(MAX_SUBMISSION_BYTES).toBe(1 << 30);
  });
});

describe('EngineOptions.maxSubmissionBytes', () => {
  it('refuses bigger READ / WRITE with the message behind the disk name, and validates the option', async () => {
    const disk = new GenDiskBuilder()
      .name('lim0')
      .capacitySectors(1 << 16)
      .build(new TagSet(), new MemDriver(), { maxSubmissionBytes: 8192 });
    expect(await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(12288) })).toEqual({
      status: BlkStatus.IOERR,
      error: 'lim0: length 12288 is over the limit of 8192 bytes per submission',
    });
    expect((await disk.submit({ op: ReqOp.WRITE, sector: 0, data: new Uint8Array(8192) })).status).toBe(BlkStatus.OK);
    expect(disk.queue.maxSubmissionBytes).toBe(8192);
    await disk.del();
    expect(() =>
      new GenDiskBuilder().name('lim1').capacitySectors(64).build(new TagSet(), new MemDriver(), { maxSubmissionBytes: 0 }),
    ).toThrow(ConfigError);
  });
});
