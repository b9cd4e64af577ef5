// `npm start`: the whole cluster on this machine, ready for IO on rnullb0 (… rnullb{N-1}
// with `--nr-devices N`, null_blk's nr_devices), until Ctrl-C.
// A short status by default (each service ready, addresses, restarts); each service's JSON
// log goes to a file (`--verbose` or LOG_LEVEL shows them inline). A service that exits is
// restarted with capped back-off. `-- --redis-cluster` runs it on a local Redis Cluster.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GenDiskClient, type Disk } from '#proto/grpc/blk/v1/gen_disk';
import { type ClientSecurity, readClientSecurity } from '#grpc-auth';
import { Cluster } from './cluster';
import { readDriverPlacement, readRedisClusterNodes, redactRedisUrl } from '#service-kit';
import { DEFAULT_NR_DEVICES, deviceName, MAX_NR_DEVICES, readNrDevices } from './nr-devices';
import { RedisCluster } from './redis-cluster';

function call<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

/**
 * Creates and powers on rnullb0 … rnullb{n-1} with the default attributes, like
 * `modprobe null_blk nr_devices=n`; a disk that exists already is powered on as it is.
 */
async function ensureDefaultDisks(address: string, n: number, security: ClientSecurity): Promise<Disk[]> {
  const client = new GenDiskClient(address, security.credentials, security.channelOptions());
  const disks: Disk[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const name = deviceName(i);
      try {
        disks.push(await call(client.createDisk.bind(client), { name, power: true }));
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.ALREADY_EXISTS) throw err;
        disks.push(await call(client.powerDisk.bind(client), { name, power: true }));
      }
    }
    return disks;
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
let redisCluster: RedisCluster | undefined;

const USAGE = `usage: npm start [-- --verbose] [-- --redis-cluster] [-- --nr-devices N]
  --verbose        every service's JSON log inline (also: LOG_LEVEL set)
  --redis-cluster  start a local Redis Cluster (3 masters, 3 replicas) and run on it
  --nr-devices N   create and power on rnullb0 … rnullb{N-1} (null_blk's nr_devices; default ${DEFAULT_NR_DEVICES}, at most ${MAX_NR_DEVICES})
environment: REDIS_URL, REDIS_CLUSTER_NODES, KEY_PREFIX, RNULL_WORKERS, DRIVER_PLACEMENT, NBD_GATEWAY, LOG_DIR, NR_DEVICES (as --nr-devices);
  GRPC_TLS_CERTIFICATES, RNULL_AUTH_TOKENS(_FILE) and RNULL_TOKEN(_FILE) (README "Security"; RNULL_TOKEN must be an admin token to create the disks)`;

function readFlags(argv: string[]): { verbose: boolean; redisCluster: boolean; nrDevices: number } {
  const flags = { verbose: false, redisCluster: false, nrDevices: readNrDevices(process.env.NR_DEVICES) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose' || a === '-v') flags.verbose = true;
    else if (a === '--redis-cluster') flags.redisCluster = true;
    else if (a === '--nr-devices') flags.nrDevices = readNrDevices(argv[++i]);
    else if (a.startsWith('--nr-devices=')) flags.nrDevices = readNrDevices(a.slice('--nr-devices='.length));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
  }
  return flags;
}

/** Each service's lines into `<dir>/<label>.log`, appended; `close()` flushes them all. */
function logFiles(dir: string): { write: (label: string, line: string) => void; close: () => Promise<void> } {
  fs.mkdirSync(dir, { recursive: true });
  const files = new Map<string, fs.WriteStream>();
  return {
    write: (label, line) => {
      let f = files.get(label);
      if (!f) {
        f = fs.createWriteStream(path.join(dir, `${label}.log`), { flags: 'a' });
        files.set(label, f);
      }
      f.write(`${line}\n`);
    },
    close: () => Promise.all([...files.values()].map((f) => new Promise<void>((resolve) => f.end(resolve)))).then(() => undefined),
  };
}

let logs: ReturnType<typeof logFiles> | undefined;

