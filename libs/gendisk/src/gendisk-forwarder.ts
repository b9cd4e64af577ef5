// The GenDisk API as dispatch serves it: every call forwarded unchanged to the gendisk
// service, so a client needs one address. Messages keep proto-loader's form on both hops.
import * as grpc from '@grpc/grpc-js';
import { loadBlkPackageDefinition } from '#proto';
import { ClusterError, UnavailableError } from '#service-kit';

type UnaryFn = (req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export class GenDiskForwarder {
  private readonly client: grpc.Client & Record<string, UnaryFn>;

  constructor(address: string) {
    const pkg = grpc.loadPackageDefinition(loadBlkPackageDefinition()) as unknown as {
      blk: { v1: { GenDisk: grpc.ServiceClientConstructor } };
    };
    this.client = new pkg.blk.v1.GenDisk(address, grpc.credentials.createInsecure()) as never;
  }

  /** Calls `method` on gendisk; its error status comes back as the same ClusterError code. */
  call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method];
      fn.call(this.client, req, (err, res) => {
        if (!err) return resolve(res as T);
        if (err.code === grpc.status.UNAVAILABLE) return reject(new UnavailableError(`gendisk unavailable: ${err.details}`));
        reject(new ClusterError(err.code, err.details));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
