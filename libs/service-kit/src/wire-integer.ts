// The 64-bit integer fields of the wire (`uint64` sector, size, completion_nsec, as the
// generated code hands them over: bigint, decimal string or number) as JS numbers: the one
// rule for what such a field may hold, and the one message that says its limit.
import { InvalidArgumentError } from './cluster-errors';

/** The largest value a 64-bit wire field may hold here: 2^53 - 1, the largest exact JS number. */
export const MAX_WIRE_INTEGER = Number.MAX_SAFE_INTEGER;

/** The limit as a message says it. */
const LIMIT_TEXT = `2^53 - 1 (${MAX_WIRE_INTEGER})`;

/**
 * `v` as a number in `min`..2^53 - 1, or INVALID_ARGUMENT naming `field`: a whole number
 * past the limit is told the limit ("is over the largest value taken, 2^53 - 1 (…)"), not
 * that it is not a whole number. The services keep sectors and sizes as JS numbers, exact
 * only up to 2^53 - 1 (a disk of 4 EiB, far past any size the attribute table allows).
 */
export function wireInteger(field: string, v: bigint | string | number | undefined | null, min = 0): number {
  const text = String(v ?? 0);
  const n = typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
  if (Number.isSafeInteger(n) && n >= min) return n;
  if (/^\s*\d+\s*$/.test(text) && BigInt(text.trim()) > BigInt(MAX_WIRE_INTEGER)) {
    throw new InvalidArgumentError(field, `${text.trim()} is over the largest value taken, ${LIMIT_TEXT}`);
  }
  throw new InvalidArgumentError(field, `must be a whole number from ${min} to ${LIMIT_TEXT}, got ${text}`);
}
