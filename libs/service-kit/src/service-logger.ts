// The process's structured logger (the kernel's `pr_*` / `blk_mq_*` warnings as JSON):
// one pino logger per service process, shared by Nest (nestjs-pino) and the library
// classes, which take it as an optional `log` so unit tests run without one.
import pino, { type Logger } from 'pino';
import type { BlockMetrics } from './block-metrics';

export type { Logger } from 'pino';

/** What the IO-path classes record into; both optional (unit tests pass neither). */
export interface Telemetry {
  metrics?: BlockMetrics;
  log?: Logger;
}

let root: Logger | undefined;

/**
 * Contract: one logger per process, JSON lines on stdout (synchronous writes, so a line
 * never interleaves with the `ready` line), level from `LOG_LEVEL` (default `info`),
 * every line carrying `service` and `instance`. Lines about a request carry `token`
 * (`disk/hctx/tag#gen`, `formatToken`).
 */
export function serviceLogger(service: string, instance: string): Logger {
  root ??= pino({
    level: process.env.LOG_LEVEL || 'info',
    base: { service, instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  return root;
}
