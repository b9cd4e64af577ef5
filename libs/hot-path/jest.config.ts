// jest project of hot-path: the cluster's hot path in one process, against the real Redis.
export default {
  displayName: 'hot-path',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
