export default {
  displayName: 'nbd',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  // Real loopback sockets, some moving hundreds of MiB, while end-to-end suites load both
  // cores: a hang guard, not a speed limit.
  testTimeout: 30_000,
};
