// jest project of service-kit: unit tests.
export default {
  displayName: 'service-kit',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
