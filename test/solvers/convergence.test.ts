/**
 * Measured convergence order on Gaussian data (closed-form probability-flow ODE solution): slope of
 * log(max-abs error) against log(steps) over an asymptotic range, within 0.3 of the theoretical order.
 * Grids: log-uniform σ from 20 to 0.05 ("exponential") and the same with the first two steps shortened to
 * h² ("warm"), which isolates a multistep formula's order from its lower-order warm-up. The cases are the
 * `tests.convergence` declarations of the solver entries in the registry; the adaptive solvers and the UniC
 * corrector have their own tests below.
 */
import { strict as assert } from 'assert';
import { nodeTypes } from '../../src/engine/registry/index';
import type { OrderCase } from '../../src/engine/registry/node';
import type { Params } from '../../src/engine/registry/types';
import { euler } from '../../src/engine/solvers/euler';
import { dpmpp2m } from '../../src/engine/solvers/dpmpp';
import { makeUniC } from '../../src/engine/solvers/unipc';
import { dpmAdaptive, dpmFast } from '../../src/engine/solvers/dpmFast';
import { counted } from '../helpers/gmm';
import { ctxWith, gaussianDenoiser, gaussianFlow } from '../helpers/gmm';
import { GAUSS, grid, measuredOrder, slope, startPoint } from '../helpers/convergence';

/** Every `convergence` case the solver entries of the registry declare, with the order it must show. */
const ORDER_CASES = [...nodeTypes().values()].flatMap((node) =>
  (node.solverEntry?.tests.convergence ?? []).map((c: OrderCase) => ({ ...c, params: (c.params ?? {}) as Params, type: node.type, run: node.solverEntry!.run, theory: c.order ?? node.solver!.order })),
);

describe('solvers: convergence order on Gaussian data', () => {
  it('the registry declares the order cases of the ODE solvers', () => {
    assert.ok(ORDER_CASES.length >= 35, `${ORDER_CASES.length} cases`);
    assert.ok(new Set(ORDER_CASES.map((c) => c.type)).size >= 14);
  });
  for (const c of ORDER_CASES) {
    const name = `${c.type} ${JSON.stringify(c.params)}${c.grid && c.grid !== 'exponential' ? ` (${c.grid} grid)` : ''}${c.note ? ` — ${c.note}` : ''}`;
    it(`${name}: measured order within 0.3 of ${c.theory}`, async () => {
      const r = await measuredOrder(c.run, c.params, c.steps, c.grid ?? 'exponential');
      assert.ok(Math.abs(r.order - c.theory) <= 0.3, `${name}: measured ${r.order.toFixed(3)}, errors ${r.errors.map((e) => e.toExponential(2)).join(', ')}`);
    });
  }
  for (const [name, solver, p, theory] of [
    ['solver.euler + corrector.unic p=1', euler, 1, 2],
    ['solver.dpmpp_2m + corrector.unic p=2', dpmpp2m, 2, 3],
  ] as const) {
    it(`${name}: the UniC hook raises the order to ${theory}`, async () => {
      const steps = [32, 64, 128, 256];
      const errs: number[] = [];
      for (const n of steps) {
        const x0 = startPoint();
        const x = await solver(gaussianDenoiser(GAUSS.m, GAUSS.s), { shape: [1, x0.length], data: x0 }, grid(n, 'exponential'), {}, ctxWith(undefined, { corrector: makeUniC({ order: p }) }));
        const ex = gaussianFlow(x0, GAUSS.sigmaMax, GAUSS.sigmaMin, GAUSS.m, GAUSS.s);
        errs.push(Math.max(...ex.map((v, i) => Math.abs(v - x.data[i]))));
      }
      const order = slope(steps, errs);
      assert.ok(Math.abs(order - theory) <= 0.3, `measured ${order}`);
    });
  }
  it('solver.dpm_fast: error falls as NFE^−3 (NFE ≡ 2 mod 3, so the last step is second order)', async () => {
    const nfes = [32, 62, 122, 242];
    const errs: number[] = [];
    for (const nfe of nfes) {
      const x0 = startPoint();
      const { model, calls } = counted(gaussianDenoiser(GAUSS.m, GAUSS.s));
      const x = await dpmFast(model, { shape: [1, x0.length], data: x0 }, Float64Array.from([GAUSS.sigmaMax, GAUSS.sigmaMin]), { nfe }, ctxWith());
      assert.equal(calls.length, nfe);
      const ex = gaussianFlow(x0, GAUSS.sigmaMax, GAUSS.sigmaMin, GAUSS.m, GAUSS.s);
      errs.push(Math.max(...ex.map((v, i) => Math.abs(v - x.data[i]))));
    }
    const order = slope(nfes, errs);
    assert.ok(Math.abs(order - 3) <= 0.3, `measured ${order}`);
  });
  it('solver.dpm_adaptive: tighter tolerances cost more evaluations and give smaller errors', async () => {
    const res: { nfe: number; err: number }[] = [];
    for (const tol of [1e-2, 1e-5]) {
      const x0 = startPoint();
      const { model, calls } = counted(gaussianDenoiser(GAUSS.m, GAUSS.s));
      const x = await dpmAdaptive(model, { shape: [1, x0.length], data: x0 }, Float64Array.from([GAUSS.sigmaMax, GAUSS.sigmaMin]), { rtol: tol, atol: tol / 10 }, ctxWith());
      const ex = gaussianFlow(x0, GAUSS.sigmaMax, GAUSS.sigmaMin, GAUSS.m, GAUSS.s);
      res.push({ nfe: calls.length, err: Math.max(...ex.map((v, i) => Math.abs(v - x.data[i]))) });
      assert.equal(calls.length % 3, 0, '3 evaluations per attempted step');
    }
    assert.ok(res[1].nfe > 2 * res[0].nfe, JSON.stringify(res));
    assert.ok(res[1].err < 1e-2 * res[0].err && res[0].err < 2e-2, JSON.stringify(res));
  });
});
