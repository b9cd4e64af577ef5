// `/healthz` and `/metrics` for every service: the HTTP face that Prometheus, docker
// compose health checks and `npm start` read (and `POST /debug/gc`, debug-gc.ts, in a
// process started with --expose-gc).
import { Controller, Get, Global, Injectable, Module, Res } from '@nestjs/common';
import type { Response } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DebugGcController } from './debug-gc';

type Check = () => Promise<unknown>;

/** Named health checks; the service is healthy when every one resolves within 2 s. */
@Injectable()
export class HealthChecks {
  private readonly checks = new Map<string, Check>();
  private draining = false;

  add(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  /** From SIGTERM on, the service reports itself unhealthy so no new work is sent to it. */
  setDraining(): void {
    this.draining = true;
  }

  async run(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    let ok = !this.draining;
    if (this.draining) results.draining = 'true';
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2000).unref()),
          ]);
          results[name] = 'ok';
        } catch (err) {
          ok = false;
          results[name] = err instanceof Error ? err.message : String(err);
        }
      }),
    );
    return { ok, checks: results };
  }
}

/** The process's Prometheus registry, with the default process metrics. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthChecks,
    private readonly metrics: MetricsRegistry,
  ) {}

  @Get('healthz')
  async healthz(@Res() res: Response): Promise<void> {
    const r = await this.health.run();
    res.status(r.ok ? 200 : 503).json(r);
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}

@Global()
@Module({
  controllers: [HealthController, DebugGcController],
  providers: [HealthChecks, MetricsRegistry],
  exports: [HealthChecks, MetricsRegistry],
})
export class HealthModule {}
