// The command-line grammar of rnullctl: long options only, spec-driven, no dependencies.
//
// Contract:
//   - `--name value` and `--name=value`; `-h` is `--help`; `--` ends options.
//   - Option names are matched with dashes and underscores treated alike, so null_blk's
//     attribute names work as written (`--hw_queue_depth`) and in dashed form
//     (`--hw-queue-depth`). Parsed values are keyed by the spec's name.
//   - A value option takes the next token whatever it looks like, so `--file -` and
//     `--sector -1` reach the command (which then validates the value).
//   - A flag option takes no value; `--flag=x` is an error.
//   - Unknown options, missing values and too many or too few positionals raise
//     `UsageError`, whose message names the offending token.
//   - Repeating an option keeps the last value.

/** A bad command line; the message names the problem. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  /** `flag` takes no value; `value` takes exactly one. */
  readonly kind: 'flag' | 'value';
  /** Shown in --help. */
  readonly help: string;
  /** Placeholder for the value in --help, e.g. `N` or `0|1`. */
  readonly valueName?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Value options by spec name. */
  readonly values: ReadonlyMap<string, string>;
  /** Flags by spec name. */
  readonly flags: ReadonlySet<string>;
}

export interface PositionalLimits {
  readonly min: number;
  readonly max: number;
}

/** `hw-queue-depth`, `hw_queue_depth` → `hw_queue_depth`. */
export function normalizeOptionName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Parses `argv` (without the command words) against `specs`. */
export function parseArgs(argv: readonly string[], specs: OptionSpecs, positional: PositionalLimits = { min: 0, max: 0 }): ParsedArgs {
  const byName = new Map<string, string>();
  for (const name of Object.keys(specs)) byName.set(normalizeOptionName(name), name);

  const positionals: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  let optionsEnded = false;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    // A dash then a digit is a value, not an option: `disk badblocks d0 -8-15` clears sectors 8..15.
    if (optionsEnded || !token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    if (token === '--') {
      optionsEnded = true;
      continue;
    }
    const long = token === '-h' ? '--help' : token;
    if (!long.startsWith('--')) throw new UsageError(`unknown option ${token} (options are long: --name)`);

    const eq = long.indexOf('=');
    const rawName = eq < 0 ? long.slice(2) : long.slice(2, eq);
    const name = byName.get(normalizeOptionName(rawName));
    if (name === undefined) throw new UsageError(`unknown option --${rawName}`);
    const spec = specs[name];

    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`option --${rawName} takes no value`);
      flags.add(name);
      continue;
    }
    if (eq >= 0) {
      values.set(name, long.slice(eq + 1));
      continue;
    }
    if (i + 1 >= argv.length) throw new UsageError(`option --${rawName} needs a value`);
    values.set(name, argv[++i]);
  }

  if (!flags.has('help')) {
    if (positionals.length < positional.min)
      throw new UsageError(`expected at least ${positional.min} argument(s), got ${positionals.length}`);
    if (positionals.length > positional.max) {
      throw new UsageError(`unexpected argument '${positionals[positional.max]}'`);
    }
  }
  return { positionals, values, flags };
}

/** Binary size suffixes accepted by `parseByteCount`: 4k = 4096. */
const SUFFIX_SHIFT: Readonly<Record<string, bigint>> = { '': 0n, k: 10n, m: 20n, g: 30n, t: 40n };

/**
 * A non-negative decimal integer with an optional binary suffix (k, m, g, t, any case,
 * optional trailing `b`/`ib`): `4096`, `4k`, `1MiB`. `what` names the value in errors.
 */
export function parseByteCount(text: string, what: string): bigint {
  const m = /^(\d+)(?:([kmgt])(?:i?b)?)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a non-negative integer (optionally with k, m, g suffix), got '${text}'`);
  return BigInt(m[1]) << SUFFIX_SHIFT[(m[2] ?? '').toLowerCase()];
}

/** A decimal integer in [min, max] as a bigint. */
export function parseBigInt(text: string, what: string, min = 0n, max = 2n ** 64n - 1n): bigint {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${what} must be an integer, got '${text}'`);
  const v = BigInt(text.trim());
  if (v < min || v > max) throw new UsageError(`${what} must be in ${min}..${max}, got ${text}`);
  return v;
}

/** A decimal integer in [min, max] as a number (max defaults to 2^32 - 1). */
export function parseInteger(text: string, what: string, min = 0, max = 0xffff_ffff): number {
  return Number(parseBigInt(text, what, BigInt(min), BigInt(max)));
}

/** `0|1|true|false|on|off|yes|no` → boolean. */
export function parseBoolean(text: string, what: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(t)) return true;
  if (['0', 'false', 'off', 'no'].includes(t)) return false;
  throw new UsageError(`${what} must be 0 or 1, got '${text}'`);
}

/** Renders the options block of --help: one aligned line per option. */
export function formatOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = spec.kind === 'flag' ? `--${name}` : `--${name} ${spec.valueName ?? 'VALUE'}`;
    return [left, spec.help] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join('\n');
}
