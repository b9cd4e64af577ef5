import { inspect } from 'node:util';
import { TokenTable } from './token-table';
import { readClientToken, readTokenTable } from './grpc-security-env';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SECRET = 's3cr3t-Token_9';

describe('TokenTable.parse (RNULL_AUTH_TOKENS)', () => {
  it('maps each token to its role; an unknown token has none', () => {
    const t = TokenTable.parse(`${SECRET}:admin, reader-1:read,w:write`, 'RNULL_AUTH_TOKENS');
    expect(t.size).toBe(3);
    expect(t.roleOf(SECRET)).toBe('admin');
    expect(t.roleOf('reader-1')).toBe('read');
    expect(t.roleOf('w')).toBe('write');
    expect(t.roleOf('reader-')).toBeUndefined();
    expect(t.roleOf('')).toBeUndefined();
  });

  it.each([
    ['', /RNULL_AUTH_TOKENS: entry 1 is empty/],
    ['a:read,', /entry 2 is empty/],
    ['nocolon', /entry 1 is not token:role/],
    [':admin', /entry 1 is not token:role/],
    ['tok:root', /entry 1: the role must be one of read, write, admin, got "root"/],
    ['tok:', /the role must be one of/],
    ['to k:read', /entry 1: a token is visible ASCII/],
    ['a:read,a:admin', /entry 2 repeats the token of an earlier entry/],
  ])('refuses %j naming the setting and the entry', (raw, message) => {
    expect(() => TokenTable.parse(raw, 'RNULL_AUTH_TOKENS')).toThrow(message);
  });

  it('never puts a token in an error, in JSON or in util.inspect', () => {
    for (const raw of [`${SECRET}:superuser`, `${SECRET}:read,${SECRET}:read`, `${SECRET}`]) {
      let message = '';
      try {
        TokenTable.parse(raw, 'RNULL_AUTH_TOKENS');
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^RNULL_AUTH_TOKENS/);
      expect(message).not.toContain(SECRET);
    }
    const t = TokenTable.parse(`${SECRET}:admin`, 'RNULL_AUTH_TOKENS');
    expect(JSON.stringify({ t })).not.toContain(SECRET);
    expect(inspect(t)).not.toContain(SECRET);
  });

  it('reads a file: one token:role a line, blank lines and # comments skipped, lines counted', () => {
    const t = TokenTable.parse(`# readers\n\nr1:read   # the dashboard\r\n${SECRET}:admin\n`, 'RNULL_AUTH_TOKENS_FILE=/f', true);
    expect([t.roleOf('r1'), t.roleOf(SECRET), t.size]).toEqual(['read', 'admin', 2]);
    expect(() => TokenTable.parse('ok:read\nbad\n', 'RNULL_AUTH_TOKENS_FILE=/f', true)).toThrow(
      /^RNULL_AUTH_TOKENS_FILE=\/f: line 2 is not token:role/,
    );
    expect(() => TokenTable.parse('# nothing\n\n', 'RNULL_AUTH_TOKENS_FILE=/f', true)).toThrow(
      /RNULL_AUTH_TOKENS_FILE=\/f holds no token:role entry/,
    );
  });
});

describe('the environment', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-auth-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('RNULL_AUTH_TOKENS or RNULL_AUTH_TOKENS_FILE; neither is no check; both is an error', () => {
    const file = path.join(dir, 'tokens');
    fs.writeFileSync(file, `${SECRET}:write\n`);
    expect(readTokenTable({})).toBeUndefined();
    expect(readTokenTable({ RNULL_AUTH_TOKENS: '' })).toBeUndefined();
    expect(readTokenTable({ RNULL_AUTH_TOKENS_FILE: file })?.roleOf(SECRET)).toBe('write');
    expect(() => readTokenTable({ RNULL_AUTH_TOKENS: 'a:read', RNULL_AUTH_TOKENS_FILE: file })).toThrow(/both set/);
    expect(() => readTokenTable({ RNULL_AUTH_TOKENS_FILE: path.join(dir, 'absent') })).toThrow(
      /^RNULL_AUTH_TOKENS_FILE=.*absent: no such file/,
    );
  });

  it('RNULL_TOKEN or RNULL_TOKEN_FILE (trimmed), one visible-ASCII token', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, `${SECRET}\n`);
    expect(readClientToken({})).toBeUndefined();
    expect(readClientToken({ RNULL_TOKEN: SECRET })).toBe(SECRET);
    expect(readClientToken({ RNULL_TOKEN_FILE: file })).toBe(SECRET);
    fs.writeFileSync(file, 'two tokens\n');
    expect(() => readClientToken({ RNULL_TOKEN_FILE: file })).toThrow(
      /^RNULL_TOKEN_FILE=.*: must hold one token|^RNULL_TOKEN_FILE=.* must hold one token/,
    );
    expect(() => readClientToken({ RNULL_TOKEN: 'a', RNULL_TOKEN_FILE: file })).toThrow(/both set/);
  });
});
