// Bundles the CLI, the extension host, the runner process and the webview with esbuild.
// Entry points that do not exist yet are skipped, so the build works while the project grows.
import { build } from 'esbuild';
import { existsSync, chmodSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const entries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  { in: 'extension/extension.ts', out: 'dist/extension.js', platform: 'node' },
  { in: 'extension/runner/main.ts', out: 'dist/runner.js', platform: 'node' },
  { in: 'webview/editor/main.tsx', out: 'dist/webview/editor.js', platform: 'browser' },
  { in: 'webview/inspector/main.tsx', out: 'dist/webview/inspector.js', platform: 'browser' },
];
mkdirSync('dist', { recursive: true });
await Promise.all(
  entries.filter((e) => existsSync(e.in)).map(async (e) => {
    await build({
      entryPoints: [e.in],
      outfile: e.out,
      bundle: true,
      platform: e.platform,
      format: e.platform === 'node' ? 'cjs' : 'iife',
      target: e.platform === 'node' ? 'node20' : 'chrome120',
      sourcemap: true,
      minify: e.platform === 'browser' && !watch,
      external: e.platform === 'node' ? ['vscode', 'onnxruntime-node'] : [],
      // Prefer ES modules: jsonc-parser's "main" is a UMD build whose dynamic require('./impl/…') esbuild cannot bundle.
      mainFields: e.platform === 'node' ? ['module', 'main'] : undefined,
      banner: e.banner ? { js: e.banner } : undefined,
      loader: { '.css': 'css', '.ttf': 'file' },
      logLevel: 'warning',
      define: e.platform === 'browser' ? { 'process.env.NODE_ENV': '"production"' } : undefined,
    });
    if (e.banner) chmodSync(e.out, 0o755);
  }),
);
