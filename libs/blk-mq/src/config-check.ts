// Mirrors the `-EINVAL` checks of blk_mq_alloc_tag_set(), blk_validate_limits() and the
// Rust `GenDiskBuilder` setters: one error type that names the field it refuses.

/** Max bytes of a disk name, without the NUL of the kernel's `DISK_NAME_LEN` (32). */
export const DISK_NAME_MAX_BYTES = 31;

/** A configuration value was refused; `field` names it as `Owner.field`. */
export class ConfigError extends RangeError {
  override readonly name = 'ConfigError';

  constructor(
    readonly field: string,
    readonly reason: string,
    readonly value: unknown,
  ) {
    super(`${field}: ${reason}, got ${describe(value)}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

/** An integer in `min..max` (both inclusive). */
export function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(field, `must be an integer in ${min}..${max}`, v);
  }
  return v;
}

/** A power of two in `min..max`. */
export function checkPowerOfTwo(field: string, v: unknown, min: number, max: number): number {
  const n = checkInt(field, v, min, max);
  if ((n & (n - 1)) !== 0) throw new ConfigError(field, `must be a power of two in ${min}..${max}`, v);
  return n;
}

export function checkBool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be a boolean', v);
  return v;
}

/** One of `allowed`. */
export function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  }
  return v as T;
}

/** The characters of a disk name: letters, digits, '.', '-', '_', starting with a letter or digit. */
export const DISK_NAME_CHARSET = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A disk name: 1..31 UTF-8 bytes of {@link DISK_NAME_CHARSET}. The one rule for disk
 * names: it keeps out `/` (it separates token fields), `{` and `}` (Redis hash tags),
 * whitespace, control characters and names that start like an option or a dotfile.
 */
export function checkDiskName(field: string, v: unknown): string {
  if (v === undefined || v === null || v === '') throw new ConfigError(field, 'is required', v);
  if (typeof v !== 'string') throw new ConfigError(field, 'must be a string', v);
  const bytes = new TextEncoder().encode(v).length;
  if (bytes > DISK_NAME_MAX_BYTES) {
    throw new ConfigError(field, `is ${bytes} bytes; at most ${DISK_NAME_MAX_BYTES} (DISK_NAME_LEN)`, v);
  }
  if (!DISK_NAME_CHARSET.test(v)) {
    const bad = /^[._-]/.test(v)
      ? `starts with ${JSON.stringify(v[0])}`
      : `has ${JSON.stringify([...v].find((c) => !/[A-Za-z0-9._-]/.test(c)))}`;
    throw new ConfigError(field, `${bad}; use letters, digits, '.', '-', '_', starting with a letter or digit`, v);
  }
  return v;
}
