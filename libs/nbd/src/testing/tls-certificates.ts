// A throwaway certificate directory for a test (gRPC's and NBD's TLS), made with openssl the
// way README "Security" tells a user to: a CA, a server certificate for localhost and
// 127.0.0.1, a client certificate, all in nbdkit's --tls-certificates layout (ca-cert.pem,
// server-cert.pem, server-key.pem, client-cert.pem, client-key.pem). EC P-256 keys, valid
// for one day. The CA's own key stays outside the directory, as it should.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCertificates {
  /** The directory in nbdkit's layout. */
  readonly dir: string;
  /** The CN of the client certificate in `dir`. */
  readonly clientName: string;
  /**
   * A client's directory (ca-cert.pem, client-cert.pem, client-key.pem) with a new client
   * certificate for `cn`, signed by the same CA: another identity.
   */
  clientDirectory(cn: string): string;
  /** Removes everything it made. */
  remove(): void;
}

const openssl = (cwd: string, ...args: string[]): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Signs a new key's certificate for `cn` with the CA in `work`, with the extensions in `ext`. */
function issue(work: string, dir: string, name: 'server' | 'client', cn: string, ext: string, caDir = dir): void {
  fs.writeFileSync(path.join(work, `${name}.ext`), ext);
  openssl(
    work,
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    path.join(dir, `${name}-key.pem`),
    '-out',
    `${name}.csr`,
  );
  openssl(
    work,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    path.join(caDir, 'ca-cert.pem'),
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    path.join(dir, `${name}-cert.pem`),
  );
}

const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

export function makeTestCertificates(): TestCertificates {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rnull-tls-'));
  const dir = path.join(work, 'pki');
  fs.mkdirSync(dir);
  openssl(
    work,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=rnull-cluster test CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    path.join(dir, 'ca-cert.pem'),
  );
  issue(work, dir, 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const clientName = 'rnull-cluster test client';
  issue(work, dir, 'client', clientName, CLIENT_EXT);
  return {
    dir,
    clientName,
    clientDirectory: (cn) => {
      const to = fs.mkdtempSync(path.join(work, 'client-'));
      fs.copyFileSync(path.join(dir, 'ca-cert.pem'), path.join(to, 'ca-cert.pem'));
      issue(work, to, 'client', cn, CLIENT_EXT, dir);
      return to;
    },
    remove: () => fs.rmSync(work, { recursive: true, force: true }),
  };
}

/** A copy of `from` without `leave`, in a new directory inside `from`'s parent. */
export function copyWithout(from: string, leave: string): string {
  const to = fs.mkdtempSync(path.join(path.dirname(from), 'partial-'));
  for (const f of fs.readdirSync(from)) if (f !== leave) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return to;
}
