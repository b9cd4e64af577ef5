// Where the running clusters of an e2e test file register their output lines, so the e2e
// jest environment (e2e-environment.ts) can print them when a test fails.

/** The key of the test's global that holds the registry (a Map of key prefix → lines). */
export const SERVICE_LINES_KEY = '__e2eServiceLines';
