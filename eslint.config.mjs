import nx from '@nx/eslint-plugin';

/**
 * Module boundaries (CONVENTIONS.md): app → anything; adapter → port,
 * contracts, util; port → contracts, util; contracts → util; util → util;
 * testing only from specs and e2e. Two additions: `type:kit` (service-kit)
 * composes adapters into a service runtime, so it may use adapters and only
 * apps may use it; util may use contracts (for its error types).
 */
const depConstraints = (testingAllowed) => [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'type:kit', onlyDependOnLibsWithTags: ['type:adapter', 'type:port', 'type:contracts', 'type:util', ...(testingAllowed ? ['type:testing'] : [])] },
  { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:port', 'type:contracts', 'type:util', ...(testingAllowed ? ['type:testing'] : [])] },
  { sourceTag: 'type:port', onlyDependOnLibsWithTags: ['type:port', 'type:contracts', 'type:util', ...(testingAllowed ? ['type:testing'] : [])] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  // util may also use contracts: its errors (ValidationError with field details) are the shared vocabulary.
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts', ...(testingAllowed ? ['type:testing'] : [])] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['*'] },
];

const specFiles = ['**/*.spec.ts', '**/*.fixture.ts', '**/contract/**/*.ts', 'e2e/**/*.ts', 'tools/bench/**/*.ts'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.nx', '**/*.js', '**/*.mjs', '.mlp'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(false) }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Nx counts spec imports in the project graph, so a tag rule would flag every
      // dependant of a library whose specs use @mlp/testing: restrict the import itself.
      'no-restricted-imports': ['error', { paths: [{ name: '@mlp/testing', message: 'test helpers are for specs, contract suites, e2e and benches only' }] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: specFiles,
    rules: {
      // Specs may compose services in one process (e.g. ingestion feeding the feature store).
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: ['@mlp/service-*'], depConstraints: depConstraints(true) }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Composition roots that run service code in-process: the embedded launcher and the benches.
    files: ['tools/cli/src/embedded.ts', 'tools/bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: ['@mlp/service-*'], depConstraints: depConstraints(true) }],
    },
  },
];
