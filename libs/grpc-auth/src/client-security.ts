// How a gRPC client of the cluster connects: plaintext or TLS (tls-directory.ts), and the
// bearer token it presents (bearer-token.ts). rnullctl, the NBD gateway, dispatch's and
// rnull's calls to gendisk, `npm start` and the tests all make their channels from one of
// these, so "TLS on" and "a token" mean the same on every client.
//
// Contract: a ClientSecurity prints as `ClientSecurity(tls, token)`-like text only
// (`toJSON`, util.inspect): never the token.
import { inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_METADATA_KEY, bearerTokenInterceptor, bearerValue } from './bearer-token';
import { clientTlsCredentials, type TlsDirectory } from './tls-directory';

export interface ClientSecuritySettings {
  /** The certificate directory; unset: plaintext. */
  readonly tls?: TlsDirectory;
  /** Require `client-cert.pem` and `client-key.pem` (see `clientTlsCredentials`). */
  readonly requireClientCertificate?: boolean;
  /** The bearer token to present; unset: none. */
  readonly token?: string;
}

export class ClientSecurity {
  private constructor(
    /** The channel credentials: insecure, or TLS from the directory. */
    readonly credentials: grpc.ChannelCredentials,
    /** True when the channel is TLS. */
    readonly tls: boolean,
    private readonly token: string | undefined,
  ) {}

  /** Plaintext, no token: a cluster with neither TLS nor tokens (npm start's default). */
  static plaintext(): ClientSecurity {
    return new ClientSecurity(grpc.credentials.createInsecure(), false, undefined);
  }

  /** Reads and checks the certificate files now; throws naming the setting. */
  static of(settings: ClientSecuritySettings): ClientSecurity {
    const credentials = settings.tls
      ? clientTlsCredentials(settings.tls, settings.requireClientCertificate)
      : grpc.credentials.createInsecure();
    return new ClientSecurity(credentials, settings.tls !== undefined, settings.token);
  }

  /** True when calls carry a bearer token. */
  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** `base` with the interceptor that puts the token on every call (when there is one). */
  channelOptions(base: grpc.ClientOptions = {}): grpc.ClientOptions {
    if (this.token === undefined) return base;
    return { ...base, interceptors: [...(base.interceptors ?? []), bearerTokenInterceptor(this.token)] };
  }

  /** Metadata carrying this client's token, for a call on a channel made without `channelOptions`. */
  callMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token !== undefined) metadata.set(AUTHORIZATION_METADATA_KEY, bearerValue(this.token));
    return metadata;
  }

  toJSON(): { tls: boolean; token: boolean } {
    return { tls: this.tls, token: this.hasToken };
  }

  [inspect.custom](): string {
    return `ClientSecurity(${this.tls ? 'tls' : 'plaintext'}, ${this.hasToken ? 'token' : 'no token'})`;
  }
}
