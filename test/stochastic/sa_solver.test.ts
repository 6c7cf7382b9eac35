import { strict as assert } from 'assert';
import { expPolyIntegral, lagrangeBasis, saCoefficients, saSolver } from '../../src/engine/solvers/stochastic/sa_solver';
import { RUNS, fileNoise, maxAbs, readNpy, recording, startState, toOutputSpace } from './gmm';

describe('stochastic: SA-Solver', () => {
  it('reproduces diffusers SASolverScheduler (df_sasolver_n10) within 1e-4, one draw per step', async () => {
    const run = RUNS.df_sasolver_n10;
    const sigmas = Float64Array.from(run.sigmas!);
    const rec = recording();
    const noise = fileNoise();
    const x = await saSolver(rec.denoiser, startState(run), sigmas, { tauSigmaRange: [0.5716, 5.1111] }, { noise });
    const err = maxAbs(toOutputSpace(run, x, sigmas[10]), readNpy('df_sasolver_n10.x_final.npy').data);
    assert.ok(err < 1e-4, `max-abs ${err}`);
    assert.equal(rec.sigmas.length, 10);
    assert.equal(noise.calls.length, run.noise_draws);
  });

  it('exp-polynomial integrals match numerical quadrature; Lagrange basis interpolates', () => {
    for (const m of [0, 1, 2, 3]) {
      const [a, b, k] = [-0.7, 1.3, 1.6];
      let q = 0;
      const n = 20000;
      for (let i = 0; i < n; i++) { const u = a + ((i + 0.5) * (b - a)) / n; q += Math.exp(k * u) * u ** m * ((b - a) / n); }
      assert.ok(Math.abs(expPolyIntegral(m, a, b, k) - q) < 1e-7 * Math.max(1, Math.abs(q)), `m=${m}`);
    }
    const nodes = [0.3, -1.1, 2.0];
    const basis = lagrangeBasis(nodes);
    nodes.forEach((xj, j) => basis.forEach((poly, i) => {
      const v = poly.reduce((acc, c) => acc * xj + c, 0);
      assert.ok(Math.abs(v - (i === j ? 1 : 0)) < 1e-12);
    }));
  });

  it('τ = 0, order 1 is DDIM: coefficient (1+τ²)σ_t·c₀ = 1 − σ_t/σ_s', () => {
    const [ss, st] = [2.0, 0.7];
    const c = saCoefficients(-Math.log(ss), -Math.log(st), [-Math.log(ss)], 0);
    assert.ok(Math.abs(st * c[0] - (1 - st / ss)) < 1e-14);
  });
});
