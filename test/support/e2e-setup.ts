// End-to-end tests start real processes: give each test two minutes (testTimeout is a
// global option in jest 30, so a project sets it here).
jest.setTimeout(120_000);
