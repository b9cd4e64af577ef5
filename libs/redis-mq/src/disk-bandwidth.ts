// Mirrors null_blk's `cur_bytes` for a disk driven by several processes: the TypeScript face
// of `takeBandwidth-1.lua`, one byte budget per disk in Redis, refilled every tick on Redis's
// clock, so the disk's total stays `mbps` however many dispatch instances (local placement)
// or rnull workers (remote placement) run its driver (DESIGN I12).
import type { Redis } from 'ioredis';
import type { KeySchema } from './key-schema';
import { scriptsFor, type ScriptRunner } from './lua-scripts';

/** What the budget said about one batch (the shape of #rnull's `BandwidthVerdict`). */
export interface DiskBandwidthVerdict {
  /** The first `admitted` requests of the batch may run; the rest are refused. */
  readonly admitted: number;
  /** Time until the next tick, ms (> 0). */
  readonly msToNextTick: number;
}

/**
 * The byte budget of one disk (it fits #rnull's `BandwidthBudget`; this library does not
 * depend on the driver). Contract: one script run per `take`, charged atomically against
 * every other process's; nothing runs for a disk whose `mbps` is 0 (the driver never calls it).
 */
export class DiskBandwidth {
  private readonly scripts: ScriptRunner;
  private readonly key: string;

  constructor(
    redis: Redis,
    keys: KeySchema,
    readonly disk: string,
  ) {
    this.scripts = scriptsFor(redis);
    this.key = keys.bandwidthBudget(disk);
  }

  /** Charges one batch's request sizes (`bytes`) to a budget of `perTick` bytes every `tickMs`. */
  async take(perTick: number, tickMs: number, bytes: readonly number[]): Promise<DiskBandwidthVerdict> {
    const reply = (await this.scripts.run('takeBandwidth', [this.key], [perTick, Math.round(tickMs * 1000), ...bytes])) as [number, number];
    return { admitted: Number(reply[0]), msToNextTick: Math.max(1, Number(reply[1]) / 1000) };
  }
}
