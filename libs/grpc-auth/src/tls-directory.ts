// A directory of PEM files in nbdkit's `--tls-certificates` layout, and the grpc-js
// credentials made from it. A server reads `server-cert.pem` and `server-key.pem`, and
// with `ca-cert.pem` present asks every client for a certificate signed by it (mutual
// TLS); a client verifies the server against `ca-cert.pem` (the system's CAs when it is
// absent) and presents `client-cert.pem` / `client-key.pem` when they are there.
//
// Contract:
//   - Every file is read and checked when the credentials are made (a certificate must
//     parse as X.509, a key as a private key, and the key must match its certificate), so
//     bad files stop a process at start. Errors name the setting, the directory and the
//     file, never a key's contents.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';

/** The file names of the layout (nbdkit, libnbd and qemu use the same). */
export const TLS_FILES = Object.freeze({
  ca: 'ca-cert.pem',
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
});

/** Where a directory came from, for errors: e.g. `GRPC_TLS_CERTIFICATES` or `--tls-certificates`. */
export interface TlsDirectory {
  readonly dir: string;
  readonly setting: string;
}

class TlsReader {
  constructor(private readonly at: TlsDirectory) {}

  private where(file?: string): string {
    return `${this.at.setting}=${this.at.dir}${file ? `: ${file}` : ''}`;
  }

  checkDirectory(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.at.dir);
    } catch {
      throw new Error(`${this.where()}: no such directory`);
    }
    if (!stat.isDirectory()) throw new Error(`${this.where()}: not a directory`);
  }

  exists(file: string): boolean {
    return fs.existsSync(path.join(this.at.dir, file));
  }

  private read(file: string): Buffer {
    try {
      return fs.readFileSync(path.join(this.at.dir, file));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`${this.where(file)} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'error'})`}`);
    }
  }

  certificate(file: string): Buffer {
    const pem = this.read(file);
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`${this.where(file)} is not a PEM certificate`);
    }
    return pem;
  }

  /** The key of `certFile`, checked to be a private key that matches it. */
  keyOf(keyFile: string, cert: Buffer, certFile: string): Buffer {
    const pem = this.read(keyFile);
    let matches: boolean;
    try {
      matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(pem));
    } catch {
      throw new Error(`${this.where(keyFile)} is not a PEM private key`);
    }
    if (!matches) throw new Error(`${this.where(keyFile)} is not the key of ${certFile}`);
    return pem;
  }
}

/** The PEM files a TLS server of `at` uses, each checked (see the contract above). */
export interface ServerTlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** `ca-cert.pem` when present: the server asks every client for a certificate signed by it. */
  readonly ca: Buffer | null;
}

/**
 * Reads and checks the server side of `at`: the one reader of the layout for every TLS
 * server of the cluster (gRPC here; NBD's STARTTLS in dispatch's nbd-tls-env).
 */
export function readServerTlsFiles(at: TlsDirectory): ServerTlsFiles {
  const r = new TlsReader(at);
  r.checkDirectory();
  const cert = r.certificate(TLS_FILES.serverCert);
  const key = r.keyOf(TLS_FILES.serverKey, cert, TLS_FILES.serverCert);
  const ca = r.exists(TLS_FILES.ca) ? r.certificate(TLS_FILES.ca) : null;
  return { cert, key, ca };
}

/** Server credentials from `at`: TLS, and mutual TLS when `ca-cert.pem` is there. */
export function serverTlsCredentials(at: TlsDirectory): { credentials: grpc.ServerCredentials; verifiesClients: boolean } {
  const { cert, key, ca } = readServerTlsFiles(at);
  return {
    credentials: grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null),
    verifiesClients: ca !== null,
  };
}

/**
 * Client credentials from `at`. `requireClientCertificate` (a service whose own servers ask
 * for client certificates, i.e. whose directory holds `ca-cert.pem`) makes
 * `client-cert.pem` and `client-key.pem` required; otherwise they are used when present
 * (both or neither).
 */
export function clientTlsCredentials(at: TlsDirectory, requireClientCertificate = false): grpc.ChannelCredentials {
  const r = new TlsReader(at);
  r.checkDirectory();
  const ca = r.exists(TLS_FILES.ca) ? r.certificate(TLS_FILES.ca) : null;
  const wantsPair = requireClientCertificate || r.exists(TLS_FILES.clientCert) || r.exists(TLS_FILES.clientKey);
  if (!wantsPair) return grpc.credentials.createSsl(ca);
  const cert = r.certificate(TLS_FILES.clientCert);
  const key = r.keyOf(TLS_FILES.clientKey, cert, TLS_FILES.clientCert);
  return grpc.credentials.createSsl(ca, key, cert);
}

/** True when `at` holds `ca-cert.pem`: its servers verify client certificates. */
export function verifiesClients(at: TlsDirectory): boolean {
  return fs.existsSync(path.join(at.dir, TLS_FILES.ca));
}
