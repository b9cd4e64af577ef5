// The gRPC side of rnullctl: one address serving blk.v1.GenDisk and blk.v1.BlockDevice,
// unary calls as promises with a deadline, and failures turned into messages that name
// the gRPC status and carry the server's own words.
import * as grpc from '@grpc/grpc-js';
import { ClientSecurity } from '#grpc-auth';
import { CLIENT_FLOW_CONTROL_OPTIONS } from '#proto';
import { BlockDeviceClient, Completion, ReportZonesRequest, ReportZonesResponse, Submission, Zone } from '#proto/grpc/blk/v1/block_device';
import {
  ConfigureDiskRequest,
  CreateDiskRequest,
  DeleteDiskResponse,
  Disk,
  FeaturesResponse,
  GenDiskClient,
  ListDisksResponse,
  SetZoneConditionRequest,
  SetZoneConditionResponse,
} from '#proto/grpc/blk/v1/gen_disk';
import { CliError } from './command';

/**
 * Client-side channel options: reads of any size come back (the server caps requests),
 * and calls are spread round robin over every address the target resolves to, so
 * `dns:///dispatch:50051` (compose's `--scale dispatch=N`) or
 * `ipv4:127.0.0.1:50051,127.0.0.1:50052` uses every dispatch instance; the project's
 * flow-control windows (libs/proto/src/grpc-flow-control.ts).
 */
export const CLIENT_CHANNEL_OPTIONS: grpc.ClientOptions = {
  ...CLIENT_FLOW_CONTROL_OPTIONS,
  'grpc.max_receive_message_length': -1,
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

/** A failed gRPC call; `code` is the grpc-js status. */
export class GrpcCallError extends CliError {
  constructor(
    message: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(message);
  }
}

/** `NOT_FOUND (5)` for a grpc-js status code. */
export function grpcStatusName(code: number): string {
  return `${grpc.status[code] ?? 'UNKNOWN_STATUS'} (${code})`;
}

/** Wraps a grpc-js ServiceError as a GrpcCallError whose message names call, status and details. */
export function describeGrpcError(what: string, address: string, err: unknown, tls = false): Error {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e?.code !== 'number') return err instanceof Error ? err : new Error(String(err));
  const details = e.details ?? e.message ?? '';
  let msg = `${what} failed: ${grpcStatusName(e.code)}: ${details}`;
  if (e.code === grpc.status.UNAVAILABLE && !/powered/i.test(details)) {
    msg += ` (is dispatch listening on ${address}? set --address or RNULL_ADDRESS${tls ? '' : '; if it speaks TLS, --tls-certificates DIR'})`;
  } else if (e.code === grpc.status.DEADLINE_EXCEEDED) {
    msg += ' (raise --deadline_ms?)';
  } else if (e.code === grpc.status.UNAUTHENTICATED) {
    msg += ' (set --token or RNULL_TOKEN)';
  }
  return new GrpcCallError(msg, e.code, details);
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;

/** The two service clients of one dispatch address. Call `close()` when done. */
export class RnullClients {
  readonly genDisk: GenDiskClient;
  readonly blockDevice: BlockDeviceClient;
  private readonly tls: boolean;

  constructor(
    readonly address: string,
    readonly deadlineMs: number,
    /** TLS and the bearer token (--tls-certificates, --token / RNULL_TOKEN). */
    security: ClientSecurity = ClientSecurity.plaintext(),
  ) {
    this.tls = security.tls;
    const options = security.channelOptions(CLIENT_CHANNEL_OPTIONS);
    this.genDisk = new GenDiskClient(address, security.credentials, options);
    this.blockDevice = new BlockDeviceClient(address, security.credentials, options);
  }

  createDisk(req: CreateDiskRequest): Promise<Disk> {
    return this.unary('GenDisk.CreateDisk', (m, o, cb: Callback<Disk>) => this.genDisk.createDisk(req, m, o, cb));
  }

  getDisk(name: string): Promise<Disk> {
    return this.unary('GenDisk.GetDisk', (m, o, cb: Callback<Disk>) => this.genDisk.getDisk({ name }, m, o, cb));
  }

  async listDisks(): Promise<Disk[]> {
    const res = await this.unary<ListDisksResponse>('GenDisk.ListDisks', (m, o, cb) => this.genDisk.listDisks({}, m, o, cb));
    return res.disks;
  }

  configureDisk(req: ConfigureDiskRequest): Promise<Disk> {
    return this.unary('GenDisk.ConfigureDisk', (m, o, cb: Callback<Disk>) => this.genDisk.configureDisk(req, m, o, cb));
  }

  powerDisk(name: string, power: boolean): Promise<Disk> {
    return this.unary('GenDisk.PowerDisk', (m, o, cb: Callback<Disk>) => this.genDisk.powerDisk({ name, power }, m, o, cb));
  }

  async deleteDisk(name: string): Promise<void> {
    await this.unary<DeleteDiskResponse>('GenDisk.DeleteDisk', (m, o, cb) => this.genDisk.deleteDisk({ name }, m, o, cb));
  }

  async features(): Promise<string[]> {
    const res = await this.unary<FeaturesResponse>('GenDisk.Features', (m, o, cb) => this.genDisk.features({}, m, o, cb));
    return res.features;
  }

  /** One IO over the unary Submit; a non-OK Completion is returned, not thrown. */
  submit(sub: Submission): Promise<Completion> {
    return this.unary('BlockDevice.Submit', (m, o, cb: Callback<Completion>) => this.blockDevice.submit(sub, m, o, cb));
  }

  /** BLKREPORTZONE: up to `count` zones (0: all) from the zone that holds `sector`. */
  async reportZones(req: ReportZonesRequest): Promise<Zone[]> {
    const res = await this.unary<ReportZonesResponse>('BlockDevice.ReportZones', (m, o, cb) => this.blockDevice.reportZones(req, m, o, cb));
    return res.zones;
  }

  /** null_blk's zone_readonly / zone_offline: the zone that holds `sector` becomes the condition (again: EMPTY). */
  async setZoneCondition(req: SetZoneConditionRequest): Promise<void> {
    await this.unary<SetZoneConditionResponse>('GenDisk.SetZoneCondition', (m, o, cb) => this.genDisk.setZoneCondition(req, m, o, cb));
  }

  close(): void {
    this.genDisk.close();
    this.blockDevice.close();
  }

  private unary<T>(what: string, invoke: (md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: Callback<T>) => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const opts = { deadline: Date.now() + this.deadlineMs };
      invoke(new grpc.Metadata(), opts, (err, res) => {
        if (err) {
          reject(describeGrpcError(what, this.address, err, this.tls));
          return;
        }
        resolve(res);
      });
    });
  }
}

/** Runs `fn` with clients for `target.address` and closes them afterwards, whatever happens. */
export async function withClients<T>(
  target: { readonly address: string; readonly deadlineMs: number; readonly security?: ClientSecurity },
  fn: (clients: RnullClients) => Promise<T>,
): Promise<T> {
  const clients = new RnullClients(target.address, target.deadlineMs, target.security);
  try {
    return await fn(clients);
  } finally {
    clients.close();
  }
}
