// The cluster as an NBD backend: every powered disk is an export (listed through dispatch's
// GenDisk API) and every connection's IO is a SubmitStream to dispatch, like any client.
import * as grpc from '@grpc/grpc-js';
import { hasWriteCache, MAX_SUBMISSION_BYTES } from '#dispatch';
import { ClientSecurity } from '#grpc-auth';
import { exportOf, type BlockSession, type NbdBackend, type NbdExport } from '#nbd';
import { CLIENT_FLOW_CONTROL_OPTIONS } from '#proto';
import { BlockDeviceClient } from '#proto/grpc/blk/v1/block_device';
import { type Disk, GenDiskClient, type ListDisksResponse } from '#proto/grpc/blk/v1/gen_disk';
import { discardSupported } from '#rnull';
import { StreamSession } from './stream-session';

/**
 * The export of a GenDisk `Disk`, with null_blk's defaults for unset attributes;
 * `flushReplicas` is the deployment's REDIS_FLUSH_REPLICAS (`hasWriteCache`).
 */
export function exportOfDisk(disk: Disk, flushReplicas = 0): NbdExport {
  const a = disk.attributes ?? {};
  return exportOf(
    {
      name: disk.name,
      sizeBytes: BigInt(disk.capacitySectors) * 512n,
      blockSize: a.blocksize ?? 4096,
      writeCache: hasWriteCache(a.cacheSize ?? 0, flushReplicas),
      fua: a.fua ?? true,
      discard: discardSupported(a),
      rotational: a.rotational ?? false,
    },
    MAX_SUBMISSION_BYTES,
  );
}

/**
 * Contract: `listExports` asks dispatch at every call, so a disk powered on or off is seen
 * by the next NBD_OPT_LIST / GO; it rejects (the connection then closes) when dispatch is
 * unreachable within `deadlineMs`.
 */
export class ClusterBackend implements NbdBackend {
  readonly genDisk: GenDiskClient;
  readonly blockDevice: BlockDeviceClient;

  constructor(
    readonly dispatchUrl: string,
    private readonly deadlineMs = 5000,
    /** REDIS_FLUSH_REPLICAS (`hasWriteCache`). */
    private readonly flushReplicas = 0,
    /** TLS and the gateway's token (GRPC_TLS_CERTIFICATES, RNULL_TOKEN: README "Security"). */
    security: ClientSecurity = ClientSecurity.plaintext(),
  ) {
    const options = security.channelOptions({
      ...CLIENT_FLOW_CONTROL_OPTIONS,
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    this.genDisk = new GenDiskClient(dispatchUrl, security.credentials, options);
    this.blockDevice = new BlockDeviceClient(dispatchUrl, security.credentials, options);
  }

  listExports(): Promise<NbdExport[]> {
    return new Promise((resolve, reject) => {
      this.genDisk.listDisks({}, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (err, res: ListDisksResponse) => {
        if (err) return reject(new Error(`listing disks at ${this.dispatchUrl} failed: ${err.details || err.message}`));
        resolve(res.disks.filter((d) => d.power).map((d) => exportOfDisk(d, this.flushReplicas)));
      });
    });
  }

  openSession(exp: NbdExport): BlockSession {
    return new StreamSession(this.blockDevice, exp.name);
  }

  close(): void {
    this.genDisk.close();
    this.blockDevice.close();
  }
}
