// The one mapping from block-layer outcomes and service errors to gRPC statuses.
import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { BlkStatus } from '#blk-mq';
import { AttributeError } from '#rnull';
import {
  ClusterError,
  DiskBusyError,
  DiskExistsError,
  DiskNotFoundError,
  InvalidArgumentError,
  OutOfRangeError,
  UnavailableError,
} from './cluster-errors';
import { cutStatusMessage, grpcCodeOfBlkStatus, grpcStatusOf, MAX_STATUS_MESSAGE_CHARS, toServiceError } from './grpc-status';

describe('grpcCodeOfBlkStatus', () => {
  const expected: Record<BlkStatus, GrpcCode> = {
    [BlkStatus.OK]: GrpcCode.OK,
    [BlkStatus.NOTSUPP]: GrpcCode.UNIMPLEMENTED,
    [BlkStatus.TIMEOUT]: GrpcCode.DEADLINE_EXCEEDED,
    [BlkStatus.NOSPC]: GrpcCode.RESOURCE_EXHAUSTED,
    [BlkStatus.TRANSPORT]: GrpcCode.UNAVAILABLE,
    [BlkStatus.TARGET]: GrpcCode.INTERNAL,
    [BlkStatus.RESV_CONFLICT]: GrpcCode.INTERNAL,
    [BlkStatus.MEDIUM]: GrpcCode.DATA_LOSS,
    [BlkStatus.PROTECTION]: GrpcCode.DATA_LOSS,
    [BlkStatus.RESOURCE]: GrpcCode.RESOURCE_EXHAUSTED,
    [BlkStatus.IOERR]: GrpcCode.INTERNAL,
    [BlkStatus.DM_REQUEUE]: GrpcCode.INTERNAL,
    [BlkStatus.AGAIN]: GrpcCode.UNAVAILABLE,
    [BlkStatus.DEV_RESOURCE]: GrpcCode.RESOURCE_EXHAUSTED,
    [BlkStatus.ZONE_OPEN_RESOURCE]: GrpcCode.RESOURCE_EXHAUSTED,
    [BlkStatus.ZONE_ACTIVE_RESOURCE]: GrpcCode.RESOURCE_EXHAUSTED,
    [BlkStatus.OFFLINE]: GrpcCode.UNAVAILABLE,
  };
  const statuses = Object.values(BlkStatus).filter((v): v is BlkStatus => typeof v === 'number');

  it('covers every BlkStatus', () => {
    expect(
      Object.keys(expected)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(statuses.sort((a, b) => a - b));
  });

  it.each(statuses.map((s) => [BlkStatus[s], s] as const))('maps %s', (_name, s) => {
    expect(grpcCodeOfBlkStatus(s)).toBe(expected[s]);
  });

  it('maps an unknown status to INTERNAL', () => {
    expect(grpcCodeOfBlkStatus(99 as BlkStatus)).toBe(GrpcCode.INTERNAL);
  });
});

describe('grpcStatusOf', () => {
  it.each<[string, ClusterError, GrpcCode, string]>([
    ['InvalidArgumentError', new InvalidArgumentError('length', 'must be > 0'), GrpcCode.INVALID_ARGUMENT, 'length: must be > 0'],
    ['OutOfRangeError', new OutOfRangeError('sector', 'past the end'), GrpcCode.OUT_OF_RANGE, 'sector: past the end'],
    ['DiskNotFoundError', new DiskNotFoundError('nope'), GrpcCode.NOT_FOUND, 'disk "nope" does not exist'],
    ['DiskExistsError', new DiskExistsError('rnullb0'), GrpcCode.ALREADY_EXISTS, 'disk "rnullb0" exists already'],
    ['DiskBusyError', new DiskBusyError('disk is powered on'), GrpcCode.FAILED_PRECONDITION, 'disk is powered on'],
    ['UnavailableError', new UnavailableError('powered off'), GrpcCode.UNAVAILABLE, 'powered off'],
    ['ClusterError', new ClusterError(GrpcCode.ABORTED, 'raced'), GrpcCode.ABORTED, 'raced'],
  ])('maps %s to its code and message', (name, err, code, message) => {
    expect(err.name).toBe(name);
    expect(err).toBeInstanceOf(Error);
    expect(grpcStatusOf(err)).toEqual({ code, message });
  });

  it('maps an invalid attribute to INVALID_ARGUMENT and a busy one to FAILED_PRECONDITION', () => {
    expect(grpcStatusOf(new AttributeError('hw_queue_depth', 'must be in 1..4096, got 0'))).toEqual({
      code: GrpcCode.INVALID_ARGUMENT,
      message: 'hw_queue_depth: must be in 1..4096, got 0',
    });
    expect(grpcStatusOf(new AttributeError('blocksize', 'cannot change while the disk is powered on (EBUSY)', 'busy'))).toEqual({
      code: GrpcCode.FAILED_PRECONDITION,
      message: 'blocksize: cannot change while the disk is powered on (EBUSY)',
    });
  });

  it.each([
    'connect ECONNREFUSED 127.0.0.1:6379',
    'read ECONNRESET',
    'Connection is closed.',
    'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
    "Stream isn't writeable and enableOfflineQueue options is false",
    'LOADING Redis is loading the dataset in memory',
  ])('maps a Redis connection error %j to UNAVAILABLE', (msg) => {
    expect(grpcStatusOf(new Error(msg))).toEqual({ code: GrpcCode.UNAVAILABLE, message: `redis unavailable: ${msg}` });
  });

  it('maps a thrown non-Error Redis message to UNAVAILABLE too', () => {
    expect(grpcStatusOf('Connection is closed.')).toEqual({
      code: GrpcCode.UNAVAILABLE,
      message: 'redis unavailable: Connection is closed.',
    });
  });

  it('maps anything else to INTERNAL, never throwing', () => {
    expect(grpcStatusOf(new Error('boom'))).toEqual({ code: GrpcCode.INTERNAL, message: 'internal error: boom' });
    expect(grpcStatusOf(new TypeError('x is not a function'))).toEqual({
      code: GrpcCode.INTERNAL,
      message: 'internal error: x is not a function',
    });
    expect(grpcStatusOf(42)).toEqual({ code: GrpcCode.INTERNAL, message: 'internal error: 42' });
    expect(grpcStatusOf(undefined)).toEqual({ code: GrpcCode.INTERNAL, message: 'internal error: undefined' });
    expect(grpcStatusOf(null)).toEqual({ code: GrpcCode.INTERNAL, message: 'internal error: null' });
  });

  it('prefers the error class over its message', () => {
    expect(grpcStatusOf(new InvalidArgumentError('x', 'ECONNREFUSED in a field')).code).toBe(GrpcCode.INVALID_ARGUMENT);
  });
});

describe('toServiceError', () => {
  it('carries code, details, message and metadata', () => {
    const e = toServiceError(new DiskNotFoundError('d0'));
    expect(e).toMatchObject({ code: GrpcCode.NOT_FOUND, details: 'disk "d0" does not exist', message: 'disk "d0" does not exist' });
    expect(e.metadata).toBeInstanceOf(Metadata);
  });
});

describe('status messages that echo a long input', () => {
  it('a 10 KB disk name is cut: the message keeps its start and its verdict, and says how much was cut', () => {
    const name = 'x'.repeat(10_000);
    const { code, message } = grpcStatusOf(new DiskNotFoundError(name));
    expect(code).toBe(GrpcCode.NOT_FOUND);
    expect(message.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS + 40);
    expect(message).toMatch(/^disk "x+…\[\d+ characters cut\]…x+" does not exist$/);
    expect(
      toServiceError(new InvalidArgumentError('badblocks', `want "+START-END", got ${JSON.stringify(name)}`)).details!.length,
    ).toBeLessThan(600);
  });

  it('an attribute error and an internal error are cut the same way; short messages pass whole', () => {
    expect(grpcStatusOf(new AttributeError('recycle', `must be "on-drop" or "inline", got "${'y'.repeat(9000)}"`)).message).toMatch(
      /^recycle: must be "on-drop" or "inline", got "y+…\[8\d{3} characters cut\]…y+"$/,
    );
    expect(grpcStatusOf(new Error('z'.repeat(5000))).message.length).toBeLessThan(600);
    expect(cutStatusMessage('sector: must be a whole number')).toBe('sector: must be a whole number');
    expect(cutStatusMessage('a'.repeat(MAX_STATUS_MESSAGE_CHARS))).toHaveLength(MAX_STATUS_MESSAGE_CHARS);
  });
});
