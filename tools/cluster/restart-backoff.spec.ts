import { RESTART_FIRST_MS, RESTART_MAX_MS, RESTART_STABLE_MS, restartDelay } from './restart-backoff';

describe('restartDelay', () => {
  it('doubles with each quick failure and stops at the cap', () => {
    let quick = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = restartDelay(quick, 100);
      delays.push(next.delayMs);
      quick = next.quickFailures;
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, RESTART_MAX_MS, RESTART_MAX_MS]);
  });
  it('starts from the first delay again after a stable run', () => {
    expect(restartDelay(6, RESTART_STABLE_MS)).toEqual({ delayMs: RESTART_FIRST_MS, quickFailures: 1 });
    expect(restartDelay(6, RESTART_STABLE_MS - 1).delayMs).toBe(RESTART_MAX_MS);
  });
});
