// `npm start`: the whole cluster on this machine, ready for IO on rnullb0, until Ctrl-C.
import * as grpc from '@grpc/grpc-js';
import { GenDiskClient, type Disk } from '#proto/grpc/blk/v1/gen_disk';
import { Cluster } from './cluster';
import { readDriverPlacement } from '#service-kit';

const DEFAULT_DISK = 'rnullb0';

function call<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

/** Creates and powers on rnullb0 with the default attributes, like `modprobe rnull`. */
async function ensureDefaultDisk(address: string): Promise<Disk> {
  const client = new GenDiskClient(address, grpc.credentials.createInsecure());
  try {
    try {
      return await call(client.createDisk.bind(client), { name: DEFAULT_DISK, power: true });
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.ALREADY_EXISTS) throw err;
      return await call(client.powerDisk.bind(client), { name: DEFAULT_DISK, power: true });
    }
  } finally {
    client.close();
  }
}

/** `NBD_GATEWAY`: `dispatch` (default, NBD served inside dispatch), `service` (its own process) or `0`. */
function nbdMode(v: string | undefined): 'dispatch' | 'service' | false {
  if (v === undefined || v === '' || v === 'dispatch') return 'dispatch';
  if (v === 'service') return 'service';
  if (v === '0') return false;
  throw new Error(`NBD_GATEWAY must be dispatch, service or 0, got ${JSON.stringify(v)}`);
}

let running: Cluster | undefined;

async function main(): Promise<void> {
  const workers = Number(process.env.RNULL_WORKERS || 1);
  // On one machine the driver runs inside dispatch unless DRIVER_PLACEMENT says otherwise
  // (README "Driver placement"); the services' own default, and compose's, is remote.
  const driverPlacement = readDriverPlacement(process.env.DRIVER_PLACEMENT, 'local');
  const started = Date.now();
  const cluster = new Cluster({
    env: { DRIVER_PLACEMENT: driverPlacement },
    rnullWorkers: workers,
    completionWorkers: workers,
    nbdGateway: nbdMode(process.env.NBD_GATEWAY),
    out: (label, line) => process.stderr.write(`[${label}] ${line}\n`),
    onReady: (label, r) =>
      process.stderr.write(`  ✓ ${label.padEnd(12)} http :${r.http}${r.grpc ? `  grpc ${r.grpc}` : ''}${r.nbd ? `  nbd ${r.nbd}` : ''}\n`),
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${why}: stopping the cluster…\n`);
    await cluster.stop();
    process.stderr.write('stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  process.stderr.write('starting rnull-cluster…\n');
  running = cluster;
  await cluster.start();
  const disk = await ensureDefaultDisk(cluster.dispatchAddress);
  const a = disk.attributes!;
  process.stdout.write(
    [
      `rnull-cluster is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  gRPC (BlockDevice + GenDisk): ${cluster.dispatchAddress}`,
      ...(cluster.nbdAddress ? [`  NBD: nbd://${cluster.nbdAddress}/${disk.name}   (nbdinfo --list nbd://${cluster.nbdAddress})`] : []),
      `  Redis: ${cluster.redisUrl}`,
      `  driver placement: ${driverPlacement} (DRIVER_PLACEMENT=${driverPlacement === 'local' ? 'remote runs it in the rnull/completion workers' : 'local runs it inside dispatch'})`,
      `  disk ${disk.name}: ${a.size} MiB, blocksize ${a.blocksize}, irqmode ${a.irqmode}, memory_backed ${a.memoryBacked ? 1 : 0}, power ${disk.power ? 'on' : 'off'}`,
      `  try: npx rnullctl disk list   |   npx rnullctl load --seconds 5`,
      `  Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
}

main().catch(async (err) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await running?.stop().catch(() => undefined);
  process.exit(1);
});
