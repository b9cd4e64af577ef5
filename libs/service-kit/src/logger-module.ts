// The Nest side of the service logger: nestjs-pino's LoggerModule, set up so that the HTTP
// server (only `/healthz`, `/metrics` and `/debug/gc`) never enters an AsyncLocalStorage context.
//
// nestjs-pino's default middleware runs every HTTP request inside
// `AsyncLocalStorage.run`, and on Node 20 the first such run turns on V8's promise hooks
// for the rest of the process: every promise of the IO path (NBD, gRPC, Redis replies)
// then pays an init hook and before/after hooks. A readiness probe or a Prometheus scrape
// was enough to turn them on in every service; in a profile of dispatch under 4 KiB writes
// at queue depth 32 they were 3–4 % of its CPU (docs/bench/v2-hooks/). No route logs
// per request (`autoLogging: false`), so nothing is lost by not binding a request logger.
import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from './service-logger';

/**
 * LoggerModule for a service's Nest application, logging through `log` (`serviceLogger`).
 * Contract: Nest's own lines and `PinoLogger` go to `log`; no HTTP request runs inside
 * nestjs-pino's AsyncLocalStorage (its middleware is mounted on no route), so V8's promise
 * hooks stay off unless something else asks for them.
 */
export function serviceLoggerModule(log: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: { logger: log, autoLogging: false }, forRoutes: [] });
}
