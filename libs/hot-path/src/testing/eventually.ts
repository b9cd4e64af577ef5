// Polling for the hot-path specs: what a harness run settles asynchronously (budgets given
// back, queues reopened) is waited for, never slept for.

/** Polls `check` every 20 ms until it returns true or `ms` passed; returns the last answer. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
