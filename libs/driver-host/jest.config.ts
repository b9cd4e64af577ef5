// jest project of driver-host: unit tests, and integration tests against the real Redis.
export default {
  displayName: 'driver-host',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
