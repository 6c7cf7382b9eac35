/**
 * DC-Solver (Zhao et al. 2024): ratios of 1 give UniPC exactly; the compensation is the Lagrange interpolation of
 * eq. 9 (checked by hand on a quadratic); the fitted ratios improve UniPC at 5–8 NFE on the exact mixture; and
 * `dpipe fit dc` writes the ratios into a pipeline.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { loadPipeline } from '../../src/engine/format/index';
import { compensate, dcSolver } from '../../src/engine/learned/dcsolver';
import { exponentialSigmas } from '../../src/engine/schedules/kdiffusion';
import { unipc } from '../../src/engine/solvers/unipc';
import { counted, ctxWith, gmmDenoiser } from '../helpers/gmm';
import { dcTable, formatTable, startBatch } from './table';

const FIX = path.resolve(__dirname, '../fixtures/learned');

describe('learned: DC-Solver', () => {
  it('compensation: the Lagrange interpolation through the last K + 1 outputs, exact on a quadratic in λ', () => {
    const q = (l: number) => 2 - 3 * l + 0.5 * l * l;
    const lams = [-1, 0.5, 2];
    const ms = lams.map((l) => ({ shape: [1, 2], data: Float64Array.from([q(l), 2 * q(l)]) }));
    for (const lam of [0.5, 1.3, 2, 2.7]) {
      const c = compensate(ms, lams, lam);
      assert.ok(Math.abs(c.data[0] - q(lam)) < 1e-12 && Math.abs(c.data[1] - 2 * q(lam)) < 1e-12);
    }
  });

  it('with every ratio 1 it is solver.unipc (bh1 and bh2, order 3), one model evaluation per step', async () => {
    const x = startBatch(3, 2);
    const s = exponentialSigmas(7, 0.002, 80);
    for (const variant of ['bh1', 'bh2'] as const) {
      const { model, calls } = counted(gmmDenoiser);
      const a = await dcSolver(model, x, s, { order: 3, variant, ratios: [1, 1, 1], dcOrder: 2 }, ctxWith());
      const b = await unipc(gmmDenoiser, x, s, { order: 3, variant }, ctxWith());
      assert.deepEqual([...a.data], [...b.data]);
      assert.equal(calls.length, 6);
    }
  });

  it('on the exact 8-Gaussian mixture: the fitted compensation improves UniPC at 5, 6 and 8 NFE', async function () {
    this.timeout(60000);
    const rows = await dcTable([5, 6, 8]);
    console.log(formatTable('DC-Solver vs UniPC (order 3, bh1), logSNR-uniform steps 80 → 0.002, RMSE to the exact ODE solution (16 test paths; ratios fitted on 16 other paths)', rows));
    for (const r of rows) assert.ok(r.errors['dc-solver (bh1)'] < 0.7 * r.errors['unipc (bh1)'], `NFE ${r.nfe}: ${JSON.stringify(r.errors)}`);
  });

  it('dpipe fit dc writes the ratios into the solver.dc_solver block; a pipeline without one is refused', async function () {
    this.timeout(60000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-dc-'));
    for (const f of ['gmm-euler.dpipe', 'gmm_edm.onnx']) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    const text = { out: '', err: '' };
    const io: CliIO = { out: (t) => void (text.out += t), err: (t) => void (text.err += t), isTTY: false, columns: 80, cwd: dir, signal: new AbortController().signal };
    assert.equal(await main(['fit', 'dc', 'gmm-euler.dpipe', '--samples', '2'], io), 1);
    assert.match(text.err, /driven by solver\.euler .*replace it by a solver\.dc_solver block/);
    const file = path.join(dir, 'gmm-euler.dpipe');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"type": "solver.euler", "params": {}', '"type": "solver.dc_solver", "params": {}'));
    assert.equal(await main(['fit', 'dc', 'gmm-euler.dpipe', '--samples', '4', '--ref-substeps', '10', '-q'], io), 0, text.err);
    const doc = loadPipeline(fs.readFileSync(file, 'utf8'), { file, baseDir: dir }).doc!;
    const p = doc.nodes.find((n) => n.id === 'solver')!.params!;
    assert.equal((p.ratios as number[]).length, 5);
    assert.deepEqual((p.ratios as number[]).slice(0, 2), [1, 1]); // no compensation before K + 1 outputs exist
    assert.equal(p.fitSamples, 4);
    assert.match(text.out, /ratios = \[1, 1, /);
  });
});
