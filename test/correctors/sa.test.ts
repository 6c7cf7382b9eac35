import { strict as assert } from 'assert';
import { makeSaCorrector } from '../../src/engine/correctors/sa';
import { euler } from '../../src/engine/solvers/euler';
import { dpmpp2m } from '../../src/engine/solvers/dpmpp';
import type { SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';
import { getNodeType } from '../../src/engine/registry/index';
import type { Latent } from '../../src/engine/core/types';
import { linearAnalysis, logUniform, slope } from '../stochastic/linear';

const STEPS = [20, 40, 80];
const odeError = async (corrector?: ReturnType<typeof makeSaCorrector>, solver: SolverFn<Params> = euler) => {
  const errs: number[] = [];
  for (const n of STEPS) {
    const sig = logUniform(n);
    const r = await linearAnalysis(solver, {}, sig, 0.25, 8, corrector ? { corrector } : {});
    errs.push(Math.abs(r.g0 - Math.sqrt((0.25 + sig[n] ** 2) / (0.25 + sig[0] ** 2))));
  }
  return errs;
};

describe('correctors: SA-Solver corrector (τ = 0) after an ODE predictor', () => {
  it('order 1 recomputes the step as DDIM with the model output at the predicted point', async () => {
    const hook = makeSaCorrector({ order: 1, tau: 0 });
    const D = (x: Latent) => ({ shape: x.shape, data: x.data.map((v) => 0.5 * v + 1) });
    const x: Latent = { shape: [1, 2], data: Float64Array.of(4, -2) };
    const xNext: Latent = { shape: [1, 2], data: Float64Array.of(3, -1) };
    const sigmas = Float64Array.of(2, 0.5, 0);
    const out = await hook.correct({ model: async (v) => D(v), step: 0, sigmas, x, xNext, history: [D(x)], historySigmas: [2], noise: () => new Float64Array(2) });
    // (σ_t/σ_s)·x + (1 − σ_t/σ_s)·D(xNext), D(xNext) = [2.5, 0.5]
    const want = [0.25 * 4 + 0.75 * 2.5, 0.25 * -2 + 0.75 * 0.5];
    out.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-13));
  });

  it('raises the order of the ODE predictor: Euler 1 → ≥ 2 with order 2; DPM-Solver++(2M) 2 → 3 with order 3 (Gaussian data)', async () => {
    const plain = slope(STEPS, await odeError());
    const eulerSa = await odeError(makeSaCorrector({ order: 2, tau: 0 }));
    const twoM = slope(STEPS, await odeError(undefined, dpmpp2m));
    const twoMSa = slope(STEPS, await odeError(makeSaCorrector({ order: 3, tau: 0 }), dpmpp2m));
    assert.ok(Math.abs(plain - 1) < 0.3, `Euler ${plain}`);
    assert.ok(slope(STEPS, eulerSa) > 1.7, `Euler + SA(2) ${slope(STEPS, eulerSa)}`);
    assert.ok(Math.abs(twoM - 2) < 0.3, `2M ${twoM}`);
    assert.ok(Math.abs(twoMSa - 3) < 0.3, `2M + SA(3) ${twoMSa}`);
  });

  it('costs one model evaluation per step (none on the step to σ = 0) and is declared an ODE corrector', async () => {
    const sig = Float64Array.from([...logUniform(6), 0]);
    const r = await linearAnalysis(euler, {}, sig, 0.25, 8, { corrector: makeSaCorrector({}) });
    assert.equal(r.nfe, 7 + 6);
    assert.deepEqual(getNodeType('corrector.sa')!.corrector, { nfePerStep: 1, follows: 'deterministic' });
    assert.equal(getNodeType('corrector.unic')!.corrector!.follows, 'deterministic');
  });
});
