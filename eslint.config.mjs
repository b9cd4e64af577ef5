// ESLint 9 flat config: typescript-eslint's recommended rules (type-unaware, so no
// tsconfig program is built and `npm run lint` stays fast) and Nx's module-boundary rule,
// which makes the import graph follow the layering:
//
//   blk-mq  <-  nbd, redis-mq, rnull  <-  the cluster libs  <-  services
//   proto   <-  grpc-auth, the cluster libs, services, tools, tests
//   grpc-auth  <-  the cluster libs, services, tools, tests (rnullctl: no Nest, no Redis)
//   tools and tests may use any lib and each other, never a service.
//
// The cluster libs, one per role (DESIGN §7):
//
//   service-kit  <-  gendisk  <-  dispatch      (+ nbd: its NBD front end)
//                             <-  driver-host
//
// service-kit (env, Redis, errors, health, metrics, clocks) uses no other role; gendisk
// (the disk registry, and ServiceCoreModule, which provides its directory) only the kit;
// dispatch and the driver host never import each other: they meet in Redis only.
// libs/hot-path (test only) runs both in one process, so it sits above them.
//
// A project's layer and role are the `tags` of its project.json. Imports between projects
// go through the package.json "imports" aliases (#blk-mq, #dispatch, ...), which Nx
// resolves into the project graph (`npx nx graph --file=/tmp/g.json` shows the edges).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const layers = {
  core: 'layer:core',
  redis: 'layer:redis',
  driver: 'layer:driver',
  cluster: 'layer:cluster',
  service: 'layer:service',
  tool: 'layer:tool',
  test: 'layer:test',
};

// The roles within layer:cluster, one lib each.
const roles = {
  serviceKit: 'scope:service-kit',
  gendisk: 'scope:gendisk',
  dispatch: 'scope:dispatch',
  driverHost: 'scope:driver-host',
};

const depConstraints = [
  // blk-mq is the bottom: it depends on nothing of ours.
  { sourceTag: 'scope:blk-mq', onlyDependOnLibsWithTags: [] },
  // proto (generated gRPC code + its helpers) depends on nothing of ours either.
  { sourceTag: 'scope:proto', onlyDependOnLibsWithTags: [] },
  // grpc-auth (TLS credentials, bearer tokens, the RPC role table) names blk.v1's methods.
  { sourceTag: 'scope:grpc-auth', onlyDependOnLibsWithTags: ['scope:proto'] },
  // nbd (the wire protocol) may use blk-mq's types.
  { sourceTag: 'scope:nbd', onlyDependOnLibsWithTags: ['scope:blk-mq'] },
  { sourceTag: layers.core, onlyDependOnLibsWithTags: [layers.core] },
  // redis-mq and the rnull driver sit on blk-mq alone (rnull: not redis-mq, not cluster).
  { sourceTag: layers.redis, onlyDependOnLibsWithTags: ['scope:blk-mq'] },
  { sourceTag: layers.driver, onlyDependOnLibsWithTags: ['scope:blk-mq'] },
  // The cluster libs wire the libs below them together; within the layer, by role:
  { sourceTag: layers.cluster, onlyDependOnLibsWithTags: [layers.core, layers.redis, layers.driver, layers.cluster] },
  // service kit: the bottom of the cluster layer (no other role, no NBD).
  {
    sourceTag: roles.serviceKit,
    onlyDependOnLibsWithTags: ['scope:blk-mq', 'scope:proto', 'scope:grpc-auth', layers.redis, layers.driver],
  },
  // gendisk: the registry and its directory, on the kit.
  {
    sourceTag: roles.gendisk,
    onlyDependOnLibsWithTags: [roles.serviceKit, 'scope:blk-mq', 'scope:proto', 'scope:grpc-auth', layers.redis, layers.driver],
  },
  // dispatch (the block layer, the submit stream, the NBD front end): never the driver host.
  {
    sourceTag: roles.dispatch,
    onlyDependOnLibsWithTags: [
      roles.serviceKit,
      roles.gendisk,
      'scope:blk-mq',
      'scope:proto',
      'scope:grpc-auth',
      'scope:nbd',
      layers.redis,
      layers.driver,
    ],
  },
  // driver host (hosted drivers, hctx and completion workers): never dispatch, no gRPC.
  {
    sourceTag: roles.driverHost,
    onlyDependOnLibsWithTags: [roles.serviceKit, roles.gendisk, 'scope:blk-mq', layers.redis, layers.driver],
  },
  // services: any cluster lib and everything below it; never another service.
  {
    sourceTag: layers.service,
    onlyDependOnLibsWithTags: [layers.core, layers.redis, layers.driver, layers.cluster],
  },
  // tools and tests (libs/hot-path among them): anything but services (services are run as
  // processes, not imported).
  {
    sourceTag: layers.tool,
    onlyDependOnLibsWithTags: [layers.core, layers.redis, layers.driver, layers.cluster, layers.tool],
  },
  {
    sourceTag: layers.test,
    onlyDependOnLibsWithTags: [layers.core, layers.redis, layers.driver, layers.cluster, layers.tool, layers.test],
  },
];

// Relative imports that reach into another project. The rule forbids those outright, so
// each one kept is listed here (a regex over the import string); their direction is still
// the layering's (a lib's spec uses a lower lib's test helper; bench uses rnullctl and the
// cluster launcher in tools/cluster; the e2e fixture uses that launcher).
// An allowed import skips every check of the rule, tags included: keep the patterns narrow.
// TODO: give these helpers "imports" aliases (#blk-mq/testing, ...) and drop this list.
const allowedRelativeImports = [
  // test helpers under a lib's src/testing/ (used by higher libs' specs and by test/)
  '^(\\.\\./)+(libs/)?(blk-mq|redis-mq|nbd)/src/testing/[a-z-]+$',
  // bench and tools/cluster (perf-probe) -> rnullctl's modules
  '^(\\.\\./)+rnullctl/src/[a-z-]+$',
  // bench and test/ -> the cluster launcher, its service processes, Redis Cluster and redis-server options (tools/cluster)
  '^(\\.\\./)+(tools/)?cluster/(cluster|private-redis|redis-cluster|redis-server-options|service-process)$',
];

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      '.nx/**',
      'node_modules/**',
      // generated by `npm run proto`
      'libs/proto/src/grpc/**',
      'libs/proto/src/nest/**',
      'docs/**',
      'deploy/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  {
    rules: {
      // `_name` marks a deliberately unused binding (`using _held = ref`, `{ x: _ignored, ...rest }`)
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `const self = this` where a callback gets its own `this` (prom-client's collect())
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  {
    // the few plain-JS files are CommonJS scripts run by node and jest
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', '**/testing/**/*.ts', '**/jest.config.ts'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // a lib's own spec may import it by its alias, as a user would (recipe.spec.ts)
          allowCircularSelfDependency: true,
          allow: allowedRelativeImports,
          depConstraints,
        },
      ],
    },
  },
  // last: turn off the stylistic rules that Prettier owns
  prettier,
);
