// Mirrors `struct gendisk` and Rust `kernel::block::mq::GenDisk<T>`: an added disk, the
// front door for IO. Built only by `GenDiskBuilder.build()`.

import { SECTOR_SIZE } from './bio';
import type { Engine } from './engine';
import type { EngineCounters } from './engine-options';
import type { Hctx, HctxCounters } from './hctx';
import type { InProcRequestTable, TableCounters } from './inproc-request-table';
import type { QueueLimits } from './queue-limits';
import type { Completion, Submission } from './submission';
import type { TagSet } from './tag-set';

/** A snapshot of a disk's counters, for metrics. */
export interface DiskStats {
  readonly table: Readonly<TableCounters>;
  readonly engine: Readonly<EngineCounters>;
  readonly hctxs: readonly Readonly<HctxCounters>[];
  /** Slots that are not IDLE now. */
  readonly busySlots: number;
  /** Submissions not yet completed. */
  readonly pending: number;
}

/**
 * A disk. `T` is the driver's per-request data, `H` its per-hctx data.
 *
 * Invariants: its attributes never change after build; after `del()` resolves no request
 * of the disk is busy and every submission has settled.
 */
export class GenDisk<T = unknown, H = unknown> {
  constructor(
    readonly name: string,
    readonly capacitySectors: number,
    readonly rotational: boolean,
    readonly limits: QueueLimits,
    readonly tagSet: TagSet,
    /** The request queue running the driver. */
    readonly queue: Engine<T, H>,
  ) {
    Object.freeze(this);
  }

  get capacityBytes(): number {
    return this.capacitySectors * SECTOR_SIZE;
  }

  get logicalBlockSize(): number {
    return this.limits.logicalBlockSize;
  }

  get physicalBlockSize(): number {
    return this.limits.physicalBlockSize;
  }

  get table(): InProcRequestTable {
    return this.queue.table;
  }

  get hctxs(): readonly Hctx<H>[] {
    return this.queue.hctxs;
  }

  /** Submits one IO; resolves with its completion, never rejects. */
  submit(sub: Submission): Promise<Completion> {
    return this.queue.submit(sub);
  }

  /** Polls the driver's poll queues (all hctxs, or one). */
  poll(hctx?: number): number {
    return this.queue.poll(hctx);
  }

  /** Resolves once nothing is pending and every tag is IDLE. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** `del_gendisk`: new submissions get OFFLINE; resolves after draining and `exitHctx`. */
  del(): Promise<void> {
    return this.queue.close();
  }

  stats(): DiskStats {
    return {
      table: { ...this.queue.table.counters },
      engine: { ...this.queue.counters },
      hctxs: this.queue.hctxs.map((h) => ({ ...h.counters })),
      busySlots: this.queue.table.busyCount,
      pending: this.queue.pending,
    };
  }

  toString(): string {
    return `GenDisk{${this.name}, ${this.capacitySectors} sectors, ${this.limits.logicalBlockSize} B blocks, ${this.tagSet}}`;
  }
}
