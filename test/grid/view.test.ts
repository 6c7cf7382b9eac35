/**
 * The grid view in headless Chromium against the real host session (the inspector's webview, as VS Code shows
 * it): a grid made by `dpipe grid` on the GMM demo model is shown as its image with a click target on every tile
 * and a metrics table that sorts by any column; one selected cell opens in the inspector, two compare. The
 * screenshot goes to test-results/grid-view.png.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cellFolders, gridViewOf } from '../../extension/inspector/grid';
import { readGridFile } from '../../src/engine/grid/result';
import { TrajectoryReader } from '../../src/engine/inspect/reader';
import { fmt } from '../../webview/inspector/ImageView';
import { launch, type Browser } from '../webview/harness';
import { buildInspectorBundle, PanelHost, serveInspector, type Served } from '../inspect/browser';
import { ROOT, dpipeIn } from './helpers';

describe('grid view in headless Chromium', function () {
  this.timeout(180_000);
  let tmp: string;
  let dir: string;
  let served: Served;
  let browser: Browser;
  let host: PanelHost;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-gridview-'));
    dir = path.join(tmp, 'grid');
    const r = await dpipeIn(['grid', path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe'), '--axis', 'solver=solver.euler,solver.dpmpp_2m,solver.unipc', '--axis', 'sched.steps=4,8', '--seeds', '0-3', '--set', 'image.gridColumns=2', '--reference', '--rtol', '1e-4', '-q', '--out', dir]);
    assert.equal(r.code, 0, r.err);
    await buildInspectorBundle(path.join(tmp, 'bundle'));
    served = await serveInspector(path.join(tmp, 'bundle'));
    browser = await launch();
  });

  after(async () => {
    host?.session.dispose();
    await browser?.close();
    await served?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the image with a target on each tile and the metrics; sorts; opens one cell and compares two', async () => {
    const grid = readGridFile(path.join(dir, 'grid.json'));
    const view = gridViewOf(dir, grid);
    host = new PanelHost([], { exportDir: path.join(tmp, 'exports') });
    host.session.postGrid(view);
    const page = await host.open(browser.context, served.url, 'dark', { width: 1200, height: 1100 });
    await page.locator('[data-testid="grid-view"]').waitFor();
    assert.match((await page.locator('[data-testid="inspector-title"]').textContent()) ?? '', /^Grid: dpmpp-2m-karras\.dpipe — solver \(3\) × sched\.steps \(2\)$/);

    // The image is grid.png itself, and each tile's target covers that cell's tile.
    const img = page.locator('[data-testid="grid-image"] img');
    const natural = await img.evaluate((e: HTMLImageElement) => [e.naturalWidth, e.naturalHeight]);
    assert.deepEqual(natural, [grid.image.width, grid.image.height]);
    const ib = (await img.boundingBox())!;
    for (const t of grid.image.tiles) {
      const b = (await page.locator(`[data-testid="grid-tile-${t.cell}"]`).boundingBox())!;
      const k = ib.width / grid.image.width;
      assert.ok(Math.abs(b.x - ib.x - t.x * k) < 1.5 && Math.abs(b.y - ib.y - t.y * k) < 1.5 && Math.abs(b.width - t.width * k) < 1.5, `tile ${t.cell} target at ${JSON.stringify(b)}`);
    }

    // The table: one row per cell, the axis values and the metrics of grid.json.
    const rows = page.locator('[data-testid="grid-table"] tbody tr');
    assert.equal(await rows.count(), 6);
    const heads = await page.locator('[data-testid="grid-table"] thead th').allTextContents();
    assert.deepEqual(heads.map((h) => h.replace(/ [▲▼]$/, '')), ['#', 'solver', 'sched.steps', 'NFE', 'final error', 'time (s)', 'status']);
    const cellsOf = async () => (await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''))));
    const first = await cellsOf();
    assert.deepEqual(first[5].slice(0, 5), ['5', 'unipc', '8', '8', fmt(grid.cells[5].reference![0].final!)]);

    // Sort by final error, ascending then descending.
    const errs = grid.cells.map((c) => c.reference![0].final!);
    const asc = grid.cells.map((c) => c.index).sort((a, b) => errs[a] - errs[b]);
    await page.locator('[data-testid="grid-sort-error"]').click();
    assert.deepEqual((await cellsOf()).map((r) => Number(r[0])), asc);
    await page.locator('[data-testid="grid-sort-error"]').click();
    assert.deepEqual((await cellsOf()).map((r) => Number(r[0])), [...asc].reverse());
    await page.locator('[data-testid="grid-sort-axis0"]').click();
    assert.deepEqual((await cellsOf()).map((r) => r[1]), ['euler', 'euler', 'dpmpp_2m', 'dpmpp_2m', 'unipc', 'unipc'], 'axis columns sort in axis order');

    // One cell selected (its tile): Open in Inspector asks the host for that cell.
    await page.locator('[data-testid="grid-tile-4"]').click();
    assert.match((await page.locator('[data-testid="grid-selection"]').textContent()) ?? '', /#4 solver=dpmpp_2m, sched\.steps=8/);
    assert.match((await page.locator('[data-testid="grid-row-4"]').getAttribute('class')) ?? '', /\bon\b/);
    await page.locator('[data-testid="grid-open"]').click();
    // Two selected (the second from its table row): Compare.
    await page.locator('[data-testid="grid-row-5"]').click();
    await page.locator('[data-testid="grid-compare"]').click();
    for (let i = 0; i < 50 && host.gridActions.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(host.gridActions, [{ action: 'open', cells: [4] }, { action: 'compare', cells: [4, 5] }]);
    // What the VS Code panel then opens: the cells' run folders, readable by the inspector.
    const folders = cellFolders(dir, grid, [4, 5]);
    assert.deepEqual(folders.map((f) => path.relative(dir, f)), ['cells/004-dpmpp_2m-8', 'cells/005-unipc-8']);
    assert.deepEqual(folders.map((f) => TrajectoryReader.open(f).length), [8, 8]);
    // The cells' times differ from run to run, so the picture goes to test-results/ (docs/img/inspector-grid.png is
    // one such screenshot, committed).
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results', 'grid-view.png') });

    // A request for a cell the grid does not have is dropped by the host, with a log line.
    await host.session.receive({ type: 'gridCells', action: 'open', cells: [99] });
    assert.equal(host.gridActions.length, 2);
    assert.ok(host.errors.some((e) => /dropped gridCells open of cells \[99\]/.test(e)), host.errors.join('\n'));
    assert.deepEqual(host.errors.filter((e) => !/gridCells/.test(e)), []);
  });
});
