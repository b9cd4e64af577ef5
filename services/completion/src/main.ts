// Entry point of the completion service.
import { bootstrapService, readServiceEnv } from '#service-kit';
import { CompletionModule } from './completion.module';

void bootstrapService({ env: readServiceEnv('completion'), module: CompletionModule }).catch((err) => {
  process.stderr.write(`completion failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
