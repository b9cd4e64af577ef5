// Entry point of the gendisk service.
import { bootstrapService, readServiceEnv } from '#service-kit';
import { GenDiskModule } from './gendisk.module';

void bootstrapService({ env: readServiceEnv('gendisk'), module: GenDiskModule, grpc: true }).catch((err) => {
  process.stderr.write(`gendisk failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
