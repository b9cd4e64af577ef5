// The root jest config: one run over every project, one summary at the end.
export default {
  projects: [
    '<rootDir>/libs/*/jest.config.ts',
    '<rootDir>/tools/rnullctl/jest.config.ts',
    '<rootDir>/tools/bench/jest.config.ts',
    '<rootDir>/tools/cluster/jest.config.ts',
    '<rootDir>/test/jest.config.ts',
  ],
};
