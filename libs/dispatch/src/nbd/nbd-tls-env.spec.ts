// The NBD security settings: what each bad value says (naming the setting), and what a good
// one gives the server. Certificates are real (openssl), as a user makes them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyWithout, makeTestCertificates, type TestCertificates } from '../../../nbd/src/testing/tls-certificates';
import { NbdIdentityTable } from './nbd-identities';
import { readNbdSecurity } from './nbd-tls-env';

let certs: TestCertificates;
let work: string;
beforeAll(() => {
  certs = makeTestCertificates();
  work = path.dirname(certs.dir);
});
afterAll(() => certs.remove());

const psk = (text: string) => {
  const file = path.join(work, `psk-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, text);
  return file;
};

describe('readNbdSecurity', () => {
  it('is off by default: no TLS, no identity check', () => {
    expect(readNbdSecurity({})).toEqual({ summary: { tls: 'off', verifiesClients: false, pskUsers: 0, identities: 0 } });
  });

  it('NBD_TLS=require with a certificate directory: mutual TLS when ca-cert.pem is there, and identities', () => {
    const s = readNbdSecurity({ NBD_TLS: 'require', NBD_TLS_CERTIFICATES: certs.dir, NBD_AUTH_IDENTITIES: 'alice:read, bob:write' });
    expect(s.summary).toEqual({ tls: 'require', verifiesClients: true, pskUsers: 0, identities: 2 });
    expect(s.tls).toMatchObject({ mode: 'require', verifiesClients: true });
    expect(s.access?.({ kind: 'certificate', name: 'alice' })).toEqual({ readOnly: true });
    expect(s.access?.({ kind: 'certificate', name: 'bob' })).toEqual({ readOnly: false });
    const noCa = copyWithout(certs.dir, 'ca-cert.pem');
    expect(readNbdSecurity({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: noCa }).summary).toMatchObject({ tls: 'on', verifiesClients: false });
  });

  it('NBD_TLS_PSK_FILE: nbdkit / psktool lines, keys by username', () => {
    const s = readNbdSecurity({ NBD_TLS: 'require', NBD_TLS_PSK_FILE: psk('alice:00ff\n\nbob:0102abcd\n') });
    expect(s.summary).toMatchObject({ tls: 'require', pskUsers: 2 });
    expect(s.tls?.pskKey?.('alice')).toEqual(Buffer.from([0, 0xff]));
    expect(s.tls?.pskKey?.('carol')).toBeUndefined();
  });

  it.each([
    [{ NBD_TLS: 'require' }, /^NBD_TLS=require needs NBD_TLS_CERTIFICATES=DIR \(or NBD_TLS_PSK_FILE=FILE\)$/],
    [{ NBD_TLS: 'on' }, /^NBD_TLS=on needs NBD_TLS_CERTIFICATES/],
    [{ NBD_TLS_CERTIFICATES: '/pki' }, /^NBD_TLS_CERTIFICATES is set but NBD_TLS is off/],
    [{ NBD_TLS_PSK_FILE: '/keys' }, /^NBD_TLS_PSK_FILE is set but NBD_TLS is off/],
    [{ NBD_AUTH_IDENTITIES: 'a:read' }, /^NBD_AUTH_IDENTITIES needs NBD_TLS=require/],
    [{ NBD_TLS: 'require', NBD_TLS_CERTIFICATES: '/nonexistent/pki' }, /^NBD_TLS_CERTIFICATES=\/nonexistent\/pki: no such directory$/],
    [{ NBD_TLS: 'require', NBD_TLS_PSK_FILE: '/nonexistent/keys' }, /^NBD_TLS_PSK_FILE=\/nonexistent\/keys: no such file$/],
  ])('refuses %j naming the setting', (env, message) => {
    expect(() => readNbdSecurity(env)).toThrow(message);
  });

  it('names the missing certificate or key file', () => {
    const noKey = copyWithout(certs.dir, 'server-key.pem');
    expect(() => readNbdSecurity({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: noKey })).toThrow(
      /^NBD_TLS_CERTIFICATES=\S+: server-key.pem is missing$/,
    );
    const noCert = copyWithout(certs.dir, 'server-cert.pem');
    expect(() => readNbdSecurity({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: noCert })).toThrow(
      /^NBD_TLS_CERTIFICATES=\S+: server-cert.pem is missing$/,
    );
  });

  it('refuses both sources of keys, identities without require or without client identities', () => {
    const keys = psk('alice:00ff\n');
    expect(() => readNbdSecurity({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: certs.dir, NBD_TLS_PSK_FILE: keys })).toThrow(
      /^NBD_TLS_CERTIFICATES and NBD_TLS_PSK_FILE are both set: set one$/,
    );
    expect(() => readNbdSecurity({ NBD_TLS: 'on', NBD_TLS_CERTIFICATES: certs.dir, NBD_AUTH_IDENTITIES: 'a:read' })).toThrow(
      /^NBD_AUTH_IDENTITIES needs NBD_TLS=require .*got NBD_TLS=on$/,
    );
    const noCa = copyWithout(certs.dir, 'ca-cert.pem');
    expect(() => readNbdSecurity({ NBD_TLS: 'require', NBD_TLS_CERTIFICATES: noCa, NBD_AUTH_IDENTITIES: 'a:read' })).toThrow(
      /^NBD_AUTH_IDENTITIES needs client identities: ca-cert.pem in NBD_TLS_CERTIFICATES=/,
    );
  });

  it.each([
    ['alice:00ff\nbob\n', /: line 2 is not username:hexkey/],
    ['alice:0g\n', /: line 1 is not username:hexkey/],
    ['alice:abc\n', /: line 1 is not username:hexkey \(an even number of hex digits\)/],
    ['alice:00\nalice:01\n', /: line 2 repeats the username "alice"/],
    ['\n\n', / holds no username:hexkey line/],
  ])('refuses the PSK file %j naming the setting and the line, never a key', (text, message) => {
    const file = psk(text);
    let error = '';
    try {
      readNbdSecurity({ NBD_TLS: 'require', NBD_TLS_PSK_FILE: file });
    } catch (err) {
      error = (err as Error).message;
    }
    expect(error).toMatch(new RegExp(`^NBD_TLS_PSK_FILE=${file}`));
    expect(error).toMatch(message);
    expect(error).not.toMatch(/00ff|abc/);
  });
});

describe('NBD_AUTH_IDENTITIES', () => {
  it('maps names (spaces and ":" allowed, the last ":" splits) to roles: read is read-only, write and admin are not', () => {
    const t = NbdIdentityTable.parse('rnull-cluster test client:write, ops:team:admin ,viewer:read');
    expect(t.size).toBe(3);
    expect(t.policy({ kind: 'certificate', name: 'rnull-cluster test client' })).toEqual({ readOnly: false });
    expect(t.policy({ kind: 'psk', name: 'ops:team' })).toEqual({ readOnly: false });
    expect(t.policy({ kind: 'certificate', name: 'viewer' })).toEqual({ readOnly: true });
  });

  it('refuses an identity without a role, and a connection without an identity, saying why', () => {
    const t = NbdIdentityTable.parse('viewer:read');
    expect(t.policy({ kind: 'certificate', name: 'mallory' })).toEqual({
      refused: 'the client certificate CN "mallory" has no role in NBD_AUTH_IDENTITIES',
    });
    expect(t.policy({ kind: 'psk', name: 'eve' })).toEqual({ refused: 'the PSK username "eve" has no role in NBD_AUTH_IDENTITIES' });
    expect(t.policy(undefined)).toMatchObject({ refused: expect.stringMatching(/present a client certificate or PSK/) });
  });

  it.each([
    ['alice', /^NBD_AUTH_IDENTITIES: entry 1 is not name:role/],
    ['alice:read,', /^NBD_AUTH_IDENTITIES: entry 2 is empty/],
    [':read', /^NBD_AUTH_IDENTITIES: entry 1 is not name:role/],
    ['alice:root', /^NBD_AUTH_IDENTITIES: entry 1: the role must be one of read, write, admin, got "root"$/],
    ['alice:read,alice:write', /^NBD_AUTH_IDENTITIES: entry 2 repeats the identity "alice"$/],
  ])('refuses %j naming the setting and the entry', (text, message) => {
    expect(() => NbdIdentityTable.parse(text)).toThrow(message);
  });
});
