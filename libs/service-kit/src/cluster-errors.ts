// The errors a service answers a client with. Each carries the gRPC status it maps to
// (`grpc-status.ts`) and a message that names the field or object at fault.
import { status as GrpcCode } from '@grpc/grpc-js';

export class ClusterError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A field of a request is malformed (INVALID_ARGUMENT). */
export class InvalidArgumentError extends ClusterError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(GrpcCode.INVALID_ARGUMENT, `${field}: ${message}`);
  }
}

/** A field lies outside the disk (OUT_OF_RANGE), e.g. a sector past capacity. */
export class OutOfRangeError extends ClusterError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(GrpcCode.OUT_OF_RANGE, `${field}: ${message}`);
  }
}

/** No disk of that name (NOT_FOUND). */
export class DiskNotFoundError extends ClusterError {
  constructor(readonly disk: string) {
    super(GrpcCode.NOT_FOUND, `disk ${JSON.stringify(disk)} does not exist`);
  }
}

/** A disk of that name exists already (ALREADY_EXISTS). */
export class DiskExistsError extends ClusterError {
  constructor(readonly disk: string) {
    super(GrpcCode.ALREADY_EXISTS, `disk ${JSON.stringify(disk)} exists already`);
  }
}

/**
 * A fault injected on purpose (null_blk's fault injection, e.g. `init_hctx`) failed the
 * call (ABORTED: the disk's state is as before, and a retry may pass). The message names
 * the attribute that injected it.
 */
export class InjectedFaultError extends ClusterError {
  constructor(
    readonly attribute: string,
    message: string,
  ) {
    super(GrpcCode.ABORTED, `${attribute}: ${message}`);
  }
}

/** The disk's state forbids the call (FAILED_PRECONDITION, the kernel's EBUSY). */
export class DiskBusyError extends ClusterError {
  constructor(message: string) {
    super(GrpcCode.FAILED_PRECONDITION, message);
  }
}

/** A zone call on a disk that is not zoned (FAILED_PRECONDITION). */
export class DiskNotZonedError extends ClusterError {
  constructor(disk: string) {
    super(GrpcCode.FAILED_PRECONDITION, `disk ${JSON.stringify(disk)} is not zoned (zoned=0)`);
  }
}

/** A cluster-wide limit would be passed (RESOURCE_EXHAUSTED); the message names the limit's variable. */
export class LimitExceededError extends ClusterError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(GrpcCode.RESOURCE_EXHAUSTED, message);
  }
}

/** The disk is powered off, or a dependency (Redis) is away (UNAVAILABLE). */
export class UnavailableError extends ClusterError {
  constructor(message: string) {
    super(GrpcCode.UNAVAILABLE, message);
  }
}
