/**
 * The graph editor in a real browser (Debian's chromium via playwright-core) against a stand-in for VS Code's
 * webview API. The stand-in host applies the ops the webview sends with the engine's graph module, so every
 * assertion below is about the DOCUMENT TEXT the host ends up with, or about what the user sees.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { PipelineDoc } from '../../src/engine/format/types';
import { parseNpy } from '../../src/engine/core/npy';
import { registryInfo } from '../../src/engine/registry';
import type { ToHost } from '../../src/protocol/editor';
import { CHROMIUM, FakeHost, buildEditorBundle, launch, serve, type Browser, type Served } from './harness';
import { encodeGreyPng, pngDataUri } from './png';

const FIXTURES = path.join(__dirname, 'fixtures');
/** Screenshots go to test-results/webview/; with DPIPE_UPDATE_SCREENSHOTS=1 also to docs/img/ (the README's). */
const SHOTS = path.resolve(__dirname, '../../test-results/webview');
const README_SHOTS = path.resolve(__dirname, '../../docs/img');

async function screenshot(page: Page, name: string): Promise<void> {
  await page.mouse.move(1, 1);
  await page.waitForTimeout(100);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name) });
  if (process.env.DPIPE_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(README_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(README_SHOTS, name) });
  }
}
const ORIGINAL = readFileSync(path.join(FIXTURES, 'unplaced.dpipe'), 'utf8');

const tid = (id: string) => `[data-testid="${id}"]`;

function docOf(host: FakeHost): PipelineDoc {
  const d = host.load(host.text).doc as PipelineDoc | null;
  assert.ok(d, `the host's text does not load:\n${host.text}`);
  return d;
}

function node(host: FakeHost, id: string) {
  const n = docOf(host).nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} is not in the text`);
  return n;
}

function hasEdge(host: FakeHost, from: string, to: string): boolean {
  return docOf(host).edges.some((e) => e.from === from && e.to === to);
}

/** Pixels of the digit fixture mixed with deterministic noise: what a run's x̂0 looks like at noise level t. */
function previewPng(t: number): string {
  const digit = parseNpy(readFileSync(path.join(FIXTURES, 'digit3.npy')));
  let s = 12345;
  const px = Array.from(digit.data, (v) => {
    s = (s * 1103515245 + 12345) >>> 0;
    const noise = (s / 2 ** 32) * 2 - 1;
    return ((1 - t) * v + t * noise + 1) * 127.5;
  });
  return pngDataUri(encodeGreyPng(32, 32, px));
}

async function center(page: Page, testId: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(tid(testId)).boundingBox();
  assert.ok(box, `${testId} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags a wire from one port to another, as a user does. */
async function drag(page: Page, fromId: string, toId: string): Promise<void> {
  const a = await center(page, fromId);
  const b = await center(page, toId);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
}

/** A point of the canvas (relative to it) where a 260×200 block would overlap no node and no overlay. */
async function emptySpot(page: Page): Promise<{ x: number; y: number }> {
  const canvas = (await page.locator(tid('canvas')).boundingBox())!;
  const boxes = await page.locator('.react-flow__node, .react-flow__minimap, .react-flow__controls, .react-flow__panel').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height };
    }),
  );
  for (let y = 20; y < canvas.height - 150; y += 20) {
    for (let x = 20; x < canvas.width - 230; x += 20) {
      const ax = canvas.x + x;
      const ay = canvas.y + y;
      if (!boxes.some((b) => ax < b.x + b.w + 10 && ax + 230 > b.x - 10 && ay < b.y + b.h + 10 && ay + 150 > b.y - 10)) return { x, y };
    }
  }
  throw new Error('no empty spot on the canvas');
}

/** Waits until the in-memory auto-layout is drawn: data flows left to right (model, sample, image output). */
async function untilLaidOut(page: Page): Promise<void> {
  const x = async (id: string) => (await page.locator(tid(`node-${id}`)).boundingBox())?.x ?? NaN;
  for (let i = 0; i < 50; i++) {
    if ((await x('model')) < (await x('sample')) && (await x('sample')) < (await x('image'))) return;
    await page.waitForTimeout(100);
  }
  throw new Error('the graph was not laid out left to right within 5 s');
}

