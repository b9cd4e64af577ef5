// Mirrors Rust `kernel::block::mq::gen_disk::GenDiskBuilder` (and blk_mq_alloc_disk +
// add_disk): setters validate and throw naming the field; only `build()` acts.

import { SECTOR_SIZE } from './bio';
import { ConfigError, checkBool, checkDiskName, checkInt } from './config-check';
import { Engine } from './engine';
import type { EngineOptions } from './engine-options';
import { GenDisk } from './gen-disk';
import type { Operations } from './operations';
import { QUEUE_LIMIT_CHECKS, QueueLimits, queueLimits } from './queue-limits';
import { TagSet } from './tag-set';

const REQUIRED_OPS = ['queueRq', 'commitRqs', 'complete'] as const;
const OPTIONAL_OPS = ['queueRqs', 'timeout', 'poll', 'initHctx', 'exitHctx', 'mapQueues', 'newRequestData'] as const;

/**
 * Collects a disk's attributes. Every setter checks its value at once and throws a
 * `ConfigError` naming `GenDiskBuilder.<field>`; cross-field checks run in `build()`.
 */
export class GenDiskBuilder {
  private diskName: string | undefined;
  private capacity: number | undefined;
  private isRotational = false;
  private limits: { -readonly [K in keyof QueueLimits]?: QueueLimits[K] } = {};

  /** Disk name, 1..31 bytes (the kernel's DISK_NAME_LEN is 32 with the NUL). */
  name(name: string): this {
    this.diskName = checkDiskName('GenDiskBuilder.name', name);
    return this;
  }

  /** Capacity in 512-byte sectors, > 0; a multiple of the logical block size. */
  capacitySectors(sectors: number): this {
    this.capacity = checkInt('GenDiskBuilder.capacitySectors', sectors, 1, Number.MAX_SAFE_INTEGER);
    return this;
  }

  /** Logical block size in bytes: a power of two in 512..4096. */
  logicalBlockSize(bytes: number): this {
    return this.limit('logicalBlockSize', bytes, 'GenDiskBuilder.logicalBlockSize');
  }

  /** Physical block size in bytes: a power of two in 512..4096, >= the logical one. */
  physicalBlockSize(bytes: number): this {
    return this.limit('physicalBlockSize', bytes, 'GenDiskBuilder.physicalBlockSize');
  }

  /** Spinning media (the queue's `rotational` attribute). Default false. */
  rotational(rotational: boolean): this {
    this.isRotational = checkBool('GenDiskBuilder.rotational', rotational);
    return this;
  }

  /** Sets any queue limits; each is checked now, the combination in `build()`. */
  queueLimits(limits: Partial<QueueLimits>): this {
    for (const [k, v] of Object.entries(limits)) {
      if (v !== undefined) this.limit(k as keyof QueueLimits, v, `GenDiskBuilder.queueLimits.${k}`);
    }
    return this;
  }

  /**
   * Creates the disk: checks what the setters could not, creates its request table and
   * engine, and runs `initHctx` for every hctx. Throws `ConfigError` before any side effect.
   */
  build<T, H>(tagSet: TagSet, ops: Operations<T, H>, options: EngineOptions = {}): GenDisk<T, H> {
    if (this.diskName === undefined) throw new ConfigError('GenDiskBuilder.name', 'must be set before build()', undefined);
    if (this.capacity === undefined) {
      throw new ConfigError('GenDiskBuilder.capacitySectors', 'must be set before build()', undefined);
    }
    if (!(tagSet instanceof TagSet)) throw new ConfigError('GenDiskBuilder.build.tagSet', 'must be a TagSet', tagSet);
    checkOperations(ops);
    const limits = queueLimits(this.limits);
    const perBlock = limits.logicalBlockSize / SECTOR_SIZE;
    if (this.capacity % perBlock !== 0) {
      throw new ConfigError(
        'GenDiskBuilder.capacitySectors',
        `must be a multiple of ${perBlock} sectors (logicalBlockSize ${limits.logicalBlockSize})`,
        this.capacity,
      );
    }
    for (const k of ['requeueDelayMs', 'timeoutScanMs'] as const) {
      if (options[k] !== undefined) checkInt(`EngineOptions.${k}`, options[k], k === 'timeoutScanMs' ? 1 : 0, 86_400_000);
    }
    const geometry = { name: this.diskName, capacitySectors: this.capacity, limits };
    const engine = new Engine<T, H>(geometry, tagSet, ops, options);
    return new GenDisk<T, H>(this.diskName, this.capacity, this.isRotational, limits, tagSet, engine);
  }

  private limit<K extends keyof QueueLimits>(key: K, v: unknown, field: string): this {
    const check = QUEUE_LIMIT_CHECKS[key];
    if (!check) throw new ConfigError(field, 'is not a queue limit', v);
    this.limits[key] = check(field, v) as QueueLimits[K];
    return this;
  }
}

function checkOperations(ops: unknown): void {
  if (typeof ops !== 'object' || ops === null) throw new ConfigError('GenDiskBuilder.build.ops', 'must be an Operations object', ops);
  const o = ops as Record<string, unknown>;
  for (const k of REQUIRED_OPS) {
    if (typeof o[k] !== 'function') throw new ConfigError(`Operations.${k}`, 'is required and must be a function', o[k]);
  }
  for (const k of OPTIONAL_OPS) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new ConfigError(`Operations.${k}`, 'must be a function when set', o[k]);
  }
}
