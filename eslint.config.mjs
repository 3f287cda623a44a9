// Type-aware linting (typescript-eslint) of every TypeScript source; formatting is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TESTS_AND_HARNESS = ['**/*.test.ts', '**/testing/**', 'harness/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'artifacts/', '**/testdata/', 'api/ui/browser/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: TESTS_AND_HARNESS,
    rules: {
      // Tests and the harness read HTTP bodies, JSON files and fake-server records as untyped
      // values on purpose and assert on their shape; the assertion is the check, so the
      // any-propagation rules would only force casts that prove nothing.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
