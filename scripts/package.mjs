// Packages the extension as a platform-specific .vsix that carries only that platform's onnxruntime binaries.
//
//   npm run package                          # this machine's platform, e.g. dpipe-0.1.0-linux-x64.vsix
//   npm run package -- --target win32-x64    # another platform (several --target flags, or --all)
//
// It builds, then stages what the extension needs in out/package/<target>/ (or --stage DIR; a COPY: node_modules is never
// touched): the bundles in dist/ (no source maps), onnxruntime-node with only bin/napi-v6/<os>/<arch>, and
// onnxruntime-common under dist/node_modules/ (where dist/runner.js resolves them), the JSON Schema, the examples
// and their demo model, README/CHANGELOG, and a manifest without dev dependencies or scripts. Then
// `vsce package --target <target> --no-dependencies` runs in the staging folder, with the repository's
// .vscodeignore as a second filter.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** vsce target → onnxruntime-node's bin/napi-v6/<os>/<arch>. Only targets onnxruntime-node 1.30 ships binaries for. */
const TARGETS = {
  'linux-x64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'win32-x64': ['win32', 'x64'],
  'win32-arm64': ['win32', 'arm64'],
};

function parseArgs(argv) {
  const targets = [];
  let outDir = ROOT;
  let stageRoot = join(ROOT, 'out', 'package');
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') targets.push(argv[++i]);
    else if (a === '--all') targets.push(...Object.keys(TARGETS));
    else if (a === '--out') outDir = resolve(argv[++i]);
    else if (a === '--stage') stageRoot = resolve(argv[++i]);
    else if (a === '--no-build') build = false;
    else throw new Error(`unknown argument ${a}; use --target <${Object.keys(TARGETS).join('|')}>, --all, --out DIR, --stage DIR, --no-build`);
  }
  if (targets.length === 0) targets.push(`${process.platform}-${process.arch}`);
  for (const t of targets) if (!TARGETS[t]) throw new Error(`no onnxruntime-node binaries for target "${t}"; targets: ${Object.keys(TARGETS).join(', ')}`);
  return { targets: [...new Set(targets)], outDir, stageRoot, build };
}

function copy(from, to, filter) {
  cpSync(join(ROOT, from), to, { recursive: true, filter: filter ?? (() => true) });
}

/** Copies onnxruntime-node keeping one platform's native binaries, and onnxruntime-common. */
function stageOnnxruntime(stage, os, arch) {
  const nm = join(stage, 'dist', 'node_modules');
  const ortSrc = join(ROOT, 'node_modules', 'onnxruntime-node');
  const binRoot = join(ortSrc, 'bin', 'napi-v6');
  const keep = join(binRoot, os, arch);
  if (!existsSync(join(keep, 'onnxruntime_binding.node'))) throw new Error(`onnxruntime-node has no binary in ${keep}`);
  const ortDst = join(nm, 'onnxruntime-node');
  mkdirSync(ortDst, { recursive: true });
  for (const entry of ['package.json', 'dist', 'README.md', 'LICENSE']) {
    if (existsSync(join(ortSrc, entry))) cpSync(join(ortSrc, entry), join(ortDst, entry), { recursive: true, filter: (p) => !p.endsWith('.map') });
  }
  cpSync(keep, join(ortDst, 'bin', 'napi-v6', os, arch), { recursive: true });
  // The staged copy has no install script to run and no install-time dependencies.
  const pj = JSON.parse(readFileSync(join(ortDst, 'package.json'), 'utf8'));
  delete pj.scripts;
  delete pj.devDependencies;
  pj.dependencies = { 'onnxruntime-common': pj.dependencies['onnxruntime-common'] };
  writeFileSync(join(ortDst, 'package.json'), JSON.stringify(pj, null, 2));
  const common = join(ROOT, 'node_modules', 'onnxruntime-common');
  // dist/ only (lib/ holds its TypeScript sources).
  cpSync(common, join(nm, 'onnxruntime-common'), { recursive: true, filter: (p) => !p.endsWith('.map') && !relative(common, p).startsWith('lib') });
}

function stage(target, stageRoot) {
  const [os, arch] = TARGETS[target];
  const dir = join(stageRoot, target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Bundles without maps (dist/cli.js too: the Latent Inspector runs `dpipe reference` / `dpipe sweep` with it).
  const dist = join(ROOT, 'dist');
  copy('dist', join(dir, 'dist'), (p) => !p.endsWith('.map') && !relative(dist, p).startsWith('node_modules'));
  stageOnnxruntime(dir, os, arch);
  for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore']) if (existsSync(join(ROOT, f))) copy(f, join(dir, f));
  if (existsSync(join(ROOT, 'schema'))) copy('schema', join(dir, 'schema'), (p) => statSync(p).isDirectory() || p.endsWith('.json'));
  if (existsSync(join(ROOT, 'examples'))) copy('examples', join(dir, 'examples'));
  if (existsSync(join(ROOT, 'media'))) copy('media', join(dir, 'media'));
  // The README's relative links and pictures (VS Code shows them from the installed extension).
  if (existsSync(join(ROOT, 'docs'))) copy('docs', join(dir, 'docs'), (p) => statSync(p).isDirectory() || /\.(md|png|gif|jpg|svg)$/.test(p));
  // The models the examples use (`../models/<file>`), with their sidecars; nothing else from models/.
  const used = new Set();
  if (existsSync(join(ROOT, 'examples'))) {
    for (const f of readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.dpipe'))) {
      for (const m of readFileSync(join(ROOT, 'examples', f), 'utf8').matchAll(/"\.\.\/models\/([^"/]+)"/g)) used.add(m[1]);
    }
  }
  for (const f of used) {
    for (const g of [f, `${f}.json`]) if (existsSync(join(ROOT, 'models', g))) copy(join('models', g), join(dir, 'models', g));
  }
  const pj = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  delete pj.devDependencies;
  delete pj.scripts;
  delete pj.bin;
  pj.dependencies = {};
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pj, null, 2) + '\n');
  return { dir, version: pj.version, name: pj.name };
}

const { targets, outDir, stageRoot, build } = parseArgs(process.argv.slice(2));
if (build) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
for (const f of ['dist/extension.js', 'dist/runner.js', 'dist/webview/editor.js']) {
  if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing; the build did not produce it`);
}
const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
for (const target of targets) {
  const { dir, version, name } = stage(target, stageRoot);
  const out = join(outDir, `${name}-${version}-${target}.vsix`);
  const args = [vsce, 'package', '--target', target, '--no-dependencies', '--allow-missing-repository', '--out', out];
  if (!existsSync(join(dir, 'LICENSE'))) args.push('--skip-license');
  // Without a repository URL vsce cannot make README links absolute; they stay relative to the packaged docs/.
  if (!JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).repository) args.push('--no-rewrite-relative-links');
  execFileSync(process.execPath, args, { cwd: dir, stdio: 'inherit' });
  console.log(`packaged ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)`);
}
