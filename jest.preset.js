// Shared jest settings for every project: ts-jest over the workspace tsconfig, and the
// package.json "imports" aliases (#blk-mq, #proto/*) mapped to their TypeScript sources.
const path = require('node:path');
const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(root, 'tsconfig.jest.json'), diagnostics: { ignoreCodes: [151002] } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^#blk-mq$': path.join(root, 'libs/blk-mq/src/index.ts'),
    '^#redis-mq$': path.join(root, 'libs/redis-mq/src/index.ts'),
    '^#rnull$': path.join(root, 'libs/rnull/src/index.ts'),
    '^#grpc-auth$': path.join(root, 'libs/grpc-auth/src/index.ts'),
    '^#service-kit$': path.join(root, 'libs/service-kit/src/index.ts'),
    '^#gendisk$': path.join(root, 'libs/gendisk/src/index.ts'),
    '^#dispatch$': path.join(root, 'libs/dispatch/src/index.ts'),
    '^#driver-host$': path.join(root, 'libs/driver-host/src/index.ts'),
    '^#nbd$': path.join(root, 'libs/nbd/src/index.ts'),
    '^#proto$': path.join(root, 'libs/proto/src/index.ts'),
    '^#proto/(.*)$': path.join(root, 'libs/proto/src/$1'),
  },
  setupFiles: [path.join(root, 'tools/jest-setup.js')],
  setupFilesAfterEnv: [path.join(root, 'tools/jest-hang-guard.js')],
};
