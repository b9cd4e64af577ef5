// Every rule of checkSubmission, with the error class and gRPC code each refusal carries.
import { status as GrpcCode } from '@grpc/grpc-js';
import { ReqFlag, ReqOp } from '#blk-mq';
import { applyAttributes, DEFAULT_ATTRIBUTES, type DiskAttributes } from '#rnull';
import { ClusterError, DiskNotFoundError, grpcStatusOf, InvalidArgumentError, OutOfRangeError, UnavailableError } from '#service-kit';
import type { DiskRecord } from '#gendisk';
import { checkSubmission, MAX_SUBMISSION_BYTES, WIRE_OP, type WireSubmission } from './submission-check';

/** A powered 64 MiB disk (131072 sectors) unless `changes` say otherwise. */
function disk(changes: Partial<DiskAttributes> = {}, power = true): DiskRecord {
  return { name: 'rnullb0', attributes: applyAttributes(DEFAULT_ATTRIBUTES, { size: 64, ...changes }, false), power, index: 0 };
}

const CAPACITY = 64 * 2048;

function sub(s: Partial<WireSubmission> = {}): WireSubmission {
  return { disk: 'rnullb0', op: WIRE_OP.READ, sector: 0n, length: 4096, flags: 0, ...s };
}

/** The error `checkSubmission` throws, checked for its class, field (when any) and gRPC code. */
function refusal(s: WireSubmission, d: DiskRecord | undefined, cls: new (...a: never[]) => ClusterError, code: GrpcCode): ClusterError {
  let thrown: unknown;
  try {
    checkSubmission(s, d);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(cls);
  expect(grpcStatusOf(thrown).code).toBe(code);
  expect((thrown as ClusterError).code).toBe(code);
  return thrown as ClusterError;
}

const invalid = (s: WireSubmission, field: string, d: DiskRecord | undefined = disk()) => {
  const e = refusal(s, d, InvalidArgumentError, GrpcCode.INVALID_ARGUMENT) as InvalidArgumentError;
  expect(e.field).toBe(field);
  expect(e.message.startsWith(`${field}: `)).toBe(true);
  return e;
};

describe('checkSubmission', () => {
  it('accepts a READ and returns the disk, op, sector and bytes', () => {
    const d = disk();
    expect(checkSubmission(sub({ sector: 8n, length: 8192 }), d)).toEqual({
      disk: d,
      op: ReqOp.READ,
      sector: 8,
      bytes: 8192,
      data: undefined,
      flags: 0,
    });
  });

  it('maps every wire op to its ReqOp', () => {
    const d = disk();
    const data = new Uint8Array(4096);
    expect(checkSubmission(sub({ op: WIRE_OP.READ }), d).op).toBe(ReqOp.READ);
    expect(checkSubmission(sub({ op: WIRE_OP.WRITE, data }), d).op).toBe(ReqOp.WRITE);
    expect(checkSubmission(sub({ op: WIRE_OP.FLUSH, length: 0 }), d).op).toBe(ReqOp.FLUSH);
    expect(checkSubmission(sub({ op: WIRE_OP.DISCARD }), d).op).toBe(ReqOp.DISCARD);
    expect(checkSubmission(sub({ op: WIRE_OP.WRITE_ZEROES }), d).op).toBe(ReqOp.WRITE_ZEROES);
  });

  it('requires a disk name (INVALID_ARGUMENT)', () => {
    invalid(sub({ disk: '' }), 'disk', disk());
  });

  it('refuses an unknown disk with NOT_FOUND, naming it', () => {
    const e = refusal(sub({ disk: 'nope0' }), undefined, DiskNotFoundError, GrpcCode.NOT_FOUND);
    expect(e.message).toBe('disk "nope0" does not exist');
  });

  it('refuses a powered-off disk with UNAVAILABLE', () => {
    const e = refusal(sub(), disk({}, false), UnavailableError, GrpcCode.UNAVAILABLE);
    expect(e.message).toBe('disk "rnullb0" is powered off');
  });

  it.each([0, 12, -1, 1.5])('refuses op %s', (op) => {
    expect(invalid(sub({ op }), 'op').message).toMatch(
      /must be one of READ, WRITE, FLUSH, DISCARD, WRITE_ZEROES, ZONE_APPEND, ZONE_OPEN, ZONE_CLOSE, ZONE_FINISH, ZONE_RESET, ZONE_RESET_ALL/,
    );
  });

  it.each([4, 8, -1, 1.5, NaN])('refuses flags %s', (flags) => {
    expect(invalid(sub({ flags }), 'flags').message).toMatch(/only FUA \(1\) and PREFLUSH \(2\)/);
  });

  it('keeps FUA and PREFLUSH on a disk with fua=1', () => {
    const flags = ReqFlag.FUA | ReqFlag.PREFLUSH;
    expect(checkSubmission(sub({ op: WIRE_OP.WRITE, data: new Uint8Array(4096), flags }), disk()).flags).toBe(flags);
  });

  it('strips FUA, and only FUA, on a disk with fua=0', () => {
    const d = disk({ fua: false });
    const data = new Uint8Array(4096);
    expect(checkSubmission(sub({ op: WIRE_OP.WRITE, data, flags: ReqFlag.FUA | ReqFlag.PREFLUSH }), d).flags).toBe(ReqFlag.PREFLUSH);
    expect(checkSubmission(sub({ op: WIRE_OP.WRITE, data, flags: ReqFlag.FUA }), d).flags).toBe(0);
    expect(checkSubmission(sub({ op: WIRE_OP.FLUSH, length: 0, flags: ReqFlag.FUA }), d).flags).toBe(0);
  });

  it.each([WIRE_OP.READ, WIRE_OP.FLUSH, WIRE_OP.DISCARD, WIRE_OP.WRITE_ZEROES])('refuses data on wire op %d', (op) => {
    expect(invalid(sub({ op, data: new Uint8Array(4096) }), 'data').message).toBe('data: only WRITE and ZONE_APPEND carry data');
  });

  it('treats empty data as no data', () => {
    expect(checkSubmission(sub({ data: new Uint8Array(0) }), disk()).data).toBeUndefined();
  });

  it('accepts FLUSH as a whole-disk op: sector 0, no bytes', () => {
    const d = disk();
    expect(checkSubmission(sub({ op: WIRE_OP.FLUSH, sector: 0n, length: 0, flags: ReqFlag.PREFLUSH }), d)).toEqual({
      disk: d,
      op: ReqOp.FLUSH,
      sector: 0,
      bytes: 0,
      flags: ReqFlag.PREFLUSH,
    });
  });

  it.each([0, -4096, 4096.5, NaN])('refuses length %s', (length) => {
    expect(invalid(sub({ length }), 'length').message).toBe(`length: must be > 0, got ${length}`);
  });

  it('refuses a length that is not a multiple of the block size', () => {
    expect(invalid(sub({ length: 512 }), 'length').message).toBe('length: sector 0 / 512 bytes not aligned to the logical block size 4096');
    expect(checkSubmission(sub({ length: 512 }), disk({ blocksize: 512 })).bytes).toBe(512);
  });

  it(`refuses more than MAX_SUBMISSION_BYTES (${MAX_SUBMISSION_BYTES}) in one submission, and accepts exactly that`, () => {
    expect(MAX_SUBMISSION_BYTES).toBe(16 * 1024 * 1024);
    expect(invalid(sub({ length: MAX_SUBMISSION_BYTES + 4096 }), 'length').message).toMatch(/over the limit of 16777216 bytes/);
    expect(checkSubmission(sub({ length: MAX_SUBMISSION_BYTES }), disk()).bytes).toBe(MAX_SUBMISSION_BYTES);
  });

  it('refuses a sector not aligned to the block size', () => {
    expect(invalid(sub({ sector: 1n }), 'sector').message).toBe('sector: sector 1 / 4096 bytes not aligned to the logical block size 4096');
    expect(invalid(sub({ sector: 12n }), 'sector').message).toMatch(/not aligned/);
    expect(checkSubmission(sub({ sector: 1n, length: 512 }), disk({ blocksize: 512 })).sector).toBe(1);
    expect(checkSubmission(sub({ sector: 2n, length: 1024 }), disk({ blocksize: 1024 })).sector).toBe(2);
  });

  it('refuses IO past the capacity with OUT_OF_RANGE, and accepts IO ending exactly there', () => {
    const past = (sector: bigint, length: number) => {
      const e = refusal(sub({ sector, length }), disk(), OutOfRangeError, GrpcCode.OUT_OF_RANGE) as OutOfRangeError;
      expect(e.field).toBe('sector');
      return e;
    };
    expect(past(BigInt(CAPACITY), 4096).message).toBe(
      `sector: beyond end of device: sector ${CAPACITY} + 8 > capacity ${CAPACITY} sectors`,
    );
    past(BigInt(CAPACITY - 8), 8192);
    past(BigInt(CAPACITY) * 1024n, 4096);
    expect(checkSubmission(sub({ sector: BigInt(CAPACITY - 16), length: 8192 }), disk()).sector).toBe(CAPACITY - 16);
  });

  it('refuses a WRITE whose data length does not match length', () => {
    const w = (data: Uint8Array | undefined, length: number) => invalid(sub({ op: WIRE_OP.WRITE, data, length }), 'data');
    expect(w(undefined, 4096).message).toBe('data: has 0 bytes but length says 4096');
    expect(w(new Uint8Array(8192), 4096).message).toBe('data: has 8192 bytes but length says 4096');
    expect(w(new Uint8Array(4096), 8192).message).toBe('data: has 4096 bytes but length says 8192');
  });

  it('returns WRITE data as a Buffer over the same memory, not a copy', () => {
    const backing = new Uint8Array(3 * 4096).fill(7);
    const data = backing.subarray(4096, 8192);
    const c = checkSubmission(sub({ op: WIRE_OP.WRITE, data }), disk());
    expect(Buffer.isBuffer(c.data)).toBe(true);
    expect(c.data!.length).toBe(4096);
    data[0] = 99;
    expect(c.data![0]).toBe(99);
  });

  describe('64-bit sector', () => {
    it.each<[string, bigint | string | number]>([
      ['bigint', 4096n],
      ['string', '4096'],
      ['number', 4096],
    ])('accepts it as %s', (_kind, sector) => {
      expect(checkSubmission(sub({ sector }), disk()).sector).toBe(4096);
    });

    it('reads a sector beyond 32 bits exactly', () => {
      const big = disk({ size: 1 << 22 });
      const sector = 2n ** 32n + 8n;
      expect(checkSubmission(sub({ sector }), big).sector).toBe(2 ** 32 + 8);
      expect(checkSubmission(sub({ sector: String(sector) }), big).sector).toBe(2 ** 32 + 8);
    });

    it.each<[string, bigint | string]>([
      ['a negative bigint', -8n],
      ['a negative string', '-8'],
      ['a non-numeric string', 'eight'],
      ['a fractional string', '8.5'],
    ])('refuses %s', (_kind, sector) => {
      expect(invalid(sub({ sector }), 'sector').message).toMatch(
        /^sector: must be a whole number from 0 to 2\^53 - 1 \(9007199254740991\), got /,
      );
    });

    it.each<[string, bigint | string, string]>([
      ['a bigint past 2^53', 2n ** 60n, '1152921504606846976'],
      ['a string past 2^53', '18446744073709551615', '18446744073709551615'],
      ['2^53 itself', 2n ** 53n, '9007199254740992'],
    ])('refuses %s saying what the limit is', (_kind, sector, shown) => {
      expect(invalid(sub({ sector }), 'sector').message).toBe(
        `sector: ${shown} is over the largest value taken, 2^53 - 1 (9007199254740991)`,
      );
    });
  });
});
