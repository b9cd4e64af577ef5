// The cluster's limits on disks (issue 15: a cap, not memory exhaustion): how many disks
// the registry holds and how much declared size they add up to. null_blk has neither (its
// memory is the host's); a cluster serves many clients from one Redis.
import { LimitExceededError, positive as positiveSetting } from '#service-kit';

export interface DiskLimits {
  /** `MAX_DISKS`: disks the registry holds at most. */
  readonly maxDisks: number;
  /** `MAX_TOTAL_SIZE_MIB`: the sum of every disk's `size` at most, MiB (declared, not stored). */
  readonly maxTotalSizeMiB: number;
}

/** 1024 disks, 64 TiB declared in all: far above what the tools use, far below what breaks Redis's registry. */
export const DEFAULT_DISK_LIMITS: DiskLimits = Object.freeze({ maxDisks: 1024, maxTotalSizeMiB: 64 * 1024 * 1024 });

/** The variables `readDiskLimits` reads (gendisk only). */
export const DISK_LIMIT_VARIABLES = ['MAX_DISKS', 'MAX_TOTAL_SIZE_MIB'] as const;

/** Reads the limits; a bad value stops the service with a message naming the variable. */
export function readDiskLimits(env: NodeJS.ProcessEnv = process.env): DiskLimits {
  return {
    maxDisks: positiveSetting(env, 'MAX_DISKS', DEFAULT_DISK_LIMITS.maxDisks),
    maxTotalSizeMiB: positiveSetting(env, 'MAX_TOTAL_SIZE_MIB', DEFAULT_DISK_LIMITS.maxTotalSizeMiB),
  };
}

/**
 * Throws RESOURCE_EXHAUSTED when the registry's disks (`sizes`, MiB, of every disk but
 * the one changing) plus a disk of `sizeMiB` would pass `limits`.
 */
export function checkDiskLimits(limits: DiskLimits, sizes: readonly number[], sizeMiB: number, adding: boolean): void {
  if (adding && sizes.length + 1 > limits.maxDisks) {
    throw new LimitExceededError(
      'MAX_DISKS',
      `the cluster holds ${sizes.length} disks, its limit (MAX_DISKS=${limits.maxDisks}); delete one first`,
    );
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total + sizeMiB > limits.maxTotalSizeMiB) {
    throw new LimitExceededError(
      'MAX_TOTAL_SIZE_MIB',
      `size ${sizeMiB} MiB would bring the cluster's disks to ${total + sizeMiB} MiB, over its limit (MAX_TOTAL_SIZE_MIB=${limits.maxTotalSizeMiB})`,
    );
  }
}
