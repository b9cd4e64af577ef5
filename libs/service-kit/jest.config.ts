// jest project of cluster: unit tests, and integration tests against the real Redis.
export default {
  displayName: 'cluster',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
