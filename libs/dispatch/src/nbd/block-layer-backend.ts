// The NBD backend inside dispatch (NBD_IN_DISPATCH=1): exports from the disk directory, IO
// straight into the block layer, with no gRPC hop and no second process.
import { ReqFlag } from '#blk-mq';
import {
  exportOf,
  type BlockCommand,
  type BlockResult,
  type BlockSession,
  type NbdBackend,
  NbdErrno,
  nbdErrnoOf,
  type NbdExport,
} from '#nbd';
import type { Op } from '#proto/grpc/blk/v1/block_device';
import { capacitySectors, discardSupported } from '#rnull';
import { grpcStatusOf } from '#service-kit';
import type { DiskDirectory, DiskRecord } from '#gendisk';
import type { BlockLayer } from '../block-layer';
import { MAX_SUBMISSION_BYTES, WIRE_OP } from '../submission-check';

/** The wire op (`blk.v1.Op`, WIRE_OP) of an NBD block command: both NBD backends use it. */
export const WIRE_OP_OF: Readonly<Record<BlockCommand['op'], Op>> = {
  read: WIRE_OP.READ,
  write: WIRE_OP.WRITE,
  flush: WIRE_OP.FLUSH,
  discard: WIRE_OP.DISCARD,
  'write-zeroes': WIRE_OP.WRITE_ZEROES,
};

/**
 * Whether a disk has a volatile write cache, which NBD advertises (FLUSH, and FUA with
 * `fua`): its write-back cache (`cache_size` > 0; null_blk sets BLK_FEAT_WRITE_CACHE, and
 * BLK_FEAT_FUA when `fua`, only then), or the Redis master's memory when a FLUSH waits
 * for `REDIS_FLUSH_REPLICAS` > 0 replicas (DESIGN I9: without the FLUSH a failover may
 * lose the write). Both NBD front ends ask this.
 */
export function hasWriteCache(cacheSize: number, flushReplicas: number): boolean {
  return cacheSize > 0 || flushReplicas > 0;
}

/** The NBD export of a disk record; `flushReplicas` is the deployment's REDIS_FLUSH_REPLICAS. */
export function exportOfRecord(r: DiskRecord, flushReplicas = 0): NbdExport {
  const a = r.attributes;
  return exportOf(
    {
      name: r.name,
      sizeBytes: BigInt(capacitySectors(a)) * 512n,
      blockSize: a.blocksize,
      writeCache: hasWriteCache(a.cacheSize, flushReplicas),
      fua: a.fua,
      discard: discardSupported(a),
      rotational: a.rotational,
    },
    MAX_SUBMISSION_BYTES,
  );
}

let sessions = 0;

/**
 * Contract: as a SubmitStream client would see it. A submission the block layer refuses
 * up front (disk powered off or deleted since GO) ends EIO with the refusal's message,
 * like an invalid stream submission ends IOERR.
 */
export class BlockLayerBackend implements NbdBackend {
  constructor(
    private readonly layer: BlockLayer,
    private readonly directory: DiskDirectory,
    /** REDIS_FLUSH_REPLICAS: with replicas to wait for, every disk has a write cache (I9). */
    private readonly flushReplicas = 0,
  ) {}

  async listExports(): Promise<NbdExport[]> {
    return this.directory
      .all()
      .filter((r) => r.power)
      .map((r) => exportOfRecord(r, this.flushReplicas));
  }

  openSession(exp: NbdExport): BlockSession {
    const cpu = sessions++;
    let pending = 0;
    let idle: (() => void) | undefined;
    const finish = (done: (r: BlockResult) => void, r: BlockResult) => {
      pending--;
      done(r);
      if (pending === 0) idle?.();
    };
    return {
      submit: (cmd, done) => {
        pending++;
        let result;
        try {
          result = this.layer.submit(
            {
              disk: exp.name,
              op: WIRE_OP_OF[cmd.op],
              sector: cmd.offset / 512n,
              length: cmd.length,
              data: cmd.data,
              flags: cmd.fua ? ReqFlag.FUA : 0,
            },
            cpu,
          );
        } catch (err) {
          finish(done, { errno: NbdErrno.EIO, message: grpcStatusOf(err).message });
          return;
        }
        result.then(
          (r) => finish(done, { errno: nbdErrnoOf(r.status), data: r.data, message: r.message || undefined }),
          (err) => finish(done, { errno: NbdErrno.EIO, message: grpcStatusOf(err).message }),
        );
      },
      close: async () => {
        if (pending > 0) await new Promise<void>((resolve) => (idle = resolve));
      },
    };
  }
}
