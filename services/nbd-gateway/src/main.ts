// Entry point of the NBD gateway service.
import { bootstrapService, readServiceEnv } from '#service-kit';
import { NbdGatewayModule } from './nbd-gateway.module';

void bootstrapService({
  env: readServiceEnv('nbd-gateway'),
  module: NbdGatewayModule,
  readyFields: (app) => ({ nbd: app.get(NbdGatewayModule).address }),
}).catch((err) => {
  process.stderr.write(`nbd-gateway failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
