/**
 * Measured convergence order on Gaussian data (closed-form probability-flow ODE solution): slope of
 * log(max-abs error) against log(steps) over an asymptotic range, within 0.3 of the theoretical order.
 * Grids: log-uniform σ from 20 to 0.05 ("exponential") and the same with the first two steps shortened to
 * h² ("warm"), which isolates a multistep formula's order from its lower-order warm-up.
 */
import { strict as assert } from 'assert';
import type { SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';
import { euler } from '../../src/engine/solvers/euler';
import { heun } from '../../src/engine/solvers/heun';
import { dpmpp2m, dpmpp3m, dpmMultistepNoise } from '../../src/engine/solvers/dpmpp';
import { lms } from '../../src/engine/solvers/lms';
import { dpm2, dpmpp2s, dpmSinglestepSolver } from '../../src/engine/solvers/singlestep';
import { makeUniC, unipc } from '../../src/engine/solvers/unipc';
import { deis } from '../../src/engine/solvers/deis';
import { ipndm, pndm } from '../../src/engine/solvers/pndm';
import { resMultistep } from '../../src/engine/solvers/dpmpp';
import { dpmAdaptive, dpmFast } from '../../src/engine/solvers/dpmFast';
import { counted } from '../helpers/gmm';
import { ctxWith, gaussianDenoiser, gaussianFlow } from '../helpers/gmm';
import { GAUSS, grid, measuredOrder, slope, startPoint, type Grid } from '../helpers/convergence';

export interface OrderCase {
  readonly name: string;
  readonly solver: SolverFn<Params>;
  readonly params: Params;
  readonly theory: number;
  readonly steps: readonly number[];
  readonly grid?: Grid;
}

export const ORDER_CASES: OrderCase[] = [
  { name: 'solver.euler', solver: euler, params: {}, theory: 1, steps: [16, 32, 64, 128] },
  { name: 'solver.heun', solver: heun, params: {}, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpmpp_2m', solver: dpmpp2m, params: {}, theory: 2, steps: [16, 32, 64, 128] },
  // The references' third-order update is second-order accurate (see dpmpp.ts, thirdOrder).
  { name: 'solver.dpmpp_3m (reference D2 weight)', solver: dpmpp3m, params: { lowerOrderFinal: 'off' }, theory: 2, steps: [512, 1024, 2048, 4096], grid: 'warm' },
  { name: 'solver.dpmpp_3m thirdOrder=taylor', solver: dpmpp3m, params: { lowerOrderFinal: 'off', thirdOrder: 'taylor' }, theory: 3, steps: [512, 1024, 2048, 4096], grid: 'warm' },
  { name: 'solver.dpm_multistep order 1', solver: dpmMultistepNoise, params: { order: 1, lowerOrderFinal: 'off' }, theory: 1, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_multistep order 2', solver: dpmMultistepNoise, params: { order: 2, lowerOrderFinal: 'off' }, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_multistep order 3 taylor', solver: dpmMultistepNoise, params: { order: 3, lowerOrderFinal: 'off', thirdOrder: 'taylor' }, theory: 3, steps: [512, 1024, 2048, 4096], grid: 'warm' },
  // LMS: the warm grid keeps its order-1..3 warm-up from limiting the measured order.
  { name: 'solver.lms (order 4)', solver: lms, params: {}, theory: 4, steps: [256, 512, 1024, 2048], grid: 'warm' },
  { name: 'solver.dpm_2', solver: dpm2, params: {}, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpmpp_2s', solver: dpmpp2s, params: {}, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 1', solver: dpmSinglestepSolver, params: { order: 1 }, theory: 1, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 2', solver: dpmSinglestepSolver, params: { order: 2 }, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 3', solver: dpmSinglestepSolver, params: { order: 3 }, theory: 3, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 3 data/taylor', solver: dpmSinglestepSolver, params: { order: 3, prediction: 'data', solverType: 'heun' }, theory: 3, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 2 stages=diffusers', solver: dpmSinglestepSolver, params: { order: 2, prediction: 'data', stages: 'diffusers' }, theory: 2, steps: [16, 32, 64, 128] },
  { name: 'solver.dpm_singlestep order 3 stages=dpm-solver', solver: dpmSinglestepSolver, params: { order: 3, stages: 'dpm-solver' }, theory: 3, steps: [32, 62, 122, 242] }, // n % 3 = 2: the last group is order 2
  // UniPC: UniP-p has order p, UniC raises it to p + 1 (Zhao et al. 2023, Theorem 3.1/3.2).
  ...([1, 2, 3] as const).flatMap((p) =>
    (['bh1', 'bh2'] as const).map((variant): OrderCase => ({ name: `solver.unipc p=${p} ${variant} (UniPC)`, solver: unipc, params: { order: p, variant, lowerOrderFinal: 'off' }, theory: p + 1, steps: [32, 64, 128, 256], grid: 'warm' })),
  ),
  { name: 'solver.unipc p=1 corrector off (UniP-1)', solver: unipc, params: { order: 1, corrector: false, lowerOrderFinal: 'off' }, theory: 1, steps: [32, 64, 128, 256] },
  { name: 'solver.unipc p=2 corrector off (UniP-2)', solver: unipc, params: { order: 2, corrector: false, lowerOrderFinal: 'off' }, theory: 2, steps: [32, 64, 128, 256] },
  { name: 'solver.unipc p=3 corrector off (UniP-3)', solver: unipc, params: { order: 3, corrector: false, lowerOrderFinal: 'off' }, theory: 3, steps: [256, 512, 1024, 2048], grid: 'warm' },
  { name: 'solver.unipc p=3 noise prediction', solver: unipc, params: { order: 3, prediction: 'noise', lowerOrderFinal: 'off' }, theory: 4, steps: [32, 64, 128, 256], grid: 'warm' },
  { name: 'solver.deis order 1 (DDIM)', solver: deis, params: { order: 1, lowerOrderFinal: 'off' }, theory: 1, steps: [32, 64, 128, 256] },
  { name: 'solver.deis order 2 logrho', solver: deis, params: { order: 2, lowerOrderFinal: 'off' }, theory: 2, steps: [32, 64, 128, 256] },
  { name: 'solver.deis order 3 logrho', solver: deis, params: { order: 3, lowerOrderFinal: 'off' }, theory: 3, steps: [512, 1024, 2048, 4096], grid: 'warm' },
  { name: 'solver.deis order 3 rho (ρAB/tAB)', solver: deis, params: { order: 3, basis: 'rho', lowerOrderFinal: 'off' }, theory: 3, steps: [256, 512, 1024, 2048] },
  // PLMS / iPNDM use fixed uniform-step weights: measured on a σ-uniform grid. (Their lower-order starts — Heun
  // for plms, Euler for iPNDM — cap the order at 3 / 2 in the limit, but their error is below the
  // 4th-order term over this range because the solution is nearly linear in σ where they act.)
  { name: 'solver.pndm warmup=prk', solver: pndm, params: { warmup: 'prk' }, theory: 4, steps: [512, 1024, 2048, 4096], grid: 'linear' },
  { name: 'solver.pndm warmup=plms', solver: pndm, params: { warmup: 'plms' }, theory: 4, steps: [512, 1024, 2048, 4096], grid: 'linear' },
  { name: 'solver.ipndm', solver: ipndm, params: {}, theory: 4, steps: [512, 1024, 2048, 4096], grid: 'linear' },
  { name: 'solver.res_multistep', solver: resMultistep, params: {}, theory: 2, steps: [32, 64, 128, 256] },
];

describe('solvers: convergence order on Gaussian data', () => {
  for (const c of ORDER_CASES) {
    it(`${c.name}: measured order within 0.3 of ${c.theory}`, async () => {
      const r = await measuredOrder(c.solver, c.params, c.steps, c.grid ?? 'exponential');
      assert.ok(Math.abs(r.order - c.theory) <= 0.3, `${c.name}: measured ${r.order.toFixed(3)}, errors ${r.errors.map((e) => e.toExponential(2)).join(', ')}`);
    });
  }
  it('with its order-1/2 warm-up on a uniform grid, even the Taylor 3M is second order (starting values)', async () => {
    const r = await measuredOrder(dpmpp3m, { lowerOrderFinal: 'off', thirdOrder: 'taylor' }, [512, 1024, 2048, 4096]);
    assert.ok(Math.abs(r.order - 2) < 0.3, `measured ${r.order}`);
  });
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
