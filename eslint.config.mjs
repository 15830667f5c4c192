// Lint is here for bugs tsc cannot see (unhandled promises, loose equality, switch fallthrough);
// layout is prettier's business, and taste rules that would fight the code's deliberate style are off.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', '.cache/', 'media/', 'test/exthost/fixtures/', 'bench/results/', '.peersync/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits or catches turns a failure into an unhandled rejection (which ends the server) or into silence.
      // node:test's test/describe/it return promises the runner itself tracks; awaiting them would serialize nothing and only add noise.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      // An async callback where a void one is expected (event handlers, forEach, setTimeout) drops its rejection.
      '@typescript-eslint/no-misused-promises': 'error',
      // Awaiting a non-promise is a sign the callee is not what the caller thinks it is.
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // CommonJS is require()'s home; elsewhere the rule keeps ES imports the norm.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // The Node globals the scripts use, so that no-undef still catches a misspelt name in untyped code.
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        fetch: 'readonly',
      },
    },
  },
  {
    rules: {
      'no-fallthrough': 'error',
      // `== null` deliberately covers both null and undefined; every other comparison must be strict.
      eqeqeq: ['error', 'smart'],
      // tsc's noUnusedLocals/noUnusedParameters already report these, with the compiler's own exemptions.
      '@typescript-eslint/no-unused-vars': 'off',
      // Where a caught error is rethrown, its message is folded into the new one on purpose (one readable
      // line for users and logs); a cause chain would print it twice.
      'preserve-caught-error': 'off',
    },
  },
);
