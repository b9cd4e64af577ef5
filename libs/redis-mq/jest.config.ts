// jest project of redis-mq: unit tests, and integration tests against the real Redis.
export default {
  displayName: 'redis-mq',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // These tests talk to the real Redis while end-to-end suites load both cores: a hang
  // guard, not a speed limit (a 560-step random walk once took over jest's default 5 s).
  testTimeout: 30_000,
};
