// The end-to-end tests' jest environment: node's, plus, when a test or hook fails, the
// newest output lines of every cluster the test file still has running (the services'
// logs), so a failure in CI says what the services saw without E2E_VERBOSE.
import NodeEnvironment from 'jest-environment-node';
import type { Circus } from '@jest/types';
import { SERVICE_LINES_KEY } from './service-lines';

/** How many of each running cluster's newest warnings, errors and unstructured lines a failure prints. */
const NOTABLE_LINES = 40;
/** And how many of its newest lines of any kind after them. */
const TAIL_LINES = 20;

/** Pino lines at warn or worse, and anything that is not a pino line (a crash's stack, a service's stderr). */
const NOTABLE = /"level":"(warn|error|fatal)"|^\[[\w-]+\] (?!\{)/;

export default class E2eEnvironment extends NodeEnvironment {
  async handleTestEvent(event: Circus.Event): Promise<void> {
    if (event.name !== 'test_fn_failure' && event.name !== 'hook_failure') return;
    const running = (this.global as Record<string, unknown>)[SERVICE_LINES_KEY] as Map<string, () => string[]> | undefined;
    if (!running?.size) return;
    const what = event.name === 'test_fn_failure' ? `test "${event.test.name}"` : `hook ${event.hook.type}`;
    for (const [prefix, lines] of running) {
      const all = lines();
      const tail = all.slice(-TAIL_LINES);
      const notable = all
        .slice(0, all.length - tail.length)
        .filter((l) => NOTABLE.test(l))
        .slice(-NOTABLE_LINES);
      process.stderr.write(
        `\n--- ${what} failed; cluster ${prefix.replace(/:$/, '')}: its newest warnings and errors, then its newest ${tail.length} lines ---\n` +
          `${[...notable, '...', ...tail].join('\n')}\n--- end ---\n`,
      );
    }
  }
}
