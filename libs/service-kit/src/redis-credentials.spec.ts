import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRedisAuthError, readRedisCredentials, redactRedisUrl, redisCredentialSettings } from './redis-credentials';
import { readServiceEnv, SERVICE_ENV_VARIABLES } from './service-env';

const SECRET = 'pw-7f3a9c-never-shown';
let dir: string;
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-credentials-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('REDIS_USERNAME and REDIS_PASSWORD_FILE', () => {
  it('are unset by default, and read (first line, newline dropped) when set', () => {
    expect(readRedisCredentials({})).toBeUndefined();
    const p = file('pw', `${SECRET}\n`);
    expect(readRedisCredentials({ REDIS_PASSWORD_FILE: p })).toEqual({ password: SECRET, passwordFile: p, username: undefined });
    expect(readRedisCredentials({ REDIS_USERNAME: 'dispatch', REDIS_PASSWORD_FILE: p })).toEqual({
      username: 'dispatch',
      password: SECRET,
      passwordFile: p,
    });
    expect(readServiceEnv('gendisk', { REDIS_USERNAME: 'gendisk', REDIS_PASSWORD_FILE: p }).redisCredentials?.username).toBe('gendisk');
    expect(SERVICE_ENV_VARIABLES).toEqual(expect.arrayContaining(['REDIS_USERNAME', 'REDIS_PASSWORD_FILE']));
  });

  it.each([
    ['a missing file', () => ({ REDIS_PASSWORD_FILE: path.join(dir, 'nope') }), /^REDIS_PASSWORD_FILE=.*nope cannot be read: ENOENT/],
    ['an empty file', () => ({ REDIS_PASSWORD_FILE: file('empty', '\n') }), /^REDIS_PASSWORD_FILE=.* is empty/],
    ['a second line', () => ({ REDIS_PASSWORD_FILE: file('two', `${SECRET}\nmore\n`) }), /^REDIS_PASSWORD_FILE=.* alone on one line/],
    ['a user without a password file', () => ({ REDIS_USERNAME: 'rnull' }), /^REDIS_USERNAME=rnull needs REDIS_PASSWORD_FILE/],
    ['a user name with a space', () => ({ REDIS_USERNAME: 'a b', REDIS_PASSWORD_FILE: file('pw2', SECRET) }), /^REDIS_USERNAME must be/],
  ])('refuse %s at start, naming the setting and not the secret', (_, env, message) => {
    let err: Error | undefined;
    try {
      readServiceEnv('dispatch', env());
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).not.toContain(SECRET);
  });
});

describe('redactRedisUrl', () => {
  it.each([
    [`redis://:${SECRET}@127.0.0.1:6379`, 'redis://:***@127.0.0.1:6379'],
    [`redis://dispatch:${SECRET}@redis:6379/0`, 'redis://dispatch:***@redis:6379/0'],
    [`rediss://${SECRET}@h:1`, 'rediss://***@h:1'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
  ])('shows %s as %s', (url, shown) => {
    expect(redactRedisUrl(url)).toBe(shown);
    expect(redisCredentialSettings(undefined, url)).not.toContain(SECRET);
  });
});

it('isRedisAuthError: Redis refusing who we are, not a refused command or a lost connection', () => {
  expect(isRedisAuthError(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe(true);
  expect(isRedisAuthError(new Error('NOAUTH Authentication required.'))).toBe(true);
  expect(isRedisAuthError(new Error("NOPERM this user has no permissions to run the 'hello' command"))).toBe(true);
  expect(isRedisAuthError(new Error("NOPERM this user has no permissions to run the 'flushall' command"))).toBe(false);
  expect(isRedisAuthError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(false);
});