async function select(page: Page, nodeId: string, modifiers: ('Control' | 'Shift')[] = []): Promise<void> {
  await page.locator(`${tid(`node-${nodeId}`)} .dp-node-title`).click({ modifiers });
}

async function setField(page: Page, name: string, value: string): Promise<void> {
  const input = page.locator(`${tid(`param-${name}`)} input`);
  await input.fill(value);
  await input.press('Enter');
}

describe('graph editor webview (chromium)', function () {
  this.timeout(60_000);
  let bundle: string;
  let served: Served;
  let browser: Browser;
  let host: FakeHost;
  let page: Page;
  const registry = registryInfo();

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    bundle = mkdtempSync(path.join(tmpdir(), 'dpipe-editor-bundle-'));
    await buildEditorBundle(bundle);
    served = await serve(bundle);
    browser = await launch();
    host = new FakeHost({ registry, text: ORIGINAL });
    page = await host.open(browser.context, served.url, 'dark');
    await page.waitForSelector(tid('node-sample'));
  });

  afterEach(async function () {
    // A failing step leaves a picture of the page behind for whoever debugs it.
    if (this.currentTest?.state === 'failed' && page) {
      const dir = path.join(tmpdir(), 'dpipe-webview-failures');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${this.currentTest.title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.error(`    screenshot of the failure: ${file}`);
    }
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    if (bundle) rmSync(bundle, { recursive: true, force: true });
  });

  it('lays out a file without positions in memory: opening it edits nothing', async () => {
    // Drawn left to right by the in-memory auto-layout: the model left of the sample node, left of the output.
    await untilLaidOut(page);
    await page.waitForTimeout(500);
    assert.equal(host.received.filter((m) => m.type === 'applyOps').length, 0, 'opening the file sent an edit');
    assert.equal(host.history.length, 0);
    assert.equal(host.text, ORIGINAL);
    // The missing sigmas input is shown on the node and in the banner.
    assert.match(await page.locator(tid('node-problem-sample')).getAttribute('title') ?? '', /E_INPUT_MISSING.*sigmas/);
    await page.waitForSelector(tid('problems-banner'));
  });

  it('moving a node of a file without positions writes every shown position in that one edit', async () => {
    const h = new FakeHost({ registry, text: ORIGINAL });
    const p = await h.open(browser.context, served.url, 'dark');
    await p.waitForSelector(tid('node-sample'));
    await untilLaidOut(p);
    await p.waitForTimeout(300);
    const ids = docOf(h).nodes.map((n) => n.id);
    const boxes = new Map<string, { x: number; y: number }>();
    for (const id of ids) boxes.set(id, (await p.locator(tid(`node-${id}`)).boundingBox())!);
    const zoom = Number(/scale\(([\d.]+)\)/.exec((await p.locator('.react-flow__viewport').getAttribute('style')) ?? '')?.[1]);
    assert.ok(zoom > 0, 'no zoom in the viewport transform');
    const title = (await p.locator(`${tid('node-noise')} .dp-node-title`).boundingBox())!;
    await p.mouse.move(title.x + 20, title.y + title.height / 2);
    await p.mouse.down();
    await p.mouse.move(title.x + 20, title.y + title.height / 2 + 40, { steps: 4 });
    await p.mouse.move(title.x + 20, title.y + title.height / 2 + 80, { steps: 4 });
    await p.mouse.up();
    await h.waitForEdits(1);
    await p.waitForTimeout(300);
    const moved = (await p.locator(tid('node-noise')).boundingBox())!;
    assert.ok(moved.y - boxes.get('noise')!.y > 40, `the node did not move down (${boxes.get('noise')!.y} → ${moved.y})`);
    boxes.set('noise', moved);
    assert.equal(h.history.length, 1);
    assert.equal(h.history[0].label, 'Move node');
    assert.deepEqual(h.history[0].ops.map((o) => o.op), ['moveNodes']);
    const pos = new Map(docOf(h).nodes.map((n) => [n.id, n.position!]));
    for (const id of ids) assert.ok(pos.get(id), `${id} got no position`);
    // Every node is saved where it is drawn (relative to the model node): the moved one and all the others.
    const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1.5, `${what}: ${a} vs ${b}`);
    const m = pos.get('model')!;
    const bm = boxes.get('model')!;
    for (const id of ids) {
      const q = pos.get(id)!;
      const b = boxes.get(id)!;
      near(q.x - m.x, (b.x - bm.x) / zoom, `${id}.x`);
      near(q.y - m.y, (b.y - bm.y) / zoom, `${id}.y`);
    }
    // Only positions were added to the text.
    assert.equal(h.text.replace(/, "position": \{ "x": -?\d+, "y": -?\d+ \}/g, ''), ORIGINAL);
    assert.deepEqual(h.errors, []);
    await p.close();
  });

  it('builds the palette from the registry, with search, and adds blocks by click and by drag', async () => {
    for (const b of registry) assert.equal(await page.locator(tid(`palette-item-${b.type}`)).count(), 1, `palette lacks ${b.type}`);
    await page.locator(`${tid('palette-search')} input`).fill('karras');
    assert.equal(await page.locator(tid('palette-item-schedule.karras')).count(), 1);
    assert.equal(await page.locator(tid('palette-item-solver.euler')).count(), 0);
    await page.locator(`${tid('palette-search')} input`).fill('');

    await page.locator(tid('palette-item-solver.dpmpp_2m')).click();
    await host.waitForEdits(1);
    // The first edit that writes a position also writes the shown positions of every node the file did not place.
    assert.match(host.history[0].label, /^Add /);
    assert.deepEqual(host.history[0].ops.map((o) => o.op), ['moveNodes', 'addNode']);
    const place = host.history[0].ops[0];
    assert.ok(place.op === 'moveNodes');
    const moves = place.moves.map((mv) => mv.id);
    assert.deepEqual(moves.sort(), docOf(new FakeHost({ registry, text: ORIGINAL })).nodes.map((n) => n.id).sort());
    const doc = docOf(host);
    for (const n of doc.nodes) assert.ok(n.position && Number.isInteger(n.position.x) && Number.isInteger(n.position.y), `${n.id} got no position`);
    const keys = new Set(doc.nodes.map((n) => `${n.position!.x},${n.position!.y}`));
    assert.equal(keys.size, doc.nodes.length, 'two nodes share a position');
    // Saved as laid out: data flows left to right.
    assert.ok(node(host, 'model').position!.x < node(host, 'sample').position!.x);
    assert.ok(node(host, 'sample').position!.x < node(host, 'image').position!.x);
    // Besides the positions, the text only gained the new node.
    const withoutAdded = host.text.replace(/,\n {4}\{\n {6}"id": "dpmpp_2m",[\s\S]*?\n {4}\}(?=\n {2}\])/, '');
    assert.equal(withoutAdded.replace(/, "position": \{ "x": -?\d+, "y": -?\d+ \}/g, ''), ORIGINAL);
    const added = node(host, 'dpmpp_2m');
    assert.equal(added.type, 'solver.dpmpp_2m');
    assert.deepEqual(added.params, {});
    assert.ok(added.position && Number.isInteger(added.position.x));
    await page.waitForSelector(tid('node-dpmpp_2m'));
    // The new node is selected, so the inspector shows it.
    assert.match(await page.locator(tid('inspector-title')).innerText(), /dpmpp_2m · solver\.dpmpp_2m/);

    await page.locator('.react-flow__controls-zoomout').click();
    await page.locator('.react-flow__controls-zoomout').click();
    await page.locator(tid('palette-item-schedule.exponential')).dragTo(page.locator(tid('canvas')), { targetPosition: await emptySpot(page) });
    await host.waitForEdits(2);
    assert.deepEqual(host.history[1].ops.map((o) => o.op), ['addNode'], 'a placed file gets no extra move');
    assert.equal(node(host, 'exponential').type, 'schedule.exponential');
    await page.waitForSelector(tid('node-exponential'));
  });

  it('connects typed ports, replaces an input’s edge, and refuses a wrong type with the reason', async () => {
    await page.locator(tid('fit-button')).click();
    await page.waitForTimeout(300);
    await drag(page, 'port-sched-out-sigmas', 'port-sample-in-sigmas');
    await host.waitForEdits(3);
    assert.match(host.text, /\{ "from": "sched\.sigmas", "to": "sample\.sigmas" \}/);
    await page.waitForSelector(tid('problems-banner'), { state: 'detached' });

    await drag(page, 'port-dpmpp_2m-out-sampler', 'port-sample-in-sampler');
    await host.waitForEdits(4);
    assert.ok(hasEdge(host, 'dpmpp_2m.sampler', 'sample.sampler'));
    assert.ok(!hasEdge(host, 'solver.sampler', 'sample.sampler'), 'the old edge into sample.sampler was kept');
    assert.equal(docOf(host).edges.filter((e) => e.to === 'sample.sampler').length, 1);

    const before = host.received.filter((m) => m.type === 'applyOps').length;
    await drag(page, 'port-exponential-out-sigmas', 'port-sample-in-noise');
    const toast = page.locator(tid('toast'));
    await toast.waitFor();
    const reason = await toast.innerText();
    assert.match(reason, /Cannot connect/);
    assert.match(reason, /exponential\.sigmas gives SIGMAS but sample\.noise takes NOISE/);
    await page.waitForTimeout(200);
    assert.equal(host.received.filter((m) => m.type === 'applyOps').length, before, 'a refused connection reached the host');
    assert.ok(!hasEdge(host, 'exponential.sigmas', 'sample.noise'));
  });

  it('edits parameters with the right control for each type, validating before anything is sent', async () => {
    await select(page, 'sched');
    assert.match(await page.locator(tid('inspector-title')).innerText(), /sched · schedule\.karras/);
    assert.match(await page.locator(tid('inspector-paper')).innerText(), /Karras/);
    const edits = host.history.length;
    await setField(page, 'steps', '0');
    assert.match(await page.locator(tid('param-steps-error')).innerText(), /must be an integer in \[1, 10000\], got 0/);
    await page.waitForTimeout(150);
    assert.equal(host.history.length, edits, 'an invalid value was sent');
    await setField(page, 'steps', '32');
    await host.waitForEdits(edits + 1);
    assert.equal(node(host, 'sched').params.steps, 32);
    assert.match(host.text, /"id": "sched", "type": "schedule\.karras", "params": \{ "steps": 32 \}/);
    await page.waitForSelector(tid('param-steps-error'), { state: 'detached' });
    await setField(page, 'rho', '7.5');
    await host.waitForEdits(edits + 2);
    assert.equal(node(host, 'sched').params.rho, 7.5);

    // enum: a single-select
    await page.locator(tid('param-final')).click();
    const spec = registry.find((b) => b.type === 'schedule.karras')!.params.find((p) => p.name === 'final') as unknown as { options: string[]; default: string };
    const choice = spec.options.find((o) => o !== spec.default)!;
    await page.locator(`${tid('param-final')} li[role="option"]`).filter({ hasText: new RegExp(`^\\s*${choice}\\s*$`) }).click();
    await host.waitForEdits(edits + 3);
    assert.equal(node(host, 'sched').params.final, choice);

    // seed: randomize with crypto.getRandomValues
    await select(page, 'noise');
    await page.locator(tid('param-seed-randomize')).click();
    await host.waitForEdits(edits + 4);
    const seed = node(host, 'noise').params.seed as number;
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 && seed !== 42, `seed ${seed}`);

    // file: picked through the host (a request with an id, answered by a response)
    host.onRequest = (method, params) => (method === 'pickFile' ? { path: 'models/other.onnx', echo: params } : undefined);
    await select(page, 'model');
    await page.locator(tid('param-path-browse')).click();
    const req = (await host.waitFor((m) => m.type === 'request', 3000, true)) as Extract<ToHost, { type: 'request' }>;
    assert.equal(req.method, 'pickFile');
    assert.deepEqual((req.params as { extensions: string[] }).extensions, ['.onnx']);
    await host.waitForEdits(edits + 5);
    assert.equal(node(host, 'model').params.path, 'models/other.onnx');

    // boolean: a checkbox
    await select(page, 'sample');
    await page.locator(tid('param-addNoise')).click();
    await host.waitForEdits(edits + 6);
    assert.equal(node(host, 'sample').params.addNoise, false);
  });

  it('copies and pastes a sub-graph with fresh ids and its internal edge, and deletes it again', async () => {
    const textBefore = host.text;
    const edits = host.history.length;
    await select(page, 'model');
    await select(page, 'sched', ['Control']);
    await page.keyboard.press('Control+C');
    await page.keyboard.press('Control+V');
    await host.waitForEdits(edits + 1);
    const doc = docOf(host);
    const m2 = doc.nodes.find((n) => n.id === 'model_2');
    const s2 = doc.nodes.find((n) => n.id === 'sched_2');
    assert.ok(m2 && s2, `pasted ids: ${doc.nodes.map((n) => n.id).join(', ')}`);
    assert.deepEqual(s2.params, node(host, 'sched').params);
    assert.deepEqual(m2.params, node(host, 'model').params);
    assert.deepEqual({ x: s2.position!.x - node(host, 'sched').position!.x, y: s2.position!.y - node(host, 'sched').position!.y }, { x: 40, y: 40 });
    assert.ok(hasEdge(host, 'model_2.model', 'sched_2.model'), 'the internal edge was not pasted');
    assert.equal(doc.edges.filter((e) => e.from.startsWith('model_2.') || e.to.startsWith('sched_2.')).length, 1, 'edges to outside nodes were pasted');
    // The pasted nodes are the selection: Delete removes exactly them and the text is back to what it was.
    await page.waitForSelector(`.react-flow__node.selected ${tid('node-sched_2')}`);
    await page.keyboard.press('Delete');
    await host.waitForEdits(edits + 2);
    assert.deepEqual(host.history.at(-1)!.ops, [{ op: 'removeNodes', ids: ['model_2', 'sched_2'] }]);
    assert.equal(host.text, textBefore);
  });

  it('keyboard: Ctrl+A selects all, Esc clears, Ctrl+D duplicates, F fits the view', async () => {
    const count = docOf(host).nodes.length;
    await page.locator(tid('canvas')).click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+A');
    assert.equal(await page.locator('.react-flow__node.selected').count(), count);
    assert.match(await page.locator(tid('inspector-empty')).innerText(), new RegExp(`${count} nodes selected`));
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.react-flow__node.selected').count(), 0);

    const edits = host.history.length;
    await select(page, 'noise');
    await page.keyboard.press('Control+D');
    await host.waitForEdits(edits + 1);
    assert.deepEqual(node(host, 'noise_2').params, node(host, 'noise').params);
    await page.waitForSelector(`.react-flow__node.selected ${tid('node-noise_2')}`);
    await page.keyboard.press('Delete');
    await host.waitForEdits(edits + 2);
    assert.ok(!docOf(host).nodes.some((n) => n.id === 'noise_2'));

    const transform = () => page.locator('.react-flow__viewport').getAttribute('style');
    await page.keyboard.press('f');
    await page.waitForTimeout(300);
    const fitted = await transform();
    await page.locator('.react-flow__controls-zoomin').click();
    await page.waitForTimeout(300);
    assert.notEqual(await transform(), fitted);
    await page.locator(tid('canvas')).click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('f');
    await page.waitForTimeout(300);
    assert.equal(await transform(), fitted);
  });

  it('runs: shows the latest x̂0 preview with step and σ, acknowledges it, then the outputs; a click opens the file', async () => {
    await page.locator(tid('run-compare-button')).click();
    await host.waitFor((m) => m.type === 'command' && m.command === 'runAndCompare', 3000, true);
    await page.locator(tid('run-button')).click();
    await host.waitFor((m) => m.type === 'command' && m.command === 'run', 3000, true);
    await host.post({ type: 'runState', phase: 'running', runId: 'r1', nodeId: 'sample', nfeDone: 3, nfeTotal: 32, step: 2, sigma: 14.6 });
    const first = previewPng(0.8);
    await host.post({ type: 'preview', runId: 'r1', seq: 1, nodeId: 'sample', index: 2, step: 2, sigma: 14.6, width: 32, height: 32, image: first });
    await host.waitFor((m) => m.type === 'previewAck' && m.seq === 1, 3000, true);
    assert.equal(await page.locator(tid('preview-sample')).getAttribute('src'), first);
    assert.match(await page.locator(tid('preview-caption-sample')).innerText(), /step 3 · σ = 14\.6/);
    assert.match(await page.locator(tid('run-status')).innerText(), /3\/32 NFE/);
    await page.locator(tid('stop-button')).click();
    await host.waitFor((m) => m.type === 'command' && m.command === 'stop', 3000, true);

    const second = previewPng(0.15);
    await host.post({ type: 'runState', phase: 'running', runId: 'r1', nodeId: 'sample', nfeDone: 28, nfeTotal: 32, step: 27, sigma: 0.0421 });
    await host.post({ type: 'preview', runId: 'r1', seq: 2, nodeId: 'sample', index: 27, step: 27, sigma: 0.0421, width: 32, height: 32, image: second });
    await host.waitFor((m) => m.type === 'previewAck' && m.seq === 2, 3000, true);
    assert.equal(await page.locator(tid('preview-sample')).getAttribute('src'), second);
    assert.match(await page.locator(tid('preview-caption-sample')).innerText(), /step 28 · σ = 0\.0421/);

    const outImage = previewPng(0);
    await host.post({
      type: 'runFinished',
      runId: 'r1',
      ok: true,
      stopped: false,
      outputs: [
        { nodeId: 'image', kind: 'png', path: '/work/dpipe-out/2026/digits-0.png', uri: outImage },
        { nodeId: 'image', kind: 'png', path: '/work/dpipe-out/2026/digits-1.png', uri: outImage },
        { nodeId: 'image', kind: 'png', path: '/work/dpipe-out/2026/digits-grid.png', uri: outImage },
      ],
      nfe: 32,
      ms: 1234,
    });
    await page.waitForSelector(tid('output-image-image-0'));
    // Per-item images plus a grid: the node shows only the grid, and counts the images.
    assert.equal(await page.locator(`${tid('outputs-image')} img`).count(), 1);
    assert.match(await page.locator(tid('outputs-image')).innerText(), /32 NFE · 1\.23 s · 3 images/);
    assert.match(await page.locator(tid('run-status')).innerText(), /Done · 32 NFE/);
    await page.waitForSelector(tid('run-button'));
    await page.locator(tid('output-image-image-0')).click();
    const open = await host.waitFor((m) => m.type === 'openFile', 3000, true);
    assert.deepEqual(open, { type: 'openFile', path: '/work/dpipe-out/2026/digits-grid.png' });

    await select(page, 'sample');
  });

  it('keeps the viewport and selection when the text changes underneath (an edit in a text editor)', async () => {
    const transform = () => page.locator('.react-flow__viewport').getAttribute('style');
    const t0 = await transform();
    await host.setText(host.text.replace('"scale": 3', '"scale": 4.5'));
    await page.waitForFunction(() => document.querySelector('[data-testid="node-guider"]')?.textContent?.includes('scale = 4.5'));
    assert.equal(await transform(), t0);
    assert.match(await page.locator(tid('inspector-title')).innerText(), /sample · sample/);
  });

  it('in an untrusted workspace says why runs are disabled', async () => {
    await host.post({ type: 'trust', trusted: false, untrustedReason: 'This folder is not trusted.' });
    const banner = page.locator(tid('trust-banner'));
    assert.match(await banner.innerText(), /runs are disabled.*not trusted/is);
    assert.equal(await page.locator(tid('run-button')).evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
    assert.equal(await page.locator(tid('run-compare-button')).isDisabled(), true);
    await host.post({ type: 'trust', trusted: true });
    await page.waitForSelector(tid('trust-banner'), { state: 'detached' });
  });

  it('shows a text that does not parse as a located error with “Open as text”, then recovers', async () => {
    const good = host.text;
    await host.setText('{\n  "dpipe": 1,\n  "nodes": [\n    { "id": "a", \n');
    const banner = page.locator(tid('error-banner'));
    await banner.waitFor();
    assert.match(await page.locator(tid('error-details')).innerText(), /test\.dpipe:\d+:\d+: \[E_JSON\]/);
    await page.locator(tid('open-as-text')).click();
    await host.waitFor((m) => m.type === 'command' && m.command === 'openAsText', 3000, true);
    await host.setText(good);
    await page.waitForSelector(tid('node-sample'));
    assert.equal(await banner.count(), 0);
    assert.deepEqual(host.errors, [], 'page errors or CSP violations');
    assert.deepEqual(browser.blocked, [], 'the page tried to reach the network');
  });

  /** The README's pictures: a complete pipeline, laid out by the editor, during and after a run. */
  let laidOut = '';
  it('renders the dark theme during a run (screenshot)', async () => {
    const complete = ORIGINAL.replace(
      '{ "from": "guider.guider", "to": "sample.guider" },',
      '{ "from": "guider.guider", "to": "sample.guider" },\n    { "from": "sched.sigmas", "to": "sample.sigmas" },',
    );
    const dark = new FakeHost({ registry, text: complete });
    const p = await dark.open(browser.context, served.url, 'dark');
    await p.waitForSelector(tid('node-sample'));
    await untilLaidOut(p);
    assert.equal(dark.history.length, 0, 'opening the file edited it');
    // An explicit Auto-layout writes the positions: one undoable edit.
    await p.locator(tid('layout-button')).click();
    await dark.waitForEdits(1);
    assert.equal(dark.history[0].label, 'Auto-layout');
    assert.deepEqual(dark.history[0].ops.map((o) => o.op), ['moveNodes']);
    laidOut = dark.text;
    assert.ok(docOf(dark).nodes.every((n) => n.position), 'Auto-layout left a node unplaced');
    assert.equal(await p.locator(tid('problems-banner')).count(), 0);
    await dark.post({ type: 'runState', phase: 'running', runId: 'r1', nodeId: 'sample', nfeDone: 13, nfeTotal: 20, step: 12, sigma: 1.73 });
    await dark.post({ type: 'preview', runId: 'r1', seq: 1, nodeId: 'sample', index: 12, step: 12, sigma: 1.73, width: 32, height: 32, image: previewPng(0.35) });
    await dark.waitFor((m) => m.type === 'previewAck', 3000, true);
    await select(p, 'guider');
    await p.locator(tid('fit-button')).click();
    await p.waitForTimeout(400);
    await screenshot(p, 'editor-dark.png');
    assert.deepEqual(dark.errors, []);
    await p.close();
  });

  it('renders the light theme after a run, and does not edit a placed file on open (screenshot)', async () => {
    const light = new FakeHost({ registry, text: laidOut });
    const p = await light.open(browser.context, served.url, 'light');
    await p.waitForSelector(tid('node-sample'));
    await light.post({ type: 'runState', phase: 'running', runId: 'r2', nodeId: 'sample', nfeDone: 19, nfeTotal: 20, step: 19, sigma: 0.0021 });
    await light.post({ type: 'preview', runId: 'r2', seq: 1, nodeId: 'sample', index: 19, step: 19, sigma: 0.0021, width: 32, height: 32, image: previewPng(0.02) });
    await light.post({ type: 'runFinished', runId: 'r2', ok: true, stopped: false, outputs: [{ nodeId: 'image', kind: 'png', path: '/tmp/digits.png', uri: previewPng(0) }], nfe: 20, ms: 412 });
    await p.waitForSelector(tid('output-image-image-0'));
    await select(p, 'sched');
    await p.locator(tid('fit-button')).click();
    await p.waitForTimeout(400);
    await screenshot(p, 'editor-light.png');
    assert.equal(light.history.length, 0, 'a fully placed file must not be edited on open');
    assert.deepEqual(light.errors, []);
    await p.close();
  });
});
