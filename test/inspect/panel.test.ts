/**
 * The Latent Inspector panel in headless Chromium (Debian's chromium via playwright-core) on recorded runs of the
 * demo model (exact Gaussian-mixture MNIST denoiser, CFG), driven against the real host session: scrub, toggle
 * planes, drop stale frame requests, export, compare two runs, error against a reference, the sweep chart.
 * Screenshots go to docs/img/inspector-*.png.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import type { Page } from 'playwright-core';
import { parseNpy } from '../../src/engine/core/npy';
import { loadPipelineFile } from '../../src/engine/format/index';
import { errorPlotBySigma } from '../../src/engine/inspect/errorseries';
import { fmt } from '../../webview/inspector/ImageView';
import { alignBySigma, alignedDistances, referenceForRun, renderView, stepPng, sweep, TrajectoryReader, zoomRgba, type ViewOptions } from '../../src/engine/inspect/index';
import { runPipeline } from '../../src/engine/run/index';
import { launch, type Browser } from '../webview/harness';
import { buildInspectorBundle, PanelHost, serveInspector, type Served } from './browser';
import { gaussPipeline } from '../run/helpers';
import { gaussServices, loadDoc, tmpDir } from './helpers';

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'docs/img');

async function recordRun(out: string, solver: string, steps: number): Promise<string> {
  const file = path.join(ROOT, 'examples/cfg.dpipe');
  const doc = loadPipelineFile(file).doc!;
  const d2 = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'solver' ? { ...n, type: solver, params: {} } : n)) };
  await runPipeline(d2, { baseDir: path.dirname(file), outDir: out, batch: 4, set: [{ node: 'sched', param: 'steps', value: steps }, { node: 'label', param: 'labels', value: [3, 5, 7, 9] }] });
  return out;
}

async function canvasPixels(page: Page, testId: string): Promise<{ width: number; height: number; data: number[] }> {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    return { width: c.width, height: c.height, data: Array.from(d.data) };
  }, testId);
}

async function waitText(page: Page, testId: string, re: RegExp, timeout = 5000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const t = (await page.locator(`[data-testid="${testId}"]`).first().textContent().catch(() => '')) ?? '';
    if (re.test(t)) return t;
    if (Date.now() - t0 > timeout) throw new Error(`${testId}: "${t}" does not match ${re}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function expectCanvas(page: Page, testId: string, data: Float32Array, shape: readonly number[], view: ViewOptions): Promise<void> {
  const want = renderView(data, shape, 'grid', view);
  const t0 = Date.now();
  for (;;) {
    const got = await canvasPixels(page, testId).catch(() => undefined);
    if (got && got.width === want.width && got.height === want.height && got.data.every((v, k) => v === want.data[k])) return;
    if (Date.now() - t0 > 5000) {
      const bad = got ? got.data.findIndex((v, k) => v !== want.data[k]) : -1;
      throw new Error(`${testId}: canvas ${got?.width}×${got?.height} differs from the expected ${want.width}×${want.height} (first difference at byte ${bad})`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe('inspect/panel in headless Chromium', function () {
  this.timeout(120_000);
  let bundle: string;
  let served: Served;
  let browser: Browser;
  let runA: string;
  let runB: string;
  const hosts: PanelHost[] = [];

  before(async () => {
    const dir = tmpDir('inspector-panel');
    bundle = path.join(dir, 'bundle');
    await buildInspectorBundle(bundle);
    runA = await recordRun(path.join(dir, 'dpmpp'), 'solver.dpmpp_2m', 12);
    runB = await recordRun(path.join(dir, 'euler'), 'solver.euler', 20);
    served = await serveInspector(bundle);
    browser = await launch();
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const h of hosts) h.session.dispose();
    await browser?.close();
    await served?.close();
  });

  function panel(readers: TrajectoryReader[], frameDelayMs = 0): PanelHost {
    const h = new PanelHost(readers, { exportDir: path.join(tmpDir('inspector-export')), frameDelayMs });
    hosts.push(h);
    return h;
  }

  it('opens a run: timeline, plots and x̂0 drawn exactly as render.ts draws it; scrubs with the keyboard and the slider', async () => {
    const reader = TrajectoryReader.open(runA);
    const h = panel([reader]);
    const page = await h.open(browser.context, served.url);
    await waitText(page, 'inspector-title', /Classifier-free guidance/);
    const n = reader.length;
    assert.equal(n, 12);
    await waitText(page, 'position', /^eval 0 · step 0/);
    const fixed: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } };
    await expectCanvas(page, 'image-a-canvas', reader.plane(0, 'denoised'), reader.shapeOf(0), fixed);
    await page.keyboard.press('End');
    await waitText(page, 'position', new RegExp(`^eval ${n - 1} `));
    await page.keyboard.press('ArrowLeft');
    await waitText(page, 'position', new RegExp(`^eval ${n - 2} `));
    await expectCanvas(page, 'image-a-canvas', reader.plane(n - 2, 'denoised'), reader.shapeOf(0), fixed);
    await page.locator('[data-testid="slider"]').fill('5');
    await waitText(page, 'position', /^eval 5 · step 5 · σ /);
    await waitText(page, 'detail-sigma', new RegExp(reader.evals[5].sigma.toFixed(4).slice(0, 5)));
    // The model's time input (a discrete-time model: the fractional timestep it was fed), in the details and timeline.
    const t5 = reader.evals[5].timestep;
    assert.ok(typeof t5 === 'number' && t5 > 0 && t5 < 999, `recorded timestep ${t5}`);
    const t5Text = (Number.isInteger(t5) ? String(t5) : t5.toFixed(4)).replace('.', '\\.');
    await waitText(page, 'detail-timestep', new RegExp(`^${t5Text}$`));
    await waitText(page, 'position', new RegExp(`^eval 5 · step 5 · σ \\S+ · t ${t5Text} · predictor`));
    await expectCanvas(page, 'image-a-canvas', reader.plane(5, 'denoised'), reader.shapeOf(0), fixed);
    const reqs = h.frameRequests();
    assert.ok(reqs.some((r) => r.i === n - 2 && r.planes.join() === 'denoised'));
    for (const id of ['chart-sigma', 'chart-norm', 'chart-ddenoised', 'chart-h']) assert.equal(await page.locator(`[data-testid="${id}"] canvas`).count(), 1, id);
    // the stats the host sent are the engine's
    const stats = h.toWebview.filter((m) => m.type === 'stats').pop()!;
    assert.equal(stats.type === 'stats' && stats.done, n);
    // hover shows the value under the cursor: item 0, pixel (0, 0)
    const box = (await page.locator('[data-testid="image-a-canvas"]').boundingBox())!;
    const z = box.width / renderView(reader.plane(5, 'denoised'), reader.shapeOf(0), 'grid', fixed).width;
    await page.mouse.move(box.x + (2 + 0.5) * z, box.y + (2 + 0.5) * z);
    const hover = await waitText(page, 'image-a-hover', /item 0 \(x 0, y 0\)/);
    assert.ok(hover.includes(`c0 ${reader.plane(5, 'denoised')[0].toFixed(4)}`), hover);
    await page.screenshot({ path: path.join(SHOTS, 'inspector-run-dark.png') });
    assert.deepEqual(h.errors, []);
  });

  it('toggles x_t, x̂0 and ε̂ (and the CFG branches), each drawn with its own default range', async () => {
    const reader = TrajectoryReader.open(runA);
    const h = panel([reader]);
    const page = await h.open(browser.context, served.url, 'light');
    await waitText(page, 'position', /^eval 0 /);
    await page.locator('[data-testid="slider"]').fill('3');
    await waitText(page, 'position', /^eval 3 /);
    const shape = reader.shapeOf(3);
    const s = reader.evals[3].sigma;
    await page.click('[data-testid="plane-x"]');
    await expectCanvas(page, 'image-a-canvas', reader.plane(3, 'x'), shape, { channels: 'auto', range: { mode: 'fixed', lo: -s - 1, hi: s + 1 } });
    await page.click('[data-testid="plane-eps"]');
    await expectCanvas(page, 'image-a-canvas', reader.plane(3, 'eps'), shape, { channels: 'auto', range: { mode: 'fixed', lo: -3, hi: 3 } });
    assert.deepEqual(reader.evals[3].planes, ['x', 'denoised', 'cond', 'uncond']);
    await page.click('[data-testid="plane-diff"]');
    await expectCanvas(page, 'image-a-canvas', reader.plane(3, 'diff'), shape, { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } });
    await page.click('[data-testid="plane-denoised"]');
    await expectCanvas(page, 'image-a-canvas', reader.plane(3, 'denoised'), shape, { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } });
    const planes = h.frameRequests().filter((r) => r.i === 3).map((r) => r.planes.join());
    assert.deepEqual(planes, ['denoised', 'x', 'eps', 'diff'], 'one request per plane, x̂0 served from the webview cache the second time');
    await page.screenshot({ path: path.join(SHOTS, 'inspector-run-light.png') });
    assert.deepEqual(h.errors, []);
  });

  it('drops stale frame requests when scrubbing faster than the host answers, and ends on the latest frame', async () => {
    const reader = TrajectoryReader.open(runB);
    const h = panel([reader], 150);
    const page = await h.open(browser.context, served.url);
    await waitText(page, 'position', /^eval 0 /);
    await expectCanvas(page, 'image-a-canvas', reader.plane(0, 'denoised'), reader.shapeOf(0), { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } });
    const before = h.frameRequests().length;
    for (let k = 0; k < 15; k++) await page.keyboard.press('ArrowRight');
    await waitText(page, 'position', /^eval 15 /);
    await expectCanvas(page, 'image-a-canvas', reader.plane(15, 'denoised'), reader.shapeOf(0), { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } });
    const sent = h.frameRequests().slice(before);
    assert.ok(sent.length <= 4, `${sent.length} requests for 15 key presses: ${sent.map((r) => r.i).join(',')}`);
    assert.equal(sent[sent.length - 1].i, 15);
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid="status"]')!.textContent!.includes('errors')), false);
  });

  it('exports the step as PNG and .npy and the run as GIF and contact sheet; the files decode to what the panel shows', async () => {
    const reader = TrajectoryReader.open(runA);
    const h = panel([reader]);
    const page = await h.open(browser.context, served.url);
    await waitText(page, 'position', /^eval 0 /);
    await page.locator('[data-testid="slider"]').fill('7');
    await waitText(page, 'position', /^eval 7 /);
    const view: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } };
    await expectCanvas(page, 'image-a-canvas', reader.plane(7, 'denoised'), reader.shapeOf(7), view);
    const zoomText = await page.evaluate(() => (document.querySelector('[data-testid="zoom"]') as HTMLElement & { value: string }).value);
    const zoom = Number(zoomText);
    const files: Record<string, string> = {};
    const names: Record<string, RegExp> = { png: /Saved .*-e7-denoised\.png/, npy: /Saved .*\.npy/, gif: /Saved .*\.gif/, contact: /Saved .*-sheet\.png/ };
    for (const kind of ['png', 'npy', 'gif', 'contact']) {
      await page.click(`[data-testid="export-${kind}"]`);
      const t = await waitText(page, 'toast', names[kind]);
      files[kind] = t.replace(/^Saved /, '').replace(/×$/, '').trim();
      assert.ok(fs.existsSync(files[kind]), files[kind]);
    }
    const png = decode(fs.readFileSync(files.png));
    const want = zoomRgba(renderView(reader.plane(7, 'denoised'), reader.shapeOf(7), 'grid', view), zoom);
    assert.deepEqual([png.width, png.height], [want.width, want.height]);
    for (let p = 0; p < want.width * want.height; p += 97) assert.equal(png.data[p * 3], want.data[p * 4], `pixel ${p}`);
    assert.deepEqual(fs.readFileSync(files.png), Buffer.from(stepPng(reader, 7, { plane: 'denoised', item: 'grid', view, zoom })));
    const npy = parseNpy(fs.readFileSync(files.npy));
    assert.deepEqual(npy.shape, [4, 1, 32, 32]);
    assert.deepEqual(Float32Array.from(npy.data), reader.plane(7, 'denoised'));
    assert.equal(fs.readFileSync(files.gif).subarray(0, 6).toString('latin1'), 'GIF89a');
    const sheet = decode(fs.readFileSync(files.contact));
    assert.ok(sheet.width > 4 * 32 && sheet.height > 2 * 32, `${sheet.width}×${sheet.height}`);
    const exports = h.fromWebview.filter((m) => m.type === 'request' && m.method === 'export').map((m) => (m.type === 'request' && m.method === 'export' ? m.params.kind : ''));
    assert.deepEqual(exports, ['png', 'npy', 'gif', 'contact']);
  });

  it('compares two runs aligned by σ: both images, their difference, and the x̂0 distance plot', async () => {
    const A = TrajectoryReader.open(runA);
    const B = TrajectoryReader.open(runB);
    const h = panel([A, B]);
    const page = await h.open(browser.context, served.url);
    await waitText(page, 'inspector-title', /^Compare dpmpp \(dpmpp_2m\) with euler \(euler\), aligned by σ$/);
    await page.locator('[data-testid="chart-distance"] canvas').waitFor();
    const cmp = h.toWebview.find((m) => m.type === 'compare')!;
    assert.ok(cmp.type === 'compare');
    const pairs = alignBySigma(A.evals.map((m) => m.sigma), B.evals.map((m) => m.sigma), 'nearest');
    assert.deepEqual(cmp.pairs, pairs);
    const dist = alignedDistances(pairs, (i) => A.plane(i, 'denoised'), (j) => B.plane(j, 'denoised'));
    assert.deepEqual(cmp.distance, dist);
    assert.equal(dist[0], 0, 'same noise, same first evaluation');
    await page.locator('[data-testid="slider"]').fill('6');
    await waitText(page, 'position', /^eval 6 /);
    const j = pairs[6].b0;
    const view: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } };
    await expectCanvas(page, 'image-b-canvas', B.plane(j, 'denoised'), B.shapeOf(j), view);
    await page.locator('[data-testid="image-diff-canvas"]').waitFor();
    await waitText(page, 'detail-distance', new RegExp(dist[6].toFixed(4)));
    await page.screenshot({ path: path.join(SHOTS, 'inspector-compare.png'), fullPage: true });
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="align"]') as HTMLElement & { value: string };
      el.value = 'interpolate';
      el.dispatchEvent(new Event('change'));
    });
    const t0 = Date.now();
    while (!h.toWebview.some((m) => m.type === 'compare' && m.mode === 'interpolate')) {
      if (Date.now() - t0 > 5000) throw new Error('no interpolated comparison');
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.deepEqual(h.errors, []);
  });

  it('plots both runs\' errors, each against its own DOPRI5 reference, per evaluation and at the end, on a σ axis', async () => {
    const refA = await referenceForRun(TrajectoryReader.open(runA), { write: true, rtol: 1e-4, atol: 1e-4 });
    const refB = await referenceForRun(TrajectoryReader.open(runB), { write: true, rtol: 1e-4, atol: 1e-4 });
    const A = TrajectoryReader.open(runA);
    const B = TrajectoryReader.open(runB);
    const h = panel([A, B]);
    const page = await h.open(browser.context, served.url);
    await page.locator('[data-testid="chart-error"] canvas').waitFor();
    // Two series with a legend: uPlot's legend has the x row plus one row per series.
    const legend = await page.locator('[data-testid="chart-error"] .u-legend .u-series').allTextContents();
    assert.equal(legend.length, 3, legend.join(' | '));
    assert.match(legend[1], new RegExp(`^A: dpmpp · final ${fmt(refA.errors[0].final)}`));
    assert.match(legend[2], new RegExp(`^B: euler · final ${fmt(refB.errors[0].final)}`));
    // The plot's data are the two runs on the union of their σs (errorPlotBySigma), as uPlot holds them.
    const plot = errorPlotBySigma([
      { name: 'A: dpmpp', sigmas: A.evals.map((m) => m.sigma), errors: refA.errors },
      { name: 'B: euler', sigmas: B.evals.map((m) => m.sigma), errors: refB.errors },
    ]);
    const drawn = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="chart-error"] .uplot');
      return el ? [...el.querySelectorAll('.u-legend .u-series')].length : 0;
    });
    assert.equal(drawn, 1 + plot.series.length);
    assert.ok(plot.series.every((s) => s.values.filter((v) => v !== null).length > 5));
    await page.locator('[data-testid="slider"]').fill('4');
    await waitText(page, 'detail-error', new RegExp(refA.errors[0].perEval[4]!.toFixed(4)));
    const j = alignBySigma([A.evals[4].sigma], B.evals.map((m) => m.sigma), 'nearest')[0].b0;
    await waitText(page, 'detail-error-b', new RegExp(refB.errors[0].perEval[j]!.toFixed(4)));
    await waitText(page, 'image-b-caption', new RegExp(`^nearest evaluation to σ=${fmt(A.evals[4].sigma)}$`));
    await waitText(page, 'error-final', /^A: dpmpp \S+: final error .*dopri5 rtol=0.0001.* · B: euler \S+: final error /);
    for (const ref of [refA, refB]) {
      assert.ok(ref.errors[0].perEval[0]! < 1e-6, 'no error at the start (float32 trajectory)');
      assert.ok(ref.errors[0].final! > 0 && ref.errors[0].final! < 0.2, `final error ${ref.errors[0].final}`);
    }
    assert.ok(refB.errors[0].final! > refA.errors[0].final!, 'Euler at 20 steps is further from the ODE solution than DPM-Solver++(2M) at 12');
    await page.screenshot({ path: path.join(SHOTS, 'inspector-error.png'), fullPage: true });
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid="align"]') as HTMLElement & { value: string };
      el.value = 'interpolate';
      el.dispatchEvent(new Event('change'));
    });
    await waitText(page, 'image-b-caption', /\(not interpolated; the distance plot interpolates\)$/);
    assert.deepEqual(h.errors, []);
  });

  it('draws the sweep: final error vs NFE on log–log axes for several pipelines', async () => {
    const dir = tmpDir();
    const docs = ['test.euler', 'solver.heun', 'solver.dpmpp_2m'].map((s) => ({ label: s, doc: loadDoc(gaussPipeline({ solver: s, batch: 1 }), dir), baseDir: dir }));
    const result = await sweep(docs, { ...gaussServices(dir), steps: [4, 8, 16, 32, 64], rtol: 1e-10, atol: 1e-10 });
    const h = panel([]);
    const page = await h.open(browser.context, served.url);
    await new Promise((r) => setTimeout(r, 200));
    h.session.postSweep(result);
    await page.locator('[data-testid="chart-sweep"] canvas').waitFor();
    assert.equal(await page.locator('[data-testid="sweep-table"] tbody tr').count(), 15);
    await page.screenshot({ path: path.join(SHOTS, 'inspector-sweep.png') });
  });
});
