// ESLint flat config: JavaScript and typescript-eslint recommended rules for every source file,
// eslint-plugin-astro for .astro pages, plus the project's own import rules (the import graph
// itself is checked by tests/unit/architecture.test.ts).
import js from '@eslint/js';
import astro from 'eslint-plugin-astro';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.astro/**',
      'node_modules/**',
      'public/**',
      'bench/results/**',
      'scripts/model/.work/**',
      'scripts/model/.corpus/**',
      '**/*.generated.ts',
      '.venv*/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...astro.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    rules: {
      // `_`-prefixed names are deliberately unused (tuple slots, interface-shaped callbacks).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // Pages and widgets must not load the model engine or transformers.js directly.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/pages/**', 'src/widgets/**', 'src/components/**', 'src/layouts/**', 'src/lib/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workers/**', '**/workers/engine/**'],
              message: 'Pages talk to the model through src/lib/model/client.ts; the engine runs only in the worker.',
            },
            {
              group: ['@huggingface/transformers', 'onnxruntime-web', 'onnxruntime-web/*'],
              message: 'transformers.js and ONNX Runtime live only in src/workers/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/lib/quant/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^[^.]', message: 'src/lib/quant is pure: no packages (it runs the same in page, worker and Node).' },
            { regex: '(^|/)(widgets|workers|model|pages|components|layouts)(/|$)', message: 'src/lib/quant imports only its own modules.' },
          ],
        },
      ],
    },
  },
);
