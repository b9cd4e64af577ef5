// Entry point of the dispatch service.
import { bootstrapService, readServiceEnv } from '#service-kit';
import { DispatchModule } from './dispatch.module';

void bootstrapService({
  env: readServiceEnv('dispatch'),
  module: DispatchModule,
  grpc: true,
  readyFields: (app) => ({ nbd: app.get(DispatchModule).nbdAddress }),
}).catch((err) => {
  process.stderr.write(`dispatch failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
