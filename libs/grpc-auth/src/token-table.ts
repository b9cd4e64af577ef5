// The bearer tokens a gRPC server accepts and the role of each: `RNULL_AUTH_TOKENS`
// (`token:role,token:role`) or the file `RNULL_AUTH_TOKENS_FILE` (one `token:role` a line;
// blank lines and `#` comments skipped).
//
// Contract:
//   - A malformed list throws an Error that names the setting and the entry's number,
//     never the token (nor any part of the file's text).
//   - `roleOf` takes the same time whatever the presented token and whichever entry it
//     matches: every entry is compared, each as a SHA-256 digest with timingSafeEqual, so
//     neither the length nor a prefix of a token leaks through timing.
//   - A table prints as its size and roles only (`toJSON`, util.inspect): no token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { isRole, ROLES, type Role } from './role';

/** Characters a token may hold: visible ASCII but `,` and `:` (the list's separators). */
const TOKEN_PATTERN = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]+$/;

interface Entry {
  readonly digest: Buffer;
  readonly role: Role;
}

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export class TokenTable {
  private constructor(private readonly entries: readonly Entry[]) {}

  /**
   * Parses a token list. `text` is the variable's value (entries split by `,`) or a file's
   * contents (`fromFile`: entries split by lines, `#` comments). `setting` names where it
   * came from in errors, e.g. `RNULL_AUTH_TOKENS_FILE=/run/secrets/tokens`.
   */
  static parse(text: string, setting: string, fromFile = false): TokenTable {
    const raw = fromFile
      ? text.split(/\r?\n/).map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      : text.split(',').map((entry) => entry.trim());
    const entries: Entry[] = [];
    raw.forEach((entry, i) => {
      const where = `${setting}: ${fromFile ? 'line' : 'entry'} ${i + 1}`;
      if (entry === '') {
        if (fromFile) return;
        throw new Error(`${where} is empty (the list is token:role[,token:role…])`);
      }
      const colon = entry.lastIndexOf(':');
      const token = colon < 0 ? '' : entry.slice(0, colon);
      const role = colon < 0 ? '' : entry.slice(colon + 1).trim();
      if (colon < 0 || token === '') throw new Error(`${where} is not token:role`);
      if (!TOKEN_PATTERN.test(token)) throw new Error(`${where}: a token is visible ASCII without ',', ':' or spaces`);
      if (!isRole(role)) throw new Error(`${where}: the role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      const digest = digestOf(token);
      if (entries.some((e) => e.digest.equals(digest))) throw new Error(`${where} repeats the token of an earlier entry`);
      entries.push({ digest, role });
    });
    if (entries.length === 0) throw new Error(`${setting} holds no token:role entry`);
    return new TokenTable(entries);
  }

  /** How many tokens the table holds. */
  get size(): number {
    return this.entries.length;
  }

  /** The role of `presented`, or undefined when no entry holds it (constant time, see above). */
  roleOf(presented: string): Role | undefined {
    const digest = digestOf(presented);
    let found: Role | undefined;
    for (const e of this.entries) {
      // No early exit: every entry costs the same compare.
      if (timingSafeEqual(e.digest, digest) && found === undefined) found = e.role;
    }
    return found;
  }

  toJSON(): { tokens: number; roles: Role[] } {
    return { tokens: this.entries.length, roles: this.entries.map((e) => e.role) };
  }

  [inspect.custom](): string {
    return `TokenTable(${this.entries.length} tokens)`;
  }
}
