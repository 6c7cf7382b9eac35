/**
 * GITS (Chen et al. 2024): the DP against a hand-solved cost matrix, the cost matrix against the closed-form
 * Euler error on Gaussian data, the schedule block, the error-vs-NFE table on the exact mixture, and
 * `dpipe fit gits` writing the fitted block into a .dpipe file through the graph edit module.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { loadPipeline } from '../../src/engine/format/index';
import { fitGits, gitsCostMatrix, gitsDp, gitsSigmas, teacherTrajectory } from '../../src/engine/learned/gits';
import { getNodeType } from '../../src/engine/registry/index';
import { karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { gaussianDenoiser, gaussianFlow, gmmDenoiser } from '../helpers/gmm';
import { formatTable, gitsTable, startBatch } from './table';

const FIX = path.resolve(__dirname, '../fixtures/learned');

describe('learned: GITS', () => {
  it('DP: the K-step path of least γ-discounted cost, solved by hand on a 4-point grid', () => {
    // Points 0..3. Direct 0→3 costs 10; 0→1→3: 1 + γ·4; 0→2→3: 3 + γ·1; 0→1→2→3: 1 + γ(1 + γ·1).
    const C = [
      [0, 1, 3, 10],
      [0, 0, 1, 4],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    assert.deepEqual(gitsDp(C, 1, 1), { indices: [0, 3], cost: 10 });
    assert.deepEqual(gitsDp(C, 2, 1), { indices: [0, 2, 3], cost: 4 }); // 3 + 1 < 1 + 4
    assert.deepEqual(gitsDp(C, 2, 2), { indices: [0, 2, 3], cost: 5 }); // 3 + 2 < 1 + 8
    assert.deepEqual(gitsDp(C, 3, 1), { indices: [0, 1, 2, 3], cost: 3 });
    assert.equal(gitsDp(C, 3, 1.5).cost, 1 + 1.5 * (1 + 1.5 * 1));
    assert.throws(() => gitsDp(C, 4, 1), /4 steps cannot be chosen from a fine grid of 4 points/);
  });

  it('cost matrix: one Euler step from the teacher trajectory vs the closed-form flow on Gaussian data', async () => {
    const m = 0.3;
    const s = 0.5;
    const grid = karrasSigmas(31, 0.01, 20, 7);
    const x0 = Float64Array.from({ length: 8 }, (_, i) => 20 * Math.sin(1.3 * i + 0.2));
    const model = gaussianDenoiser(m, s);
    const { xs, ds } = await teacherTrajectory(model, { shape: [2, 4], data: x0 }, grid);
    // The teacher (iPNDM, 30 steps) follows the exact flow closely.
    const exactEnd = gaussianFlow(x0, 20, grid[30], m, s);
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(xs[30].data[i] - exactEnd[i]) < 2e-3, `teacher end ${xs[30].data[i]} vs ${exactEnd[i]}`);
    const C = gitsCostMatrix(xs, ds, grid, 'l2');
    // Closed form of c_ij: Euler from the exact x_i, against the exact x_j, norm per item of 4, mean of 2 items.
    for (const [i, j] of [[0, 5], [3, 17], [10, 30], [20, 21]]) {
      const xi = gaussianFlow(x0, 20, grid[i], m, s);
      const xj = gaussianFlow(x0, 20, grid[j], m, s);
      const c = (s * s) / (s * s + grid[i] ** 2);
      let total = 0;
      for (let b = 0; b < 2; b++) {
        let sq = 0;
        for (let q = b * 4; q < b * 4 + 4; q++) {
          const d = (xi[q] - (m + c * (xi[q] - m))) / grid[i];
          sq += (xi[q] + (grid[j] - grid[i]) * d - xj[q]) ** 2;
        }
        total += Math.sqrt(sq);
      }
      const expect = total / 2;
      assert.ok(Math.abs(C[i][j] - expect) < 5e-3 * Math.max(1, expect), `c_${i}${j} = ${C[i][j]}, closed form ${expect}`);
    }
    assert.equal(C[5][3], 0); // only i < j is filled
  });

  it('schedule.gits replays the fitted values and refuses an empty or non-decreasing list', async () => {
    const node = getNodeType('schedule.gits')!;
    const { sigmas } = (await node.evaluate({ nodeId: 'g', baseDir: '.', services: {} as never }, {}, { values: [80, 3, 0.5, 0.002], final: 'zero' })) as { sigmas: Float64Array };
    assert.deepEqual([...sigmas], [80, 3, 0.5, 0.002, 0]);
    assert.deepEqual([...gitsSigmas([80, 3, 0.002], 'none')], [80, 3, 0.002]);
    assert.deepEqual([...gitsSigmas([80, 3, 0.002], 'sigma_min')], [80, 3, 0.002]);
    assert.throws(() => gitsSigmas([], 'none'), /dpipe fit gits FILE.dpipe --nfe N/);
    assert.throws(() => gitsSigmas([80, 90, 1], 'none'), /strictly decreasing/);
  });

  it('on the exact 8-Gaussian mixture: GITS beats the time-uniform schedule at equal NFE (Euler), and its path has the least DP cost', async function () {
    this.timeout(60000);
    const rows = await gitsTable([4, 5, 6, 8, 10]);
    console.log(formatTable('GITS vs fixed schedules, Euler, RMSE to the exact ODE solution (16 test paths; fit on 16 other paths)', rows));
    for (const r of rows) {
      assert.ok(r.errors.gits < r.errors['time-uniform'], `NFE ${r.nfe}: GITS ${r.errors.gits} vs time-uniform ${r.errors['time-uniform']}`);
    }
    const fit = await fitGits(gmmDenoiser, startBatch(1, 16), 80, 0.002, { steps: 6 });
    const C = fit.costMatrix;
    const cost = (idx: number[]) => idx.slice(1).reduce((acc, j, k) => acc + C[idx[k]][j] * 1.15 ** k, 0);
    assert.ok(Math.abs(cost(fit.indices) - fit.cost) < 1e-9 * fit.cost);
    // The 6-step Karras ρ=7 schedule is the sub-path 0,10,…,60 of the 61-point Karras fine grid.
    assert.ok(fit.cost <= cost([0, 10, 20, 30, 40, 50, 60]));
  });

  describe('dpipe fit gits', () => {
    let dir: string;
    const io = (): CliIO & { text: { out: string; err: string } } => {
      const text = { out: '', err: '' };
      return { text, out: (t) => void (text.out += t), err: (t) => void (text.err += t), isTTY: false, columns: 80, cwd: dir, signal: new AbortController().signal };
    };
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-gits-'));
      for (const f of ['gmm-euler.dpipe', 'gmm_edm.onnx']) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    });

    it('adds a schedule.gits block feeding the Sample block, keeps the rest of the text, and updates it in place on a second fit', async function () {
      this.timeout(60000);
      const file = path.join(dir, 'gmm-euler.dpipe');
      const before = fs.readFileSync(file, 'utf8');
      const a = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe', '--nfe', '5', '--samples', '8', '-q'], a), 0, a.text.err);
      const after = fs.readFileSync(file, 'utf8');
      const r = loadPipeline(after, { file, baseDir: dir });
      assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
      const g = r.doc!.nodes.find((n) => n.id === 'gits')!;
      assert.equal(g.type, 'schedule.gits');
      const values = g.params!.values as number[];
      assert.equal(values.length, 6);
      assert.equal(values[0], 80);
      assert.equal(values[5], 0.002);
      assert.equal(g.params!.finePoints, 61);
      assert.equal(g.params!.samples, 8);
      assert.ok(r.doc!.edges.some((e) => e.from === 'gits.sigmas' && e.to === 'sample.sigmas'));
      assert.ok(!r.doc!.edges.some((e) => e.from === 'sched.sigmas'));
      assert.match(a.text.out, /^σ = \[80, /);
      // Formatting kept: the lines of the old schedule node are untouched.
      const schedBlock = before.slice(before.indexOf('    {\n      "id": "sched"'), before.indexOf('    { "id": "solver"'));
      assert.ok(after.includes(schedBlock));
      // A second fit, with another NFE, rewrites the same block.
      const b = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe', '--nfe', '3', '--samples', '4', '-q'], b), 0, b.text.err);
      const doc2 = loadPipeline(fs.readFileSync(file, 'utf8'), { file, baseDir: dir }).doc!;
      assert.equal(doc2.nodes.filter((n) => n.type === 'schedule.gits').length, 1);
      assert.equal((doc2.nodes.find((n) => n.id === 'gits')!.params!.values as number[]).length, 4);
    });

    it('--dry-run prints without writing; bad options are usage errors', async () => {
      const file = path.join(dir, 'gmm-euler.dpipe');
      const before = fs.readFileSync(file, 'utf8');
      const a = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe', '--nfe', '2', '--samples', '2', '--fine', '11', '--dry-run'], a), 0, a.text.err);
      assert.match(a.text.out, /σ = \[80, [0-9.]+, 0.002\]/);
      assert.equal(fs.readFileSync(file, 'utf8'), before);
      const b = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe'], b), 2);
      assert.match(b.text.err, /--nfe N is required/);
      const c = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe', '--nfe', '3', '--metric', 'cosine'], c), 2);
      assert.match(c.text.err, /--metric must be one of l2, l1, dev/);
      const d = io();
      assert.equal(await main(['fit', 'gits', 'gmm-euler.dpipe', '--nfe', '30', '--fine', '11'], d), 1);
      assert.match(d.text.err, /30 steps cannot be chosen from a fine grid of 11 points/);
    });
  });
});
