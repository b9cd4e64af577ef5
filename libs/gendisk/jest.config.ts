// jest project of gendisk: unit tests.
export default {
  displayName: 'gendisk',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
