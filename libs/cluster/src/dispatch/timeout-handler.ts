// Mirrors `blk_mq_timeout_work` / `blk_mq_rq_timed_out`: requests of this instance that
// stay IN_FLIGHT past their deadline are ended with TIMEOUT by the block layer.
import { BlkStatus, formatToken, OpResult } from '#blk-mq';
import type { Telemetry } from '../service-logger';
import type { DiskQueue } from './disk-queue';

/** Expired requests looked at per disk per scan. */
const SCAN_LIMIT = 512;

/**
 * Contract: a request ends with TIMEOUT only through an `end` that the table accepted, so
 * a completion that races the timeout loses cleanly (it is refused as ALREADY_COMPLETE or
 * STALE and counted). The timeout's `end` drops the driver's reference on its behalf:
 * the driver's own late `end` is refused and so drops nothing.
 */
export class TimeoutHandler {
  private timer?: NodeJS.Timeout;
  private scanning = false;
  timedOut = 0;

  constructor(
    private readonly scanMs: number,
    private readonly disks: () => DiskQueue[],
    private readonly tel: Telemetry = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.scan(), this.scanMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async scan(now = Date.now()): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      for (const q of this.disks()) {
        if (q.pending.size === 0) continue;
        const expired = (await q.table.expired(now, SCAN_LIMIT)).filter((t) => q.holds(t));
        if (expired.length === 0) continue;
        const results = await q.table.apply(expired.map((token) => ({ op: 'end', token, status: BlkStatus.TIMEOUT, drop: true })));
        const ended = expired.filter((_, i) => results[i] >= OpResult.Ok);
        this.timedOut += ended.length;
        if (ended.length) this.tel.metrics?.timeouts.inc({ disk: q.name }, ended.length);
        for (const token of ended) {
          this.tel.log?.warn({ token: formatToken(q.name, token), timeoutMs: q.record.attributes.timeoutMs }, 'request timed out');
        }
        await q.complete(
          ended.map((token) => ({ token, status: BlkStatus.TIMEOUT, message: `timed out after ${q.record.attributes.timeoutMs} ms` })),
        );
      }
    } catch (err) {
      // Redis away: the next scan tries again.
      this.tel.log?.debug({ err }, 'timeout scan failed');
    } finally {
      this.scanning = false;
    }
  }
}
