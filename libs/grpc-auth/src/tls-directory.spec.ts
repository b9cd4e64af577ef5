// What a bad certificate directory says (the e2e test makes real certificates with openssl).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clientTlsCredentials, serverTlsCredentials, TLS_FILES } from './tls-directory';
import { readServerSecurity } from './grpc-security-env';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-dir-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const at = () => ({ dir, setting: 'GRPC_TLS_CERTIFICATES' });

it("uses nbdkit's file names", () => {
  expect(Object.values(TLS_FILES).sort()).toEqual([
    'ca-cert.pem',
    'client-cert.pem',
    'client-key.pem',
    'server-cert.pem',
    'server-key.pem',
  ]);
});

it('names the setting and the directory when it is not there or not a directory', () => {
  expect(() => serverTlsCredentials({ dir: path.join(dir, 'absent'), setting: 'GRPC_TLS_CERTIFICATES' })).toThrow(
    /^GRPC_TLS_CERTIFICATES=\S+absent: no such directory$/,
  );
  fs.writeFileSync(path.join(dir, 'file'), '');
  expect(() => clientTlsCredentials({ dir: path.join(dir, 'file'), setting: '--tls-certificates' })).toThrow(
    /^--tls-certificates=\S+file: not a directory$/,
  );
});

it('names a missing file, and a file that is not PEM, without its contents', () => {
  expect(() => serverTlsCredentials(at())).toThrow(/^GRPC_TLS_CERTIFICATES=\S+: server-cert\.pem is missing$/);
  fs.writeFileSync(path.join(dir, 'server-cert.pem'), 'not-a-certificate-SECRET');
  let message = '';
  try {
    serverTlsCredentials(at());
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/server-cert\.pem is not a PEM certificate$/);
  expect(message).not.toContain('SECRET');
  // A client with only a key of its pair is told about the missing certificate.
  fs.writeFileSync(path.join(dir, 'client-key.pem'), 'x');
  expect(() => clientTlsCredentials(at())).toThrow(/client-cert\.pem is missing$/);
});

it('a client needs nothing from an empty directory but verifies with the system CAs; a service that must present a certificate does', () => {
  expect(clientTlsCredentials(at())).toBeDefined();
  expect(() => clientTlsCredentials(at(), true)).toThrow(/client-cert\.pem is missing$/);
});

it('readServerSecurity without settings: plaintext, no check, and it prints nothing secret', () => {
  const s = readServerSecurity({});
  expect([s.tls, s.verifiesClients, s.tokens, s.interceptors]).toEqual([false, false, undefined, []]);
  const withTokens = readServerSecurity({ RNULL_AUTH_TOKENS: 'SECRET-TOKEN:admin' });
  expect(withTokens.interceptors).toHaveLength(1);
  expect(JSON.stringify(withTokens)).toBe('{"tls":false,"verifiesClients":false,"tokens":1}');
});
