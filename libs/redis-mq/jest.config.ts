// jest project of redis-mq: unit tests, and integration tests against the real Redis.
export default {
  displayName: 'redis-mq',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