/** How to list the API with grpcurl, with the TLS files and the token when those are on (README "Security"). */
function grpcurlHint(address: string): string {
  const dir = process.env.GRPC_TLS_CERTIFICATES;
  const tls = dir ? `-cacert ${dir}/ca-cert.pem -cert ${dir}/client-cert.pem -key ${dir}/client-key.pem` : '-plaintext';
  const token = process.env.RNULL_AUTH_TOKENS || process.env.RNULL_AUTH_TOKENS_FILE ? ' -H "authorization: Bearer $RNULL_TOKEN"' : '';
  return `grpcurl ${tls}${token} ${address} list`;
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2));
  const verbose = flags.verbose || Boolean(process.env.LOG_LEVEL);
  const logDir = path.resolve(process.env.LOG_DIR || 'logs');
  const workers = Number(process.env.RNULL_WORKERS || 1);
  // On one machine the driver runs inside dispatch unless DRIVER_PLACEMENT says otherwise
  // (README "Driver placement"); the services' own default, and compose's, is remote.
  const driverPlacement = readDriverPlacement(process.env.DRIVER_PLACEMENT, 'local');
  const started = Date.now();
  let clusterNodes = process.env.REDIS_CLUSTER_NODES || undefined;
  if (clusterNodes) readRedisClusterNodes(clusterNodes); // a bad list is an error now, not in every service
  // The services read the same variables from this environment; the launcher creates the disks with them.
  const security = readClientSecurity(process.env, true);
  process.stderr.write('starting rnull-cluster…\n');
  if (flags.redisCluster && !clusterNodes) {
    process.stderr.write('  starting a local Redis Cluster (3 masters, 3 replicas)…\n');
    redisCluster = await new RedisCluster().start();
    clusterNodes = redisCluster.seedList;
  }
  const cluster = new Cluster({
    env: { DRIVER_PLACEMENT: driverPlacement },
    redisClusterNodes: clusterNodes,
    rnullWorkers: workers,
    completionWorkers: workers,
    nbdGateway: nbdMode(process.env.NBD_GATEWAY),
    supervise: true,
    out: verbose ? (label, line) => process.stderr.write(`[${label}] ${line}\n`) : (logs = logFiles(logDir)).write,
    onReady: (label, r) =>
      process.stderr.write(
        `  ✓ ${label.padEnd(12)} http://127.0.0.1:${r.http}/metrics${r.grpc ? `  grpc ${r.grpc}` : ''}${r.nbd ? `  nbd://${r.nbd}` : ''}\n`,
      ),
    onRestart: (label, e) =>
      process.stderr.write(
        `  ↻ ${label} exited (${e.signal ? `signal ${e.signal}` : `code ${e.code}`}); restart ${e.restarts} in ${(e.delayMs / 1000).toFixed(2)} s` +
          `${verbose ? '' : `  (log: ${path.join(logDir, `${label}.log`)})`}\n`,
      ),
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${why}: stopping the cluster…\n`);
    await cluster.stop();
    await redisCluster?.stop();
    await logs?.close();
    process.stderr.write('stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  running = cluster;
  await cluster.start();
  const disks = await ensureDefaultDisks(cluster.dispatchAddress, flags.nrDevices, security);
  const tlsFlag = process.env.GRPC_TLS_CERTIFICATES ? ` --tls-certificates ${process.env.GRPC_TLS_CERTIFICATES}` : '';
  const [disk] = disks;
  const a = disk.attributes!;
  const names = disks.map((d) => d.name).join(', ');
  process.stdout.write(
    [
      `rnull-cluster is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  gRPC (BlockDevice + GenDisk): ${cluster.dispatchAddress}   (${grpcurlHint(cluster.dispatchAddress)})`,
      ...(cluster.nbdAddress ? [`  NBD: nbd://${cluster.nbdAddress}/${disk.name}   (nbdinfo --list nbd://${cluster.nbdAddress})`] : []),
      `  metrics: ${cluster.processes.map((p) => `http://127.0.0.1:${p.spec.env.HTTP_PORT}/metrics`).join('  ')}`,
      clusterNodes
        ? `  Redis Cluster: ${clusterNodes}${redisCluster ? ' (local, stopped on Ctrl-C)' : ''}`
        : `  Redis: ${redactRedisUrl(cluster.redisUrl)}`,
      verbose ? `  service logs: inline` : `  service logs: ${logDir}/<service>.log   (npm start -- --verbose shows them here)`,
      `  driver placement: ${driverPlacement} (DRIVER_PLACEMENT=${driverPlacement === 'local' ? 'remote runs it in the rnull/completion workers' : 'local runs it inside dispatch'})`,
      `  ${disks.length > 1 ? `disks ${names}` : `disk ${disk.name}`}: ${a.size} MiB, blocksize ${a.blocksize}, irqmode ${a.irqmode}, memory_backed ${a.memoryBacked ? 1 : 0}, power ${disk.power ? 'on' : 'off'}`,
      `  try: npx rnullctl disk list${tlsFlag}   |   npx rnullctl load --seconds 5${tlsFlag}`,
      `  Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
}

main().catch(async (err) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  // Why a service ended before it was ready: its last lines (they went to its log file).
  for (const p of running?.processes ?? []) {
    if (p.running) continue;
    process.stderr.write(
      `last lines of ${p.spec.label}:\n${p
        .recentLines()
        .slice(-15)
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
  }
  await running?.stop().catch(() => undefined);
  await redisCluster?.stop().catch(() => undefined);
  await logs?.close();
  process.exit(1);
});
