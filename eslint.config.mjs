// Lint: above all the layering rule (STYLE.md rule 1). Zones import one way:
//   webview/ and extension/ may import src/engine and src/protocol; the engine imports neither vscode nor react
//   nor the DOM, and onnxruntime only in src/engine/model/onnx.ts.
import tseslint from 'typescript-eslint';

const noUi = ['vscode', 'react', 'react-dom', 'react/*', 'react-dom/*', '@xyflow/*', '@vscode-elements/*', 'elkjs', 'elkjs/*'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.e2e/**', 'out/**', 'tools/train/**', 'test-results/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-debugger': 'error',
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/model/onnx.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: [...noUi, 'onnxruntime-node', 'onnxruntime-common'], message: 'src/engine is UI-free; onnxruntime only in src/engine/model/onnx.ts.' },
          { group: ['**/extension/**', '**/webview/**', '**/protocol/**'], message: 'The engine imports nothing from the zones above it.' },
        ],
      }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator'],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Engine randomness comes from an injected, seeded noise source.' }],
    },
  },
  {
    files: ['src/engine/model/onnx.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...noUi, '**/extension/**', '**/webview/**'], message: 'The engine is UI-free.' }] }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...noUi, 'onnxruntime-node', '**/extension/**', '**/webview/**'], message: 'The protocol module depends on nothing but engine types.' }] }],
    },
  },
  {
    files: ['webview/**/*.ts', 'webview/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['vscode', 'onnxruntime-node', 'node:*', '**/extension/**'], message: 'The webview runs in a browser sandbox and talks to the host only through src/protocol messages.' }] }],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['react', 'react-dom', '@xyflow/*', '**/webview/**'], message: 'The extension host does not import the webview.' }] }],
    },
  },
);
