// The supervisor's restart policy for `npm start` (like compose's `restart: unless-stopped`):
// a service that exits on its own is started again after a delay that doubles with each
// quick failure, capped, and starts from the bottom again after a stable run.

/** First restart delay, ms. */
export const RESTART_FIRST_MS = 250;
/** Longest restart delay, ms. */
export const RESTART_MAX_MS = 10_000;
/** A run at least this long counts as stable: the next failure restarts after the first delay, ms. */
export const RESTART_STABLE_MS = 30_000;

/**
 * The delay before the next start of a service that ran `ranMs` and had failed
 * `quickFailures` times in a row before this run; and the new count of quick failures.
 */
export function restartDelay(quickFailures: number, ranMs: number): { delayMs: number; quickFailures: number } {
  const n = ranMs >= RESTART_STABLE_MS ? 0 : quickFailures;
  return { delayMs: Math.min(RESTART_FIRST_MS * 2 ** n, RESTART_MAX_MS), quickFailures: n + 1 };
}
