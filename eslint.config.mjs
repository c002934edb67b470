// One lint configuration for the whole repository: typescript-eslint's type-checked rules on
// every package's sources and tests; formatting is Prettier's (eslint-config-prettier turns off
// the rules that would disagree with it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'packages/core/src/tfjs-gradients.js', 'runs/**', '.nx/**'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    rules: {
      // Plugins implement Promise-returning contracts (Dataset.instances, RunRenderer.render, …)
      // that are synchronous for some implementations: `async` there is the contract, not a slip.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter or binding that is there for its position.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // Tests use vitest's asymmetric matchers (expect.stringMatching, typed `any`) and edit saved
    // JSON as a user with an editor would: untyped on purpose.
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', performance: 'readonly' },
    },
  },
  prettier,
);
