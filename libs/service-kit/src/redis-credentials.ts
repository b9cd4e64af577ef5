// Who a service is to Redis (README "Security", DESIGN I20): an ACL user (`REDIS_USERNAME`)
// and its password, read from a file (`REDIS_PASSWORD_FILE`, a docker secret in compose),
// never from the environment itself. The password never reaches a log line or an error
// message: `redactRedisUrl` is how any Redis URL is shown, and an authentication refusal
// names the settings, not their value.
import * as fs from 'node:fs';

export interface RedisCredentials {
  /** `REDIS_USERNAME`: the ACL user; undefined authenticates as Redis's `default` user (requirepass). */
  readonly username?: string;
  /** The first line of `REDIS_PASSWORD_FILE`. */
  readonly password: string;
  /** Where the password came from, for messages: the file's path, never its content. */
  readonly passwordFile: string;
}

/** The variables `readRedisCredentials` reads. */
export const REDIS_CREDENTIAL_VARIABLES = ['REDIS_USERNAME', 'REDIS_PASSWORD_FILE'] as const;

/**
 * `REDIS_USERNAME` and `REDIS_PASSWORD_FILE`, checked; undefined when neither is set (a
 * password may still be in REDIS_URL). The file holds the password on its first line (a
 * trailing newline is dropped); a missing, unreadable or empty file, a second non-empty
 * line, or a username without a password file throws naming the variable and not the content.
 */
export function readRedisCredentials(env: NodeJS.ProcessEnv): RedisCredentials | undefined {
  const username = env.REDIS_USERNAME || undefined;
  const passwordFile = env.REDIS_PASSWORD_FILE || undefined;
  if (username !== undefined && !/^[^\s<>"'\\]{1,128}$/.test(username)) {
    throw new Error(`REDIS_USERNAME must be a Redis ACL user name (no spaces, at most 128 characters), got ${JSON.stringify(username)}`);
  }
  if (!passwordFile) {
    if (username) throw new Error(`REDIS_USERNAME=${username} needs REDIS_PASSWORD_FILE: the file that holds that user's password`);
    return undefined;
  }
  let text: string;
  try {
    text = fs.readFileSync(passwordFile, 'utf8');
  } catch (err) {
    throw new Error(`REDIS_PASSWORD_FILE=${passwordFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const password = lines[0];
  if (!password) throw new Error(`REDIS_PASSWORD_FILE=${passwordFile} is empty: it must hold the password on its first line`);
  if (lines.slice(1).some((l) => l.trim() !== '')) {
    throw new Error(`REDIS_PASSWORD_FILE=${passwordFile} must hold the password alone on one line (it has more lines)`);
  }
  return { username, password, passwordFile };
}

/**
 * `url` as it may be shown: a password in its user part replaced by `***`
 * (`redis://user:***@host:6379`). Every log line and message that shows REDIS_URL goes
 * through this.
 */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_, scheme: string, user: string) => {
    const colon = user.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${user.slice(0, colon)}:***`}@`;
  });
}

/** True when Redis refused who we are: a wrong or missing password, a disabled or unknown user. */
export function isRedisAuthError(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return (
    /^(WRONGPASS|NOAUTH)\b/.test(msg) ||
    /^NOPERM .*\b(hello|auth)\b/i.test(msg) ||
    /AUTH.*called without any password configured/i.test(msg)
  );
}

/** What a message about an authentication refusal names: the settings, never their values. */
export function redisCredentialSettings(credentials: RedisCredentials | undefined, redisUrl?: string): string {
  if (credentials) {
    const user = credentials.username ? `REDIS_USERNAME=${credentials.username} and ` : 'REDIS_USERNAME (unset: the default user) and ';
    return `${user}REDIS_PASSWORD_FILE=${credentials.passwordFile}`;
  }
  if (redisUrl && redactRedisUrl(redisUrl) !== redisUrl) return `the user and password in REDIS_URL=${redactRedisUrl(redisUrl)}`;
  return 'REDIS_PASSWORD_FILE (unset: no password was given; set it, and REDIS_USERNAME for an ACL user)';
}
