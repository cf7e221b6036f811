// Lint runs in CI with type information: floating promises and import cycles are errors,
// because both hide bugs that tests rarely catch (lost rejections, half-initialised modules).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// Adapters: the modules that talk to a database, a queue, a bucket, Redis or memory behind a port.
const ADAPTERS = [
  './src/{store,queue,blobs,events,search}/{sqlite,postgres,bullmq,s3,fs,redis,memory,sql}-*',
  // The analysis store (LLM response cache, usage ledger) and the Redis-shared rate window.
  './src/analyzers/{store,llm}/{sqlite,postgres,redis,memory,sql}-*',
];
// Database connections.
const SQL = './src/sql/**';
const SERVER_AND_CLI = ['./src/server/**', './src/cli/**'];

// Layers (see README, "Architecture"): the HTTP service and the CLI go through the Ream facade
// only; the client speaks HTTP and shares nothing with the server but the wire types
// (src/api-types.ts); ports and the engine never know which adapter is behind them.
const LAYERS = [
  {
    target: SERVER_AND_CLI,
    from: './src/runtime',
    except: [
      './create-ream.ts', // createReam and every facade type (re-exported from ream.ts)
      './ream.ts',
      './submit-job.ts',
      './job-fields.ts', // the one parser of a job's fields
      './api-keys.ts', // `ream keys` opens only the key store
      './tenant-admin.ts', // `ream tenants` opens only the store
      './migrate.ts', // `ream migrate`
      './deployment.ts', // distributed settings from flags and environment
      './shared-clients.ts', // the deployment's Redis and bucket, for tus uploads
    ],
    message: 'server/ and cli/ use a ream through its facade (src/runtime/ream.ts): add what you need there rather than reach into the runtime.',
  },
  {
    target: SERVER_AND_CLI,
    from: [SQL, ...ADAPTERS],
    message: 'server/ and cli/ never open adapters themselves: the runtime wires them (add a runtime function).',
  },
  {
    target: './src/client/**',
    from: ['./src/server', './src/runtime'],
    message: 'the client speaks HTTP only: shared wire types go in src/api-types.ts.',
  },
  {
    target: ['./src/*/port.ts', './src/runtime/engine.ts'],
    from: [SQL, ...ADAPTERS],
    message: 'ports and the engine never import an adapter: createReam wires them in.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'ui/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    // import-x reads the imports of files with these extensions only, found by this resolver: by
    // default `.js` alone, so import-x/no-cycle followed no `.ts` import and reported no cycle.
    // Relative imports here name their file's own extension.
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs', '.cjs'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.node'] })],
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A cycle runs through this project's files only (no package imports them back): reading
      // the packages' own import graphs too took about a quarter of this rule's time for nothing.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: LAYERS }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
  {
    // import-x's resolver cannot load vite's package entry (it crashes on it); the build config
    // imports nothing of the project, so there is no cycle or layer to check there.
    files: ['ui/vite.config.ts'],
    rules: { 'import-x/no-cycle': 'off', 'import-x/no-restricted-paths': 'off' },
  },
);
