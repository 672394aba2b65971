// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/** What the runtime, the catalogue and the envelope must not depend on: the tasks, their domains, any SaaS SDK. */
const domainImports = {
  patterns: [
    { group: ['**/tasks/**', '**/ai/**', '**/billing/**', '**/data/**'], message: 'runtime/, catalogue/ and envelope/ are below the tasks and their domains: pass what they need in instead.' },
    { group: ['stripe', 'stripe/*', 'openai', 'openai/*'], message: 'a SaaS SDK belongs to the tasks that call it, not to runtime/, catalogue/ or envelope/.' },
  ],
};

/** The entry points, which hand the process environment to what they start; everything else is given its settings. */
const environmentReaders = ['functions/**', 'shared/local/start.ts', 'shared/local/invoke.ts', 'shared/cli/main.ts', 'test/**', 'infra/**', '*.config.ts', '*.config.js'];

const processEnvironment = {
  message: 'Configuration is read once, at start: take a Config (readConfig) or an Environment handed down from an entry point in functions/, shared/local/start.ts, shared/local/invoke.ts or shared/cli/main.ts.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'cdk.out.prod/', '.local/', 'shared/results/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js'] })],
      // How to read a dependency's own imports: without it, .ts files are skipped and no cycle is seen.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.mjs', '.js'],
    },
    // Every runtime cycle, dynamic imports included (type-only imports are erased, and the rule skips them).
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }] },
  },
  {
    files: ['shared/runtime/**', 'shared/catalogue/**', 'shared/envelope/**'],
    rules: { 'no-restricted-imports': ['error', domainImports] },
  },
  {
    // What a Lambda bundle is built from: the local cloud (its emulator front, pollers, stand-ins for OpenAI and
    // Stripe) stays out of it. infra/bundle-budget.ts checks the built bundles for the same.
    files: ['functions/**', 'shared/{runtime,catalogue,envelope,tasks,ai,billing,data,consumers,results,observability,producer}/**', 'shared/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: ['**/local/**', '**/local'], allowTypeImports: true, message: 'the local cloud is no part of a function: pass what is needed in instead.' }],
      }],
    },
  },
  {
    ignores: environmentReaders,
    rules: {
      // Destructuring (`const { env } = process`) included.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', ...processEnvironment }],
    },
  },
  {
    files: ['shared/local/**', 'shared/cli/**', 'test/**', 'infra/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
