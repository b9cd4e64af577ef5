// The GenDisk API as dispatch serves it: every call forwarded unchanged to the gendisk
// service, so a client needs one address. Messages keep proto-loader's form on both hops.
// The same client makes the service's own GenDisk calls (the bad-block reporter's clears).
//
// Contract (README "Security", DESIGN I18):
//   - The channel is TLS when the service's GRPC_TLS_CERTIFICATES is set (`ClientSecurity`).
//   - `forward` passes on its caller's `authorization` and nothing else of the caller's, so
//     gendisk judges the caller's token, never this service's: a dispatch that checks no
//     token cannot lend its own role to a caller.
//   - `call` (the service on its own behalf) presents the service's token (RNULL_TOKEN).
import * as grpc from '@grpc/grpc-js';
import { authorizationOf, ClientSecurity } from '#grpc-auth';
import { loadBlkPackageDefinition } from '#proto';
import { ClusterError, UnavailableError } from '#service-kit';

type UnaryFn = (req: unknown, metadata: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export class GenDiskForwarder {
  private readonly client: grpc.Client & Record<string, UnaryFn>;

  constructor(
    address: string,
    private readonly security: ClientSecurity = ClientSecurity.plaintext(),
  ) {
    const pkg = grpc.loadPackageDefinition(loadBlkPackageDefinition()) as unknown as {
      blk: { v1: { GenDisk: grpc.ServiceClientConstructor } };
    };
    this.client = new pkg.blk.v1.GenDisk(address, security.credentials) as never;
  }

  /** Calls `method` on gendisk as this service; its error status comes back as the same ClusterError code. */
  call<T>(method: string, req: unknown): Promise<T> {
    return this.invoke(method, req, this.security.callMetadata());
  }

  /** Calls `method` on gendisk for a caller whose call carried `callerMetadata`. */
  forward<T>(method: string, req: unknown, callerMetadata: grpc.Metadata): Promise<T> {
    return this.invoke(method, req, authorizationOf(callerMetadata));
  }

  private invoke<T>(method: string, req: unknown, metadata: grpc.Metadata): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method];
      fn.call(this.client, req, metadata, (err, res) => {
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
