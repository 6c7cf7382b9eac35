/**
 * `dpipe grid` as a user meets it (in-process CLI, GMM demo model): a cell's error and FD are exactly what
 * `dpipe reference` and `dpipe eval` give for that cell; a failing cell is kept with its error; bad command lines and
 * bad axes get one clear message and the right exit code; an earlier grid is never overwritten.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import type { GridFile } from '../../src/engine/grid/result';
import { ROOT, dpipeIn } from './helpers';

const GMM = path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe');

describe('dpipe grid (command line)', function () {
  this.timeout(240000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-grid-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("a cell's error and FD are what dpipe reference and dpipe eval give for that cell", async () => {
    const out = path.join(tmp, 'scored');
    const r = await dpipeIn(['grid', GMM, '--axis', 'sched.steps=3,6', '--seeds', '2-3', '--reference', '--score', 'fd', '--samples', '10', '--out', out, '-q']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {3}1 {2}sched\.steps=6 {2}NFE +6 {2}error \d\.\d{3}e-\d+ {2}FD \d+\.\d{3} acc \d+\.\d% {2}[\d.]+ s$/m);
    const grid = JSON.parse(fs.readFileSync(path.join(out, 'grid.json'), 'utf8')) as GridFile;
    const cell = grid.cells[1];
    assert.deepEqual(cell.record!.seeds, [2, 3]);
    assert.deepEqual(cell.record!.overrides, ['sched.steps=6', 'noise.seed=2', 'latent.batch=2']);
    // The reference: dpipe reference on the cell's folder gives the same final error.
    const ref = await dpipeIn(['reference', path.join(out, cell.dir), '--json']);
    assert.equal(ref.code, 0, ref.err);
    assert.equal(JSON.parse(ref.out).errors[0].final, cell.reference![0].final);
    // The score: dpipe eval of the cell's pipeline (the file with the cell's setting) from the first seed.
    const ev = await dpipeIn(['eval', GMM, '--samples', '10', '--seed', '2', '--set', 'sched.steps=6', '--json', '-q']);
    assert.equal(ev.code, 0, ev.err);
    const report = JSON.parse(ev.out);
    assert.equal(cell.score!.fd, report.fd.mean);
    assert.equal(cell.score!.accuracy, report.accuracy.mean);
    assert.equal(cell.score!.nfe, 6);
  });

  it('keeps going when a cell fails: the others complete, grid.json says why, the tile says failed, exit 1', async () => {
    const dir = path.join(tmp, 'failing');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(ROOT, 'models', 'mnist_gmm.onnx'), path.join(dir, 'good.onnx'));
    fs.copyFileSync(path.join(ROOT, 'models', 'mnist_gmm.onnx.json'), path.join(dir, 'good.onnx.json'));
    fs.writeFileSync(path.join(dir, 'bad.onnx'), 'this is not an ONNX model');
    fs.copyFileSync(path.join(ROOT, 'models', 'mnist_gmm.onnx.json'), path.join(dir, 'bad.onnx.json'));
    const text = fs.readFileSync(GMM, 'utf8').replace('../models/mnist_gmm.onnx', 'good.onnx');
    fs.writeFileSync(path.join(dir, 'p.dpipe'), text);
    const out = path.join(dir, 'out');
    const r = await dpipeIn(['grid', path.join(dir, 'p.dpipe'), '--axis', 'model.path=good.onnx,bad.onnx', '--axis', 'sched.steps=2', '--out', out, '-q']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /dpipe: grid cell 1 \(model\.path=bad\.onnx, sched\.steps=2\) failed: error\[E_MODEL\]: (node "model" \(model\.onnx\): )?Cannot load .*bad\.onnx/);
    const grid = JSON.parse(fs.readFileSync(path.join(out, 'grid.json'), 'utf8')) as GridFile;
    assert.deepEqual(grid.cells.map((c) => c.status), ['completed', 'failed']);
    assert.equal(grid.failed, 1);
    assert.equal(grid.cells[1].error!.code, 'E_MODEL');
    // The bad model is refused by the run's preflight, before its cell folder is written: no run record.
    assert.ok(!grid.cells[1].record);
    const png = decode(fs.readFileSync(path.join(out, 'grid.png')));
    const box = grid.image.tiles[1];
    // The failed tile is drawn pink with red text, not left blank.
    const at = (x: number, y: number) => Array.from(png.data.slice((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3));
    assert.deepEqual(at(box.x + 1, box.y + 1), [250, 235, 235]);
  });

  it('bad input: one located message and the right exit code; an earlier grid is never overwritten', async () => {
    const usage = await dpipeIn(['grid', GMM]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /give at least one --axis/);
    const seeds = await dpipeIn(['grid', GMM, '--axis', 'sched.steps=2', '--seeds', '0,5']);
    assert.equal(seeds.code, 2);
    assert.match(seeds.err, /--seeds must be a range A-B/);
    const shard = await dpipeIn(['grid', GMM, '--axis', 'sched.steps=2', '--shard', '4/4']);
    assert.equal(shard.code, 2);
    const axis = await dpipeIn(['grid', GMM, '--axis', 'solver=solver.eulr', '--out', path.join(tmp, 'never')]);
    assert.equal(axis.code, 1);
    assert.match(axis.err, /^dpipe: error\[E_AXIS\]: --axis solver: unknown block type "solver.eulr" \(did you mean solver.euler/m);
    assert.ok(!fs.existsSync(path.join(tmp, 'never')), 'nothing is written before every cell checks out');
    const dry = await dpipeIn(['grid', GMM, '--axis', 'solver=solver.euler,solver.heun', '--axis', 'sched.steps=2,4', '--dry-run', '--shard', '1/2']);
    assert.equal(dry.code, 0, dry.err);
    assert.equal(dry.out, '   0  solver=euler, sched.steps=2\n   1  solver=heun, sched.steps=2  [this shard]\n   2  solver=euler, sched.steps=4\n   3  solver=heun, sched.steps=4  [this shard]\n4 cells, 2 in shard 1/2; nothing was run\n');
    const out = path.join(tmp, 'scored');
    const again = await dpipeIn(['grid', GMM, '--axis', 'sched.steps=3,6', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /E_OUT_EXISTS.*grid\.json exists/);
  });
});
