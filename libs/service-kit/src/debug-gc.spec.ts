import 'reflect-metadata';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthModule } from './health';

/** An app of HealthModule on a free port; `POST /debug/gc` through real HTTP. */
async function postGc(): Promise<{ status: number; body: Record<string, unknown> }> {
  @Module({ imports: [HealthModule] })
  class AppModule {}
  const app: INestApplication = await NestFactory.create(AppModule, { logger: false });
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/debug/gc`, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } finally {
    await app.close();
  }
}

describe('POST /debug/gc', () => {
  const g = globalThis as { gc?: unknown };
  const own = g.gc;
  afterEach(() => {
    g.gc = own;
  });

  it('answers 404 and collects nothing in a process started without --expose-gc', async () => {
    delete g.gc;
    const r = await postGc();
    expect(r.status).toBe(404);
    expect(String(r.body.message)).toContain('--expose-gc');
  });

  it('runs the exposed collector once and answers the heap in use after it', async () => {
    const gc = jest.fn();
    g.gc = gc;
    const r = await postGc();
    expect(r.status).toBe(200);
    expect(gc).toHaveBeenCalledTimes(1);
    expect(r.body.heapUsedBytes).toBeGreaterThan(0);
  });
});
