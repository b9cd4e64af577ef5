// jest project of dispatch: unit tests.
export default {
  displayName: 'dispatch',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
