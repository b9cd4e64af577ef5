// Entry point of the rnull driver service.
import { bootstrapService, readServiceEnv } from '#service-kit';
import { RnullModule } from './rnull.module';

void bootstrapService({ env: readServiceEnv('rnull'), module: RnullModule }).catch((err) => {
  process.stderr.write(`rnull failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
