// Path (b): the full cluster through the NBD gateway (services/nbd-gateway), driven by
// fio's `nbd` engine with the same job as the nbdkit peer; export name = disk name.
//
// Contract: without a gateway in this build the result is `skipped`, never a figure. With
// several dispatch instances fio runs one job per instance's NBD listener (`gatewayUris`),
// the queue depth spread over them, reported as one group.
import { type BenchCluster, trafficPerIo } from '../bench-cluster';
import type { BenchConfig } from '../bench-matrix';
import { type PathMeasurement } from '../bench-result';
import { measureCpu } from '../cpu-per-io';
import { runFio } from '../fio-job';
import { splitDepth } from './grpc-path';

export const GATEWAY_MISSING = 'skipped: gateway not available';

/** nbd://127.0.0.1:PORT/<disk>, or undefined when the cluster has no gateway. */
export function gatewayUri(bc: BenchCluster, disk: string): string | undefined {
  return bc.nbdAddress ? `nbd://${bc.nbdAddress}/${disk}` : undefined;
}

/** nbd://…/<disk> of every NBD listener (one per dispatch instance); empty without NBD. */
export function gatewayUris(bc: BenchCluster, disk: string): string[] {
  return bc.nbdAddresses.map((a) => `nbd://${a}/${disk}`);
}

export async function runNbdGateway(
  bc: BenchCluster,
  c: BenchConfig,
  disk: string,
  seconds: number,
  sizeMiB: number,
  onTick?: (elapsedSeconds: number) => void,
): Promise<PathMeasurement> {
  const uris = gatewayUris(bc, disk);
  if (uris.length === 0) throw new Error(GATEWAY_MISSING);
  const jobs = splitDepth(c.qd, uris.length).map((qd, i) => ({ uri: uris[i], qd }));
  const before = await bc.redisTraffic();
  // fio is a child that has exited by the second snapshot: its CPU is its own report.
  const { result: m, cpu } = await measureCpu(
    bc.cpuSources(false),
    () => runFio(c, jobs, seconds, sizeMiB, onTick),
    (x) => x.ios,
    (x) => ({ client: x.clientCpuSeconds }),
  );
  const after = await bc.redisTraffic();
  return { ...m, ...trafficPerIo(before, after, m.ios), cpu };
}
