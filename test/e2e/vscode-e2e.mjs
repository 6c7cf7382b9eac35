// End-to-end test of the extension in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) installed by
// scripts/e2e-setup.sh into .e2e/, driven with playwright-core in Debian's Chromium (no browser download).
//
//   npm run e2e:setup && npm run e2e        (exit code 0 = every assertion passed)
//
// It packages the extension (scripts/package.mjs, this platform), installs the .vsix, opens an example pipeline
// in the graph editor, edits a parameter and checks the document text, edits the text and checks the graph,
// runs the pipeline from the command palette, checks the preview, the output files and what they carry, runs and
// compares it at another setting, runs it with Ctrl+Enter from inside the webview, imports a ComfyUI prompt,
// undoes the edits, runs a grid (dpipe: Run Grid…) and opens one of its cells in the Latent Inspector, and opens a
// broken file (message + "Open as text"). Screenshots of every step go to
// test-results/e2e/. Every wait is bounded; the whole run is capped at E2E_TIMEOUT_S (default 480 s).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const E2E = process.env.E2E_DIR ?? join(ROOT, '.e2e');
const CS = join(E2E, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const SHOTS = process.env.E2E_SHOTS ?? join(ROOT, 'test-results', 'e2e');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TOTAL_S = Number(process.env.E2E_TIMEOUT_S ?? 480);
const T0 = Date.now();
const log = (...a) => console.log(`[e2e +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(CS)) {
  console.error(`code-server is not installed in ${E2E}; run \`npm run e2e:setup\` first.`);
  process.exit(3);
}
rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

// ---------------------------------------------------------------------------------------------
// 1. Package and install the extension; make a workspace with an example, its model, and a broken file.
// Everything of this run lives in its own scratch folder, so concurrent runs (two `npm test`s) do not collide.
const scratch = mkdtempSync(join(tmpdir(), 'dpipe-e2e-'));
const pj = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;
const vsix = join(scratch, `${pj.name}-${pj.version}-${target}.vsix`);
log('packaging', vsix);
execFileSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--no-build', '--target', target, '--out', scratch, '--stage', join(scratch, 'stage')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });

const userDataDir = join(scratch, 'user-data');
const extensionsDir = join(scratch, 'extensions');
const workspace = join(scratch, 'workspace');
const chromeProfile = join(scratch, 'chrome-profile');
for (const d of [userDataDir, extensionsDir, workspace, chromeProfile, join(userDataDir, 'User')]) mkdirSync(d, { recursive: true });
mkdirSync(join(workspace, 'examples'));
mkdirSync(join(workspace, 'models'));
const EXAMPLE = 'euler-karras.dpipe';
cpSync(join(ROOT, 'examples', EXAMPLE), join(workspace, 'examples', EXAMPLE));
for (const f of ['mnist_gmm.onnx', 'mnist_gmm.onnx.json']) cpSync(join(ROOT, 'models', f), join(workspace, 'models', f));
// A Stable Diffusion 1.5-shaped model folder in Optimum's ONNX layout (tiny random weights), for New Pipeline from Model Folder.
cpSync(join(ROOT, 'test', 'fixtures', 'sd', 'tiny-sd15'), join(workspace, 'models', 'tiny-sd15'), { recursive: true });
const originalText = readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8');
if (!/"steps": 20,/.test(originalText) || !/"seed": 0 /.test(originalText)) throw new Error(`${EXAMPLE} changed: the test expects "steps": 20 and "seed": 0`);
writeFileSync(join(workspace, 'broken.dpipe'), '{ "dpipe": 1, "nodes": [ { "id": "a", \n');
// A ComfyUI API prompt to import (step 6c).
mkdirSync(join(workspace, 'comfy'));
cpSync(join(ROOT, 'test', 'fixtures', 'interop', 'comfyui-default-api.json'), join(workspace, 'comfy', 'comfyui-default-api.json'));

const settingsFile = join(userDataDir, 'User', 'settings.json');
const settings = (theme) => JSON.stringify({
  'workbench.colorTheme': theme,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'files.hotExit': 'off',
  // VS Code in a browser auto-saves after 1 s by default; desktop VS Code does not.
  'files.autoSave': 'off',
  'dpipe.previewRate': 30,
}, null, 2);
writeFileSync(settingsFile, settings('Default Dark Modern'));

const baseArgs = ['--auth', 'none', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'];
const csEnv = { ...process.env, NO_PROXY: '127.0.0.1,localhost' };
log('installing the .vsix into code-server');
execFileSync(process.execPath, [CS, ...baseArgs, '--install-extension', vsix], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000, env: csEnv });
const listed = execFileSync(process.execPath, [CS, ...baseArgs, '--list-extensions', '--show-versions'], { timeout: 60_000, env: csEnv }).toString().trim();
if (!listed.includes(`${pj.publisher}.${pj.name}@${pj.version}`)) throw new Error(`the extension did not install: ${listed}`);
log('installed:', listed);

