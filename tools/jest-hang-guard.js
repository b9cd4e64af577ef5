/* global jest */
// A hang guard for every unit and Redis test, not a speed limit: tests that talk to the
// real Redis or to sockets may wait on a loaded 2-core machine far longer than jest's 5 s
// default. `testTimeout` is a global option in jest 30 (a project's own is ignored), so
// each test file sets it here (setupFilesAfterEnv of jest.preset.js); e2e sets its own.
jest.setTimeout(30_000);
