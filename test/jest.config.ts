export default {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/support/e2e-setup.ts'],
  // Prints the running clusters' newest service lines when a test fails.
  testEnvironment: '<rootDir>/support/e2e-environment.ts',
};
