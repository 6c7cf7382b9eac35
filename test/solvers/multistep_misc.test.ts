import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import { logRhoCoefficients } from '../../src/engine/solvers/deis';
import { pndm, ipndm } from '../../src/engine/solvers/pndm';
import { adaptiveRange, dpmAdaptive, dpmFast, fastOrders } from '../../src/engine/solvers/dpmFast';
import { lagrangeIntegral } from '../../src/engine/solvers/common';
import { karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { finish } from '../../src/engine/schedules/common';
import { counted, ctxWith, gmmDenoiser } from '../helpers/gmm';

const x40 = () => ({ shape: [1, 3, 8, 8], data: new Float64Array(192).map((_, i) => 40 * Math.sin(i)) });

describe('solvers: DEIS, PNDM/iPNDM, DPM-Solver-fast/adaptive details', () => {
  it('DEIS log-ρ coefficients: Σ C_j = ρ_next − ρ_0, and C_j = ∫ ℓ_j(log ρ) dρ (checked by fine trapezoid sums)', () => {
    const rhos = [3, 4.5, 7];
    const c = logRhoCoefficients(rhos, 2);
    assert.ok(Math.abs(c.reduce((a, b) => a + b, 0) - (2 - 3)) < 1e-13);
    const ls = rhos.map(Math.log);
    for (let j = 0; j < 3; j++) {
      let acc = 0;
      const N = 20000;
      for (let q = 0; q <= N; q++) {
        const r = 3 + (-1 * q) / N;
        let l = 1;
        for (let k = 0; k < 3; k++) if (k !== j) l *= (Math.log(r) - ls[k]) / (ls[j] - ls[k]);
        acc += (q === 0 || q === N ? 0.5 : 1) * l * (-1 / N);
      }
      assert.ok(Math.abs(c[j] - acc) < 1e-8, `C_${j}: ${c[j]} vs ${acc}`);
    }
    // to ρ = 0: ∫_0^{ρ0} ℓ_0 dρ with ℓ_0 ≡ 1 for one node
    assert.ok(Math.abs(logRhoCoefficients([3], 0)[0] + 3) < 1e-15);
  });
  it('Lagrange integrals: exact for polynomials (∫_1^0 of the basis at 0,1,2 for τ² = Σ ℓ_j·t_j²)', () => {
    const ts = [2, 1, 0];
    const v = ts.reduce((a, t, j) => a + lagrangeIntegral(ts, j, 1, 0) * t * t, 0);
    assert.ok(Math.abs(v - -1 / 3) < 1e-15);
  });
  it('PNDM costs 1 per step after its warm-up: plms 11 for 10 steps (diffusers df_pndm_n10), prk 4 per warm-up step', async () => {
    const s = finish(karrasSigmas(10, 0.03, 14, 7), 'sigma_min', 0.03).subarray(0, 11);
    for (const [p, nfe] of [[{ warmup: 'plms' }, 11], [{ warmup: 'prk' }, 19]] as const) {
      const { model, calls } = counted(gmmDenoiser);
      await pndm(model, x40(), s, p, ctxWith());
      assert.equal(calls.length, nfe);
    }
    const { model, calls } = counted(gmmDenoiser);
    await ipndm(model, x40(), s, {}, ctxWith());
    assert.equal(calls.length, 10);
  });
  it('DPM-Solver-fast orders; adaptive solvers take [σ_max, σ_min(, 0)] only, a final 0 adds one evaluation', async () => {
    assert.deepEqual(fastOrders(10), [3, 3, 3, 1]);
    assert.deepEqual(fastOrders(9), [3, 3, 2, 1]);
    assert.deepEqual(fastOrders(11), [3, 3, 3, 2]);
    assert.throws(() => adaptiveRange('solver.dpm_fast', Float64Array.from([10, 5, 1, 0])), (e: unknown) => e instanceof DpipeError && e.code === 'E_COMPOSE' && /chooses its own steps/.test(e.message));
    const a = counted(gmmDenoiser);
    const x = await dpmFast(a.model, x40(), Float64Array.from([40, 0.01, 0]), { nfe: 10 }, ctxWith());
    assert.equal(a.calls.length, 11);
    assert.equal(a.calls[10].role, 'final');
    assert.ok(x.data.every(Number.isFinite));
    await assert.rejects(dpmAdaptive(gmmDenoiser, x40(), Float64Array.from([40, 0.01]), { rtol: 1e-6, atol: 1e-7, maxNfe: 30 }, ctxWith()), (e: unknown) => e instanceof DpipeError && e.code === 'E_SOLVER_BUDGET');
  });
});

import { solverNfe } from '../../src/engine/registry/index';
import { SOLVER_NODES } from '../../src/engine/solvers/index';

describe('solvers: the entry\'s NFE matches the evaluations every deterministic solver makes', () => {
  const zero = finish(karrasSigmas(7, 0.01, 40, 7), 'zero', 0);
  const smin = karrasSigmas(7, 0.01, 40, 7);
  const configs: [string, Record<string, unknown>][] = [
    ['solver.dpm_singlestep', { order: 3 }], ['solver.dpm_singlestep', { order: 2, stages: 'diffusers' }], ['solver.dpm_singlestep', { order: 3, stages: 'dpm-solver' }],
    ['solver.pndm', { warmup: 'prk' }], ['solver.unipc', { variant: 'bh2' }],
  ];
  for (const node of SOLVER_NODES) {
    if (!node.solverEntry || node.solver?.stochastic || node.solver?.adaptive) continue;
    const extra = configs.filter(([t]) => t === node.type).map(([, p]) => p);
    for (const params of [{}, ...extra]) {
      for (const [name, s] of [['to 0', zero], ['to σ_min', smin]] as const) {
        it(`${node.type} ${JSON.stringify(params)} ${name}`, async () => {
          const out = await node.evaluate({ nodeId: 'n', baseDir: '.', services: {} as never }, {}, params as never);
          const sampler = out.sampler as { run: (...a: unknown[]) => Promise<unknown> };
          const { model, calls } = counted(gmmDenoiser);
          await sampler.run(model, x40(), s, params, ctxWith());
          assert.equal(calls.length, solverNfe(node.type, s, params as never));
        });
      }
    }
  }
});