// ---------------------------------------------------------------------------------------------
// 2. code-server on loopback, Chromium through Playwright.
const freePort = () => new Promise((res, rej) => {
  const s = net.createServer();
  s.unref();
  s.on('error', rej);
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
/** Starts code-server on a free loopback port; its process group is killed by cleanup(). */
const servers = [];
let serverOut = '';
async function startServer(args, folder) {
  const port = await freePort();
  const proc = spawn(process.execPath, [CS, ...args, '--bind-addr', `127.0.0.1:${port}`, '--log', 'info', folder], { env: csEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  proc.stdout.on('data', (d) => { serverOut += d; });
  proc.stderr.on('data', (d) => { serverOut += d; });
  servers.push(proc);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('code-server did not start');
    await sleep(250);
  }
  log('code-server up on port', port);
  return { port, proc };
}
async function stopServer(proc) {
  try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
  await sleep(500);
  try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
}

let ctx;
let failed = false;
const cleanup = async () => {
  try { if (ctx) await Promise.race([ctx.close(), sleep(15_000)]); } catch { /* closing anyway */ }
  for (const proc of servers) await stopServer(proc);
  if (!process.env.KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  else log('scratch kept in', scratch);
};
const hardStop = setTimeout(async () => {
  console.error(`GLOBAL TIMEOUT (${TOTAL_S} s)`);
  await shot('zz-timeout').catch(() => {});
  await cleanup();
  process.exit(2);
}, TOTAL_S * 1000);

let page;
async function shot(name) {
  await sleep(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  log('screenshot', `${name}.png`);
}

/** Extension log (the dpipe Output channel) of a code-server user-data folder, for checks and failure reports. */
function extensionLog(dataDir = userDataDir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/dpipe\.log$/.test(e.name)) out.push(readFileSync(p, 'utf8'));
    }
  };
  try { walk(join(dataDir, 'logs')); } catch { /* no logs */ }
  return out.join('\n');
}

function check(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
  log('ok:', what);
}

try {
  const { port } = await startServer(baseArgs, workspace);
  ctx = await chromium.launchPersistentContext(chromeProfile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1500, height: 950 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx.setDefaultTimeout(30_000);
  const blocked = new Set();
  await ctx.route((u) => !/^(http|ws)s?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(u.href) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'),
    (r) => { blocked.add(new URL(r.request().url()).host); return r.abort(); });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const cspViolations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text()); });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  log('workbench loaded');

  const palette = page.locator('.quick-input-widget');
  const paletteInput = palette.locator('input');
  const openPalette = async (prefix = '>') => {
    await page.locator('.part.statusbar').click({ position: { x: 300, y: 5 } }).catch(() => {});
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press(prefix === '>' ? 'F1' : 'Control+P');
      if (await paletteInput.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) return;
    }
    throw new Error('the command palette did not open');
  };
  /** Runs a command-palette entry by its exact label. */
  const runCommand = async (label) => {
    await openPalette();
    await paletteInput.fill(`>${label}`);
    const row = palette.locator('.monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
  };
  // The workbench is up before extensions are: wait until our command is in the palette.
  let ready = false;
  for (let i = 0; i < 10 && !ready; i++) {
    await openPalette();
    await paletteInput.fill('>dpipe: Run Pipeline');
    ready = await palette.locator('.monaco-list-row', { hasText: 'dpipe: Run Pipeline' }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
    await page.keyboard.press('Escape');
  }
  check(ready, 'the dpipe commands are in the command palette');

  // ---------------------------------------------------------------------------------------------
  // 3. Open the example: the graph editor shows its 10 blocks.
  const openFile = async (name) => {
    await openPalette('file');
    await paletteInput.fill(name);
    await palette.locator('.monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
  };
  await openFile(EXAMPLE);
  const webview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const g = (id) => webview.locator(`[data-testid="${id}"]`);
  await g('node-sample').waitFor({ timeout: 60_000 });
  await g('editor').waitFor();
  const nodeCount = await webview.locator('.react-flow__node').count();
  check(nodeCount === 10, `the graph shows the 10 blocks of ${EXAMPLE} (got ${nodeCount})`);
  await shot('01-graph');

  const tab = page.locator('.tabs-container .tab', { hasText: EXAMPLE });
  const isDirty = async () => (await tab.first().getAttribute('class')).split(/\s+/).includes('dirty');
  // The example has no positions: the graph editor lays it out in memory only. Opening a file never modifies it.
  await sleep(1500);
  check(!(await isDirty()), 'opening a .dpipe without positions leaves the document clean (the auto-layout is not written)');
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === originalText, 'the file on disk is untouched by opening it');
  const baselineText = readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8');
  check(/"steps": 20,/.test(baselineText), 'the baseline has "steps": 20');

  // ---------------------------------------------------------------------------------------------
  // 4. Edit a parameter in the inspector: steps 20 → 8. The document (not the file) changes.
  await g('node-sched').click();
  await g('inspector-title').waitFor();
  const steps = webview.locator('[data-testid="param-steps"] input');
  await steps.fill('8');
  await steps.press('Enter');
  await webview.locator('[data-testid="editor"]').waitFor();
  for (let i = 0; i < 50 && !(await isDirty()); i++) await sleep(100);
  check(await isDirty(), 'the edit made the document dirty (a WorkspaceEdit, not a file write)');
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === baselineText, 'the file on disk is unchanged until saved');
  await shot('02-param-edited');

  // 5. The text editor on the same document shows the change; an edit there shows in the graph.
  await runCommand('dpipe: Open as Text');
  const monaco = page.locator('.editor-group-container.active .monaco-editor').first();
  await monaco.waitFor({ timeout: 30_000 });
  const viewText = async () => (await monaco.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
  let text = '';
  for (let i = 0; i < 50; i++) {
    text = await viewText();
    if (/"steps": 8,/.test(text)) break;
    await sleep(100);
  }
  check(/"steps": 8,/.test(text) && /"rho": 7/.test(text), 'the text editor shows "steps": 8 with the rest of the line untouched');
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === baselineText, 'still unsaved after opening the text editor');
  await shot('03-text-editor');
  // Replace "seed": 0 by "seed": 5 with the find/replace widget.
  await monaco.click({ position: { x: 300, y: 40 } });
  await page.keyboard.press('Control+H');
  const find = page.locator('.editor-group-container.active .find-widget textarea[aria-label="Find"], .editor-group-container.active .find-widget .find-part textarea').first();
  await find.waitFor({ timeout: 10_000 });
  await find.fill('"seed": 0');
  const replace = page.locator('.editor-group-container.active .find-widget .replace-part textarea').first();
  await replace.fill('"seed": 5');
  await page.keyboard.press('Control+Alt+Enter');
  await page.keyboard.press('Escape');
  for (let i = 0; i < 30 && !/"seed": 5/.test(text); i++) { await sleep(100); text = await viewText(); }
  check(/"seed": 5/.test(text), 'the text editor replaced the seed');
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === baselineText, 'still unsaved after the text edit');

  // Back to the graph: the noise block shows the seed typed in the text editor.
  await runCommand('dpipe: Open in Graph Editor');
  await g('node-noise').waitFor({ timeout: 30_000 });
  await g('node-noise').click();
  const seedField = webview.locator('[data-testid="param-seed"] input');
  await seedField.waitFor();
  let seedValue = '';
  for (let i = 0; i < 30 && seedValue !== '5'; i++) { seedValue = await seedField.inputValue(); if (seedValue !== '5') await sleep(100); }
  check(seedValue === '5', `the graph shows the seed from the text editor (got ${seedValue})`);
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === baselineText, 'still unsaved after switching back to the graph');
  await shot('04-graph-after-text-edit');

  // ---------------------------------------------------------------------------------------------
  // 6. Run from the command palette: progress, preview on the Sample block, outputs on the Output block.
  const outRoot = join(workspace, 'examples', 'dpipe-out');
  await runCommand('dpipe: Run Pipeline');
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: `dpipe: ${EXAMPLE} finished` });
  await toast.waitFor({ timeout: 180_000 });
  await g('preview-sample').waitFor({ timeout: 30_000 });
  const caption = await g('preview-caption-sample').innerText();
  await webview.locator('[data-testid^="output-image-image-"]').first().waitFor({ timeout: 30_000 });
  const phase = await g('run-progress').getAttribute('data-phase');
  check(phase === 'done', `the toolbar shows the run done (phase ${phase})`);
  const previewSize = await g('preview-sample').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  check(previewSize[0] > 0 && previewSize[1] > 0, `the Sample block shows a decoded x̂0 preview (${previewSize.join('×')}; "${caption.replace(/\s+/g, ' ')}")`);
  await shot('05-run-finished');

  const runs = existsSync(outRoot) ? readdirSync(outRoot) : [];
  check(runs.length === 1 && /^\d{8}-\d{6}-\d{3}$/.test(runs[0]), `one run folder dpipe-out/<timestamp> (${runs.join(', ')})`);
  const runDir = join(outRoot, runs[0]);
  const files = readdirSync(runDir);
  const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  check(record.status === 'completed' && record.nfe === 8, `run.json: completed with 8 model evaluations, the UNSAVED steps = 8 (nfe ${record.nfe})`);
  check(record.seeds[0] === 5, `run.json: the unsaved seed 5 was used (seeds ${record.seeds.slice(0, 3).join(',')}…)`);
  const pngs = files.filter((f) => f.endsWith('.png'));
  check(pngs.length >= 1 && files.some((f) => f.endsWith('.npy')), `images and the latent were written (${files.join(', ')})`);
  const pngText = readFileSync(join(runDir, pngs[0])).toString('latin1');
  check(pngText.includes('dpipe') && /"steps": 8/.test(pngText), `${pngs[0]} carries the pipeline that ran`);
  check(readFileSync(join(workspace, 'examples', EXAMPLE), 'utf8') === baselineText, 'running did not save or rewrite the file');

  // README pictures: the graph after a run, dark and light theme, without notifications.
  await runCommand('Notifications: Clear All Notifications').catch(() => {});
  await g('node-sched').click();
  await shot('10-readme-dark');
  await runCommand('Preferences: Toggle between Light/Dark Themes');
  await page.locator('.monaco-workbench.vs:not(.vs-dark)').waitFor({ timeout: 15_000 }).then(
    () => log('light theme on'),
    () => log('light theme did not apply'),
  );
  await sleep(1000);
  await shot('11-readme-light');
  await runCommand('Preferences: Toggle between Light/Dark Themes');
  await sleep(1000);

  // 6a. The Latent Inspector on that run: one panel, every model evaluation on its timeline, scrubbing works.
  await runCommand('dpipe: Open Latent Inspector');
  const inspectorTab = page.locator('.tabs-container .tab', { hasText: 'Inspector' });
  await inspectorTab.first().waitFor({ timeout: 30_000 });
  const insp = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await insp.locator('[data-testid="inspector"]').waitFor({ timeout: 60_000 });
  const slider = insp.locator('[data-testid="slider"]');
  await slider.waitFor({ timeout: 30_000 });
  const sliderMax = await slider.getAttribute('max');
  check(sliderMax === '7', `the inspector's timeline has the run's 8 model evaluations (slider max ${sliderMax})`);
  await slider.focus();
  await page.keyboard.press('Home');
  await sleep(300);
  const sigma0 = (await insp.locator('[data-testid="detail-sigma"]').innerText()).trim();
  await page.keyboard.press('ArrowRight');
  let sigma1 = sigma0;
  for (let i = 0; i < 30 && sigma1 === sigma0; i++) { await sleep(100); sigma1 = (await insp.locator('[data-testid="detail-sigma"]').innerText()).trim(); }
  check(Number(sigma1) < Number(sigma0), `scrubbing moves to a lower σ (${sigma0} → ${sigma1})`);
  await shot('05a-latent-inspector');
  await inspectorTab.first().locator('.tab-actions .action-label').first().click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // 6a'. Run and compare with… the same pipeline at another setting (typed NODE.PARAM=VALUE): two runs with the
  // same seed, then the inspector's compare view on them.
  const runsBeforeCompare = readdirSync(outRoot);
  await runCommand('dpipe: Run and Compare with…');
  await paletteInput.waitFor({ state: 'visible', timeout: 15_000 });
  await paletteInput.fill('sched.steps=4');
  await palette.locator('.monaco-list-row', { hasText: 'sched.steps=4' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  const compareTab = page.locator('.tabs-container .tab', { hasText: 'Compare' });
  await compareTab.first().waitFor({ timeout: 120_000 });
  const compareTitle = (await compareTab.first().innerText()).trim();
  check(compareTitle.includes(`${EXAMPLE} with sched.steps=4`) && /seed 5/.test(compareTitle), `the compare view is named after what it compares ("${compareTitle}")`);
  const cmp = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await cmp.locator('[data-testid="image-diff"]').waitFor({ timeout: 60_000 });
  await cmp.locator('[data-testid="detail-distance"]').waitFor({ timeout: 30_000 });
  const cmpMax = await cmp.locator('[data-testid="slider"]').getAttribute('max');
  check(cmpMax === '7', `the compare view scrubs run A's 8 evaluations (slider max ${cmpMax})`);
  const compareRuns = readdirSync(outRoot).filter((r) => !runsBeforeCompare.includes(r)).sort();
  check(compareRuns.length === 2, `Run and compare made two runs (${compareRuns.join(', ')})`);
  const [recA, recB] = compareRuns.map((r) => JSON.parse(readFileSync(join(outRoot, r, 'run.json'), 'utf8')));
  check(recA.nfe === 8 && recB.nfe === 4 && recB.overrides.includes('sched.steps=4'), `A ran as edited (${recA.nfe} NFE), B with sched.steps=4 (${recB.nfe} NFE; overrides ${recB.overrides.join(' ')})`);
  check(recA.seeds[0] === 5 && recB.seeds[0] === 5, `both runs used the same seed (${recA.seeds[0]}, ${recB.seeds[0]})`);
  await shot('05c-run-and-compare');
  await compareTab.first().locator('.tab-actions .action-label').first().click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // 6a''. Ctrl+Enter with the focus inside the graph webview runs the pipeline (VS Code forwards the webview's keys).
  const runsBeforeKey = readdirSync(outRoot);
  await g('canvas').click({ position: { x: 20, y: 20 } });
  await page.keyboard.press('Control+Enter');
  let keyRuns = [];
  for (let i = 0; i < 300 && keyRuns.length === 0; i++) {
    keyRuns = readdirSync(outRoot).filter((r) => !runsBeforeKey.includes(r) && existsSync(join(outRoot, r, 'run.json')));
    if (keyRuns.length === 0) await sleep(100);
  }
  await webview.locator('[data-testid="run-progress"][data-phase="done"]').waitFor({ timeout: 60_000 });
  await sleep(500);
  keyRuns = readdirSync(outRoot).filter((r) => !runsBeforeKey.includes(r));
  check(keyRuns.length === 1, `Ctrl+Enter in the webview started exactly one run (${keyRuns.join(', ') || 'none'})`);

  // 6b. Open Pipeline from Image: the PNG's pipeline opens as a new, unsaved graph beside the one that ran.
  await runCommand('dpipe: Open Pipeline from Image…');
  await paletteInput.waitFor({ state: 'visible', timeout: 15_000 });
  // The simple file dialog (VS Code in a browser) fills in its start folder asynchronously: wait for it, then type.
  for (let i = 0; i < 50 && !(await paletteInput.inputValue()).endsWith('/'); i++) await sleep(100);
  const imageTab = page.locator('.tabs-container .tab', { hasText: pngs[0].replace(/\.png$/, '.dpipe') });
  let opened = false;
  for (let attempt = 0; attempt < 3 && !opened; attempt++) {
    await paletteInput.fill(join(runDir, pngs[0]));
    await sleep(700); // the dialog validates the typed path before it accepts it
    const ok = palette.locator('.monaco-button', { hasText: 'OK' }).first();
    if (await ok.isVisible()) await ok.click();
    else await page.keyboard.press('Enter');
    opened = await imageTab.first().waitFor({ timeout: 10_000 }).then(() => true, () => false);
  }
  check(opened, 'the pipeline from the image opened in a new tab');
  const fromImage = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await fromImage.locator('[data-testid="node-sched"]').waitFor({ timeout: 60_000 });
  await fromImage.locator('[data-testid="node-sched"]').click();
  const imageSteps = await fromImage.locator('[data-testid="param-steps"] input').inputValue();
  check(imageSteps === '8', `the pipeline from ${pngs[0]} is the one that ran (steps ${imageSteps})`);
  await shot('05b-pipeline-from-image');
  const imageProblems = await page.locator('.tabs-container .tab.active').innerText();
  check(imageTab && !/\d/.test(imageProblems.replace(/digits-\d+/, '')), `the pipeline from the image has no problems where it opened (tab "${imageProblems.trim()}")`);
  await imageTab.first().locator('.tab-actions .action-label').first().click();
  const dontSave = page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" });
  if (await dontSave.waitFor({ timeout: 3000 }).then(() => true, () => false)) await dontSave.click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // 6c. Import Pipeline…: a ComfyUI API prompt becomes a .dpipe (the model folder picker is cancelled: the path stays
  // empty), saved where the save dialog proposes, and opens in the graph editor with ComfyUI's settings.
  await runCommand('dpipe: Import Pipeline…');
  await paletteInput.waitFor({ state: 'visible', timeout: 15_000 });
  for (let i = 0; i < 50 && !(await paletteInput.inputValue()).endsWith('/'); i++) await sleep(100);
  const comfySource = join(workspace, 'comfy', 'comfyui-default-api.json');
  const importedFile = join(workspace, 'comfy', 'comfyui-default-api.dpipe');
  const accept = async () => {
    await sleep(700); // the simple dialog validates the typed path before it accepts it
    const ok = palette.locator('.monaco-button', { hasText: /^(OK|Import|Save)$/ }).first();
    if (await ok.isVisible()) await ok.click();
    else await page.keyboard.press('Enter');
  };
  // The dialog fills in its start folder asynchronously and may overwrite a path typed too early: retry until it moves on.
  const dialogTitle = async () => (await palette.locator('.quick-input-title').innerText().catch(() => '')).trim();
  let accepted = false;
  for (let attempt = 0; attempt < 4 && !accepted; attempt++) {
    await paletteInput.fill(comfySource);
    await accept();
    await sleep(1200);
    accepted = !(await palette.isVisible()) || /model folder/i.test(await dialogTitle());
  }
  check(accepted, 'the open dialog took the ComfyUI prompt');
  // The model folder picker (the prompt loads v1-5-pruned-emaonly.safetensors): cancel it.
  const folderTitle = await dialogTitle();
  check(/model folder \(ONNX export\) for "v1-5-pruned-emaonly\.safetensors"/.test(folderTitle), `the model folder picker names the checkpoint ("${folderTitle}")`);
  await page.keyboard.press('Escape');
  // The save dialog proposes comfyui-default-api.dpipe beside the source.
  await paletteInput.waitFor({ state: 'visible', timeout: 15_000 });
  for (let i = 0; i < 50 && !(await paletteInput.inputValue()).endsWith('.dpipe'); i++) await sleep(100);
  check((await paletteInput.inputValue()).endsWith('comfyui-default-api.dpipe'), `the save dialog proposes the name beside the source (${await paletteInput.inputValue()})`);
  await accept();
  for (let i = 0; i < 100 && !existsSync(importedFile); i++) await sleep(100);
  check(existsSync(importedFile), 'the imported pipeline was written');
  const importedText = readFileSync(importedFile, 'utf8');
  check(/"type": "noise\.torch"/.test(importedText) && /"seed": 156680208700286/.test(importedText) && /"order": "comfyui"/.test(importedText), 'it draws ComfyUI\'s noise for the prompt\'s seed');
  check(/"type": "schedule\.normal"/.test(importedText) && /"roundTimesteps": true/.test(importedText), 'ComfyUI\'s "normal" scheduler and nearest-timestep model calls');
  const importedView = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await importedView.locator('[data-testid="node-sched"]').waitFor({ timeout: 60_000 });
  await importedView.locator('[data-testid="node-sched"]').click();
  const importedSteps = await importedView.locator('[data-testid="param-steps"] input').inputValue();
  check(importedSteps === '20', `the graph editor shows the imported schedule (steps ${importedSteps})`);
  await shot('05d-imported-comfyui');
  const importedTab = page.locator('.tabs-container .tab', { hasText: 'comfyui-default-api.dpipe' });
  await importedTab.first().locator('.tab-actions .action-label').first().click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // ---------------------------------------------------------------------------------------------
  // 7. Undo both edits (the text one, then the graph one) with the graph editor focused.
  await g('canvas').click({ position: { x: 20, y: 20 } });
  await page.keyboard.press('Control+Z');
  await page.keyboard.press('Control+Z');
  for (let i = 0; i < 50 && (await isDirty()); i++) await sleep(100);
  check(!(await isDirty()), 'after two undos the document is back to its saved state');
  await g('node-sched').click();
  let stepsValue = '';
  for (let i = 0; i < 30 && stepsValue !== '20'; i++) { stepsValue = await webview.locator('[data-testid="param-steps"] input').inputValue(); if (stepsValue !== '20') await sleep(100); }
  check(stepsValue === '20', `the graph shows steps = 20 again (got ${stepsValue})`);
  await shot('06-after-undo');

  // 7b. A long run started from the editor's Run button, stopped from its Stop button.
  const runsBeforeStop = readdirSync(outRoot);
  await g('node-sched').click();
  const stepsField = webview.locator('[data-testid="param-steps"] input');
  await stepsField.fill('5000');
  await stepsField.press('Enter');
  for (let i = 0; i < 50 && !(await isDirty()); i++) await sleep(100);
  await g('run-button').click();
  await webview.locator('[data-testid="run-progress"][data-phase="running"]').waitFor({ timeout: 60_000 });
  await g('preview-sample').waitFor({ timeout: 30_000 });
  await sleep(1500);
  await shot('06b-long-run');
  await g('stop-button').click();
  await webview.locator('[data-testid="run-progress"][data-phase="stopped"]').waitFor({ timeout: 30_000 });
  const runs2 = readdirSync(outRoot).filter((r) => !runsBeforeStop.includes(r));
  check(runs2.length === 1, 'the second run has its own folder');
  const record2 = JSON.parse(readFileSync(join(outRoot, runs2[0], 'run.json'), 'utf8'));
  check(record2.status === 'aborted' && record2.nfe > 0 && record2.nfe < 5000, `Stop ended the run early and the run record says so (status ${record2.status}, ${record2.nfe} of 5000 evaluations)`);
  await shot('06c-stopped');
  await g('canvas').click({ position: { x: 20, y: 20 } });
  await page.keyboard.press('Control+Z');
  for (let i = 0; i < 50 && (await isDirty()); i++) await sleep(100);
  check(!(await isDirty()), 'undo after the stopped run: back to the saved state');

  // 7c. dpipe: Run Grid… from the graph: two axes typed in its quick pick (a block swap, a parameter), seeds 0-1;
  // the grid view shows the labelled image and one table row per cell, and a cell opens in the Latent Inspector.
  await runCommand('dpipe: Run Grid…');
  const addAxis = async (n, axis) => {
    await palette.locator('.quick-input-title', { hasText: `axis ${n}` }).waitFor({ timeout: 15_000 });
    await paletteInput.fill(axis);
    await palette.locator('.monaco-list-row', { hasText: 'add this axis' }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter');
  };
  await addAxis(1, 'solver=solver.euler,solver.heun');
  await addAxis(2, 'sched.steps=2,4');
  await palette.locator('.quick-input-title', { hasText: 'axis 3' }).waitFor({ timeout: 15_000 });
  await paletteInput.fill('Run the grid');
  await palette.locator('.monaco-list-row', { hasText: 'Run the grid' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await palette.locator('.quick-input-title', { hasText: 'seeds' }).waitFor({ timeout: 15_000 });
  await paletteInput.fill('0-1');
  await page.keyboard.press('Enter');
  const gridTab = page.locator('.tabs-container .tab', { hasText: 'Grid:' });
  await gridTab.first().waitFor({ timeout: 120_000 });
  const gv = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await gv.locator('[data-testid="grid-view"]').waitFor({ timeout: 60_000 });
  const gridDirs = readdirSync(outRoot).filter((d) => /-grid-\d{8}-\d{6}$/.test(d));
  check(gridDirs.length === 1, `Run Grid wrote one grid folder (${gridDirs.join(', ')})`);
  const gridJson = JSON.parse(readFileSync(join(outRoot, gridDirs[0], 'grid.json'), 'utf8'));
  check(gridJson.cells.length === 4 && gridJson.cells.every((c) => c.status === 'completed') && gridJson.axes.map((a) => a.name).join(' ') === 'solver sched.steps',
    `the grid ran 2 solvers × 2 step counts (${gridJson.cells.map((c) => `${c.label}: ${c.nfe} NFE`).join('; ')})`);
  const gridRows = await gv.locator('[data-testid="grid-table"] tbody tr').count();
  const tiles = await gv.locator('[data-testid^="grid-tile-"]').count();
  check(gridRows === 4 && tiles === 4, `the grid view shows 4 rows and 4 image tiles (${gridRows}, ${tiles})`);
  await shot('07-grid-view');
  await gv.locator('[data-testid="grid-tile-3"]').click();
  await gv.locator('[data-testid="grid-open"]').click();
  const cellTab = page.locator('.tabs-container .tab', { hasText: 'Inspector: #3' });
  await cellTab.first().waitFor({ timeout: 30_000 });
  const cellView = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  const cellMax = await cellView.locator('[data-testid="slider"]').getAttribute('max', { timeout: 60_000 });
  check(Number(cellMax) + 1 === gridJson.cells[3].nfe, `cell 3 (${gridJson.cells[3].label}) opens in the Latent Inspector with its ${gridJson.cells[3].nfe} evaluations`);
  await cellTab.first().locator('.tab-actions .action-label').first().click();
  await gridTab.first().locator('.tab-actions .action-label').first().click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // ---------------------------------------------------------------------------------------------
  // 7c. A Stable Diffusion model folder: New Pipeline from Model Folder, edit the prompt in the graph, run, preview.
  /** Types a path into VS Code's simple file dialog (the quick input) and accepts it. */
  const typePath = async (p, accepted) => {
    await paletteInput.waitFor({ state: 'visible', timeout: 15_000 });
    for (let i = 0; i < 50 && !(await paletteInput.inputValue()).endsWith('/'); i++) await sleep(100);
    let ok = false;
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      await paletteInput.fill(p);
      await sleep(700);
      const button = palette.locator('.monaco-button').first();
      if (await button.isVisible()) await button.click();
      else await page.keyboard.press('Enter');
      ok = await accepted().then(() => true, () => false);
    }
    return ok;
  };
  await runCommand('dpipe: New Pipeline from Model Folder…');
  const promptBox = palette.locator('input');
  check(await typePath(join(workspace, 'models', 'tiny-sd15') + '/', () => palette.locator('.quick-input-message', { hasText: 'prompt' }).first().waitFor({ timeout: 8000 })), 'the folder picker accepted the model folder');
  await promptBox.fill('a red bicycle');
  await page.keyboard.press('Enter');
  const sdTab = page.locator('.tabs-container .tab', { hasText: 'sd15.dpipe' });
  check(await typePath(join(workspace, 'sd15.dpipe'), () => sdTab.first().waitFor({ timeout: 10_000 })), 'the new pipeline was saved as sd15.dpipe and opened');
  const sd = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  const sg = (id) => sd.locator(`[data-testid="${id}"]`);
  await sg('node-prompt').waitFor({ timeout: 60_000 });
  for (const id of ['node-model', 'node-guider', 'node-sched', 'node-solver', 'node-sample', 'node-decode', 'node-image']) check(await sg(id).count() === 1, `the model-folder pipeline has its ${id.slice(5)} block`);
  // Edit the prompt in the graph (a multi-line field: committed when it loses the focus).
  await sg('node-prompt').click();
  const promptField = sd.locator('[data-testid="param-text"] textarea');
  await promptField.waitFor({ timeout: 15_000 });
  check((await promptField.inputValue()) === 'a red bicycle', 'the Prompt block shows the prompt given to the command');
  await promptField.fill('a lighthouse at dusk, oil painting');
  await sg('node-sched').click();
  const sdText = () => readFileSync(join(workspace, 'sd15.dpipe'), 'utf8');
  const sdDirty = async () => (await sdTab.first().getAttribute('class')).split(/\s+/).includes('dirty');
  for (let i = 0; i < 50 && !(await sdDirty()); i++) await sleep(100);
  check(await sdDirty(), 'editing the prompt in the graph changed the document');
  // Fewer steps for the e2e: the scheduler's schedule block.
  const sdSteps = sd.locator('[data-testid="param-steps"] input');
  await sdSteps.fill('12');
  await sdSteps.press('Enter');
  await sleep(300);
  await page.keyboard.press('Control+S');
  for (let i = 0; i < 50 && !/a lighthouse at dusk/.test(sdText()); i++) await sleep(100);
  check(/"text": "a lighthouse at dusk, oil painting"/.test(sdText()), 'saved: the file holds the edited prompt');
  const sdOut = join(workspace, 'dpipe-out');
  await sg('run-button').click();
  await sd.locator('[data-testid="run-progress"][data-phase="done"]').waitFor({ timeout: 120_000 });
  await sg('preview-sample').waitFor({ timeout: 30_000 });
  check(await sg('preview-sample').isVisible(), 'the Sample block shows the live preview of the latent');
  const sdRuns = readdirSync(sdOut).filter((r) => existsSync(join(sdOut, r, 'run.json')));
  check(sdRuns.length === 1, 'the run wrote its folder');
  const sdRec = JSON.parse(readFileSync(join(sdOut, sdRuns[0], 'run.json'), 'utf8'));
  check(sdRec.status === 'completed' && sdRec.nfe === 13, `the model-folder run completed (${sdRec.status}, ${sdRec.nfe} evaluations: PNDM, 12 steps)`);
  check(sdRec.pipeline.nodes.find((n) => n.id === 'prompt').params.text === 'a lighthouse at dusk, oil painting', 'the run used the prompt edited in the graph');
  check(existsSync(join(sdOut, sdRuns[0], 'image.png')) && existsSync(join(sdOut, sdRuns[0], 'latent.npy')), 'the run wrote the decoded image and the final latent');
  check(sdRec.models[0].provider === 'cpu' && /fitted on/.test(sdRec.models[0].preview.source), 'run.json records the provider and the preview projection');
  await sg('node-prompt').click();
  await shot('07c-model-folder-run');
  await sdTab.first().locator('.tab-actions .action-label').first().click();
  await tab.first().click();
  await g('canvas').waitFor({ timeout: 30_000 });

  // ---------------------------------------------------------------------------------------------
  // 8. A file that does not parse: a clear message and "Open as text", never a blank page or a rewrite.
  await openFile('broken.dpipe');
  const broken = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await broken.locator('[data-testid="error-banner"]').waitFor({ timeout: 60_000 });
  const details = await broken.locator('[data-testid="error-details"]').innerText();
  check(/E_JSON/.test(details), `the broken file shows its JSON error (${details.split('\n')[0]})`);
  await shot('08-broken-file');
  await page.locator('.part.statusbar').click({ position: { x: 300, y: 5 } }).catch(() => {});
  await page.keyboard.press('Control+Shift+M');
  const markers = page.locator('.markers-panel');
  await markers.waitFor({ timeout: 15_000 });
  let problemsText = '';
  for (let i = 0; i < 50 && !/E_JSON/.test(problemsText); i++) { problemsText = await markers.innerText(); if (!/E_JSON/.test(problemsText)) await sleep(100); }
  check(/dpipe/.test(problemsText) && /E_JSON/.test(problemsText), 'the Problems panel lists the loader\'s E_JSON problem from source dpipe');
  await shot('08b-problems-panel');
  await broken.locator('[data-testid="open-as-text"]').click();
  await page.locator('.editor-group-container.active .monaco-editor .view-lines', { hasText: '"dpipe": 1' }).waitFor({ timeout: 30_000 });
  check(readFileSync(join(workspace, 'broken.dpipe'), 'utf8') === '{ "dpipe": 1, "nodes": [ { "id": "a", \n', 'the broken file was not rewritten');
  await shot('09-broken-as-text');

  // ---------------------------------------------------------------------------------------------
  // 9. An untrusted workspace: the pipeline opens and can be edited, runs are refused, and the editor says why.
  const userData2 = join(scratch, 'user-data-untrusted');
  mkdirSync(join(userData2, 'User'), { recursive: true });
  writeFileSync(join(userData2, 'User', 'settings.json'), settings('Default Dark Modern').replace('"security.workspace.trust.enabled": false', '"security.workspace.trust.enabled": true'));
  const untrustedArgs = baseArgs.filter((a) => a !== '--disable-workspace-trust').map((a) => (a === userDataDir ? userData2 : a));
  const second = await startServer(untrustedArgs, workspace);
  await page.goto(`http://127.0.0.1:${second.port}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  const noTrust = page.locator('.monaco-dialog-box .monaco-button', { hasText: "No, I don't trust the authors" });
  if (await noTrust.waitFor({ timeout: 20_000 }).then(() => true, () => false)) await noTrust.click();
  let commandsReady = false;
  for (let i = 0; i < 10 && !commandsReady; i++) {
    await openPalette();
    await paletteInput.fill('>dpipe: Run Pipeline');
    commandsReady = await palette.locator('.monaco-list-row', { hasText: 'dpipe: Run Pipeline' }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
    await page.keyboard.press('Escape');
  }
  check(commandsReady, 'in restricted mode the extension is active (limited support for untrusted workspaces)');
  await openFile(EXAMPLE);
  const restricted = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await restricted.locator('[data-testid="node-sample"]').waitFor({ timeout: 60_000 });
  const banner = await restricted.locator('[data-testid="trust-banner"]').innerText();
  check(/not trusted/.test(banner) && /edit/.test(banner), `the editor says why runs are off (${banner.replace(/\s+/g, ' ').slice(0, 90)}…)`);
  check(await restricted.locator('[data-testid="run-button"]').isDisabled().catch(() => false) || (await restricted.locator('[data-testid="run-button"]').getAttribute('disabled')) !== null, 'the Run button is disabled');
  const before = readdirSync(outRoot).length;
  await runCommand('dpipe: Run Pipeline');
  const refused = page.locator('.notifications-toasts .notification-list-item', { hasText: 'was not run' });
  await refused.waitFor({ timeout: 30_000 });
  check(/not trusted/.test(await refused.innerText()), 'Run Pipeline from the palette is refused with the reason');
  await sleep(1000);
  check(readdirSync(outRoot).length === before, 'nothing ran: no new run folder');
  await shot('12-untrusted');

  // Every other command that loads a model is refused by its own handler, whatever calls it: the palette, and the
  // inspector's Reference… button (a webview calls executeCommand, which a command's `enablement` does not stop).
  const referenceFiles = () => readdirSync(outRoot).filter((r) => existsSync(join(outRoot, r, 'reference.json')));
  const referencesBefore = referenceFiles().length;
  const refusedToast = (what) => page.locator('.notifications-toasts .notification-list-item', { hasText: `dpipe: ${what} was not run` });
  for (const [label, what] of [['dpipe: Run with Seed…', 'Run with Seed'], ['dpipe: Run and Compare with…', 'Run and Compare'], ['dpipe: Compute Reference Error…', 'Compute Reference'], ['dpipe: Sweep: Error vs NFE…', 'Sweep']]) {
    await runCommand('Notifications: Clear All Notifications').catch(() => {});
    await runCommand(label);
    await refusedToast(what).first().waitFor({ timeout: 30_000 });
    check(/not trusted/.test(await refusedToast(what).first().innerText()), `${label} from the palette is refused with the reason`);
    await page.keyboard.press('Escape');
  }
  await runCommand('Notifications: Clear All Notifications').catch(() => {});
  await runCommand('dpipe: Open Latent Inspector');
  const restrictedInspector = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
  await restrictedInspector.locator('[data-testid="cmd-reference"]').waitFor({ timeout: 60_000 });
  check(true, 'the inspector opens a run inside the workspace in restricted mode (it only reads files)');
  await restrictedInspector.locator('[data-testid="cmd-reference"]').click();
  await refusedToast('Compute Reference').first().waitFor({ timeout: 30_000 });
  check(true, "the inspector's Reference… button is refused by the command's handler (executeCommand bypasses enablement)");
  await sleep(1500);
  check(readdirSync(outRoot).length === before, 'nothing ran: still no new run folder');
  check(referenceFiles().length === referencesBefore, 'nothing was written: no reference.json');
  const restrictedLog = extensionLog(userData2);
  check(/NOT trusted/.test(restrictedLog) && !/inspector: dpipe (reference|sweep)|runner: forked/.test(restrictedLog), 'no runner, reference or sweep process was started in the restricted window (its log has none)');
  await shot('13-untrusted-refused');

  check(pageErrors.length === 0, `no page errors (${pageErrors.join(' | ')})`);
  check(cspViolations.length === 0, `no Content Security Policy violations (${cspViolations.slice(0, 3).join(' | ')})`);
  log('blocked non-loopback hosts:', [...blocked].join(', ') || 'none');
  log('PASS');
} catch (e) {
  failed = true;
  console.error('FAIL:', e?.stack ?? e);
  try { if (page) await page.screenshot({ path: join(SHOTS, 'zz-failure.png') }); } catch { /* no page */ }
  console.error('--- dpipe extension log (tail) ---\n' + extensionLog().slice(-6000));
  console.error('--- code-server output (tail) ---\n' + serverOut.slice(-3000));
} finally {
  clearTimeout(hardStop);
  await cleanup();
}
process.exit(failed ? 1 : 0);
