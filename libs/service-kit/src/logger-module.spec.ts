import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { HealthModule } from './health';
import { serviceLoggerModule } from './logger-module';

const silent = pino({ level: 'silent' });

/** Starts an app of HealthModule and `logger` on a free port; GETs both routes; counts AsyncLocalStorage runs meanwhile. */
async function storageRunsServing(logger: ReturnType<typeof serviceLoggerModule>): Promise<number> {
  @Module({ imports: [HealthModule, logger] })
  class AppModule {}
  const app: INestApplication = await NestFactory.create(AppModule, { logger: false });
  const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    for (const path of ['/healthz', '/metrics']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(res.status).toBe(200);
      await res.text();
    }
    return run.mock.calls.length;
  } finally {
    run.mockRestore();
    await app.close();
  }
}

describe('serviceLoggerModule', () => {
  it('serves /healthz and /metrics without entering an AsyncLocalStorage context', async () => {
    expect(await storageRunsServing(serviceLoggerModule(silent))).toBe(0);
  });

  it('(control) nestjs-pino on its default routes enters one per request, which the first case would catch', async () => {
    const runs = await storageRunsServing(LoggerModule.forRoot({ pinoHttp: { logger: silent, autoLogging: false } }));
    expect(runs).toBeGreaterThanOrEqual(2);
  });
});
