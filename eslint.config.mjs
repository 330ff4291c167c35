// One lint setup for the whole workspace. Formatting belongs to Prettier
// (eslint-config-prettier switches off the stylistic rules); this file keeps
// correctness rules and the architecture's module boundaries.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Who may import whom. Services compose libs; libs never import services;
 * emulators stand alone and only tests (and the demo tooling) may use them —
 * production code must never depend on a stand-in for a real service.
 */
const productionConstraints = [
  { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:core', 'type:lib'] },
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:core', 'type:lib'] },
  { sourceTag: 'type:emulator', onlyDependOnLibsWithTags: ['type:emulator'] },
  {
    sourceTag: 'type:test-support',
    onlyDependOnLibsWithTags: ['type:core', 'type:lib', 'type:emulator', 'type:test-support'],
  },
];

/** Tests may additionally use the emulators and the shared test support. */
const testConstraints = productionConstraints.map((c) => ({
  ...c,
  onlyDependOnLibsWithTags: [
    ...new Set([...c.onlyDependOnLibsWithTags, 'type:emulator', 'type:test-support']),
  ],
}));

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '.nx/**', 'graph.json'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['libs/**/src/**/*.ts', 'services/**/src/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: productionConstraints,
          enforceBuildableLibDependency: false,
          // The services' entries load telemetry's instrumentation with import()
          // after their signal listeners exist (start-up order, not code
          // splitting); static imports of it elsewhere are fine.
          checkDynamicDependenciesExceptions: ['@tributary/telemetry', '@tributary/telemetry/*'],
        },
      ],
    },
  },
  {
    files: ['libs/**/test/**/*.ts', 'services/**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: testConstraints,
          enforceBuildableLibDependency: false,
          checkDynamicDependenciesExceptions: ['@tributary/telemetry', '@tributary/telemetry/*'],
        },
      ],
    },
  },
  prettier,
);
