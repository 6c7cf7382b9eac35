/**
 * DPM-Solver-v3 (Zheng et al. 2023): degenerate statistics reproduce DPM-Solver++ (Appendix A.2), the estimated
 * EMS equal the closed form on Gaussian data and make the solver exact there, the statistics file round-trips,
 * the error-vs-NFE table on the exact mixture, and `dpipe fit dpmv3` on a model and on a pipeline.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { computeEms, degenerateEms, dpmSolverV3, emsFromJson, emsToJson, type Dpmv3Options } from '../../src/engine/learned/dpmv3';
import { loadPipeline } from '../../src/engine/format/index';
import { runPipeline } from '../../src/engine/run/index';
import { exponentialSigmas } from '../../src/engine/schedules/kdiffusion';
import { dpmpp2m } from '../../src/engine/solvers/dpmpp';
import { counted, ctxWith, gaussianDenoiser, gaussianFlow } from '../helpers/gmm';
import { dpmv3Table, formatTable } from './table';

const FIX = path.resolve(__dirname, '../fixtures/learned');
const O: Dpmv3Options = { order: 3, predictorPseudo: 'auto', corrector: 'auto', correctorPseudo: false, lowerOrderFinal: true };
const M = 0.3;
const S = 0.5;
const x0 = Float64Array.from({ length: 16 }, (_, i) => 20 * Math.sin(1.7 * i + 0.3));
const X = { shape: [4, 4], data: x0 };
const maxErr = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('learned: DPM-Solver-v3', () => {
  it('degenerate EMS (l = 1, s = b = 0): order 2 without corrector is DPM-Solver++(2M) with the φ₂ ("heun") weight, up to the trapezoid rule', async () => {
    const sig = exponentialSigmas(6, 0.05, 20);
    const model = gaussianDenoiser(M, S);
    const a = await dpmSolverV3(model, X, sig, degenerateEms(20, 0.05, 1000, [4]), { ...O, order: 2, corrector: 'off', lowerOrderFinal: false }, ctxWith());
    const b = await dpmpp2m(model, X, sig, { solverType: 'heun' }, ctxWith());
    assert.ok(maxErr(a.data, b.data) < 2e-5, `${maxErr(a.data, b.data)}`);
    // Order 1: DDIM exactly (its integrals are exact for l = 1 up to the trapezoid rule on e^λ).
    const c = await dpmSolverV3(model, X, sig, degenerateEms(20, 0.05, 1000, [4]), { ...O, order: 1, corrector: 'off' }, ctxWith());
    const d = await dpmpp2m(model, X, sig, { lowerOrderFinal: 'always', eulerAtFinal: true }, ctxWith());
    void d;
    let y = Float64Array.from(x0);
    for (let i = 0; i + 1 < sig.length; i++) {
      const k = (S * S) / (S * S + sig[i] ** 2);
      y = y.map((v) => (sig[i + 1] / sig[i]) * v + (1 - sig[i + 1] / sig[i]) * (M + k * (v - M)));
    }
    assert.ok(maxErr(c.data, y) < 2e-5, `${maxErr(c.data, y)}`);
  });

  it('Gaussian data: the estimated EMS match the closed form l = σ²/(s²+σ²), s = 0, b = df/dλ, and make the solver exact to ~1e-6 (DPM-Solver++ errs by 1e-2)', async () => {
    const ems = await computeEms(gaussianDenoiser(M, S), { shape: [8, 4], data: Float64Array.from({ length: 32 }, (_, i) => 20 * Math.cos(2.1 * i)) }, { sigmaMax: 20, sigmaMin: 0.05, steps: 1000 });
    for (const k of [1, 250, 700, 999]) {
      const lam = -Math.log(20) + (k * Math.log(20 / 0.05)) / 1000;
      const sg = Math.exp(-lam);
      const l = sg * sg / (S * S + sg * sg);
      // f = −m·l (constant over x): df/dλ = −m·dl/dλ = m·2σ²s²/(s²+σ²)².
      const b = (M * 2 * sg * sg * S * S) / (S * S + sg * sg) ** 2;
      for (let i = 0; i < 4; i++) {
        assert.ok(Math.abs(ems.l[k * 4 + i] - l) < 1e-6, `l at ${k}: ${ems.l[k * 4 + i]} vs ${l}`);
        assert.equal(ems.s[k * 4 + i], 0);
        assert.ok(Math.abs(ems.b[k * 4 + i] - b) < 2e-3 * Math.max(b, 1e-3), `b at ${k}: ${ems.b[k * 4 + i]} vs ${b}`);
      }
    }
    const exact = gaussianFlow(x0, 20, 0.05, M, S);
    for (const n of [3, 5, 8]) {
      const sg = exponentialSigmas(n + 1, 0.05, 20);
      const { model, calls } = counted(gaussianDenoiser(M, S));
      const v3 = await dpmSolverV3(model, X, sg, ems, O, ctxWith());
      const pp = await dpmpp2m(gaussianDenoiser(M, S), X, sg, {}, ctxWith());
      assert.equal(calls.length, n);
      assert.ok(maxErr(v3.data, exact) < 1e-5, `${n} steps: v3 error ${maxErr(v3.data, exact)}`);
      assert.ok(maxErr(pp.data, exact) > 1e-3);
    }
    // A final σ = 0 reuses the last evaluation: n + 1 σ values, n evaluations, result = D at the last state.
    const { model, calls } = counted(gaussianDenoiser(M, S));
    const sz = Float64Array.from([...exponentialSigmas(5, 0.05, 20), 0]);
    const z = await dpmSolverV3(model, X, sz, ems, O, ctxWith());
    assert.equal(calls.length, 5);
    const at = gaussianFlow(x0, 20, 0.05, M, S);
    const c = (S * S) / (S * S + 0.05 ** 2);
    assert.ok(maxErr(z.data, at.map((v) => M + c * (v - M))) < 1e-5);
  });

  it('statistics file: JSON round trip is exact; σ outside the statistics range is refused', async () => {
    const e = degenerateEms(80, 0.002, 10, [2, 3]);
    const f = { ...e, l: e.l.map((v, i) => v + i * 1e-3), b: e.b.map((_, i) => Math.sin(i)) };
    const back = emsFromJson(emsToJson(f));
    assert.deepEqual([...back.l], [...f.l]);
    assert.deepEqual([...back.b], [...f.b]);
    assert.deepEqual(back.shape, [2, 3]);
    assert.throws(() => emsFromJson('{"format":"other"}', 'x.json'), /not a DPM-Solver-v3 statistics file/);
    await assert.rejects(dpmSolverV3(gaussianDenoiser(0, 1), { shape: [1, 2, 3], data: new Float64Array(6) }, Float64Array.from([200, 1]), e, O, ctxWith()), /outside the range of its statistics/);
    await assert.rejects(dpmSolverV3(gaussianDenoiser(0, 1), { shape: [1, 6], data: new Float64Array(6) }, Float64Array.from([80, 1]), e, O, ctxWith()), /items of shape \[2, 3\]/);
  });

  it('on the exact 8-Gaussian mixture: DPM-Solver-v3 is ahead of DPM-Solver++(2M) and (3M) at 5, 6, 8 and 10 NFE', async function () {
    this.timeout(120000);
    const rows = await dpmv3Table([5, 6, 8, 10]);
    console.log(formatTable('DPM-Solver-v3 vs DPM-Solver++, logSNR-uniform steps 80 → 0.002, RMSE to the exact ODE solution (16 test paths; EMS from 64 other paths)', rows));
    for (const r of rows) {
      assert.ok(r.errors['dpm-solver-v3'] < r.errors['dpm-solver++2M'], `NFE ${r.nfe}: ${JSON.stringify(r.errors)}`);
      assert.ok(r.errors['dpm-solver-v3'] < r.errors['dpm-solver++3M'], `NFE ${r.nfe}: ${JSON.stringify(r.errors)}`);
    }
  });

  describe('dpipe fit dpmv3', () => {
    let dir: string;
    const io = (): CliIO & { text: { out: string; err: string } } => {
      const text = { out: '', err: '' };
      return { text, out: (t) => void (text.out += t), err: (t) => void (text.err += t), isTTY: false, columns: 80, cwd: dir, signal: new AbortController().signal };
    };
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-v3-'));
      for (const f of ['gmm-euler.dpipe', 'gmm_edm.onnx']) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    });

    it('on a model: writes MODEL.onnx.ems.json over the model\'s σ range', async function () {
      this.timeout(60000);
      const a = io();
      assert.equal(await main(['fit', 'dpmv3', 'gmm_edm.onnx', '--samples', '4', '--steps', '20', '-q'], a), 0, a.text.err);
      assert.equal(a.text.out.trim(), 'gmm_edm.onnx.ems.json');
      const e = emsFromJson(fs.readFileSync(path.join(dir, 'gmm_edm.onnx.ems.json'), 'utf8'));
      assert.deepEqual([e.sigmaMax, e.sigmaMin, e.steps, e.samples], [80, 0.002, 20, 4]);
      assert.deepEqual(e.shape, [3, 8, 8]);
      // l = 1 − E diag(∂D/∂x) ∈ [0, 1] for the mixture (up to probe noise); ≈ 1 at σ_max where D hardly depends on x.
      for (let k = 0; k <= 20; k++) {
        const mean = e.l.slice(k * 192, (k + 1) * 192).reduce((a, v) => a + v, 0) / 192;
        assert.ok(mean > -0.02 && mean < 1.02, `mean l at grid point ${k}: ${mean}`);
      }
      assert.ok(Math.abs(e.l[0] - 1) < 1e-2);
    });

    it('on a pipeline: sets the file of its solver.dpm_solver_v3 block, and the pipeline then runs', async function () {
      this.timeout(60000);
      const file = path.join(dir, 'gmm-euler.dpipe');
      const text = fs.readFileSync(file, 'utf8').replace('"type": "solver.euler", "params": {}', '"type": "solver.dpm_solver_v3", "params": {}');
      fs.writeFileSync(file, text);
      const a = io();
      assert.equal(await main(['fit', 'dpmv3', 'gmm-euler.dpipe', '--samples', '4', '--steps', '60', '-q'], a), 0, a.text.err);
      const doc = loadPipeline(fs.readFileSync(file, 'utf8'), { file, baseDir: dir }).doc!;
      assert.equal(doc.nodes.find((n) => n.id === 'solver')!.params!.file, 'gmm_edm.onnx.ems.json');
      const res = await runPipeline(doc, { baseDir: dir, trajectory: { record: false } });
      assert.equal(res.record.nfe, 5); // schedule.exponential steps 6, final none: 6 σ values, 5 steps
      const b = io();
      assert.equal(await main(['run', 'gmm-euler.dpipe', '--out', 'out', '-q'], b), 0, b.text.err);
    });
  });
});
