/**
 * Convergence orders of the stochastic solvers on Gaussian data, measured exactly (no Monte Carlo): the weak
 * error of the terminal second moment |Var(x_N) − (s² + σ_N²)|, computed by the linear analysis of
 * `linear.ts`, on log-uniform schedules from σ = 20 to 0.05 with 40, 80, 160 steps. Slope of log error vs
 * log steps. i.i.d. noise unless stated; DPM-Solver++ SDE also with Brownian-path noise (what it is built for).
 *
 * Expected: DDPM / DDIM-η / ER-SDE-1: weak order 1 (Euler–Maruyama type). DPM-Solver++(2S) ancestral,
 * DPM-Solver++(2M) SDE (midpoint, Heun), ER-SDE-2, SA-Solver (2, 2): 2. The third-order multistep variants
 * (3M SDE, ER-SDE-3, SA-Solver (3, 3)) start with first- and second-order warm-up steps whose local error
 * O(h²) bounds the global order by 2 on a uniform-in-λ grid, so 2 is what they show here.
 */
import { strict as assert } from 'assert';
import type { SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';
import * as S from '../../src/engine/solvers/stochastic/index';
import { linearAnalysis, linearAnalysisBrownian, logUniform, slope } from './linear';

const STEPS = [40, 80, 160];

async function order(fn: SolverFn<Params>, opts: Params, brownian = false): Promise<number> {
  const errs: number[] = [];
  for (const n of STEPS) errs.push((await (brownian ? linearAnalysisBrownian : linearAnalysis)(fn, opts, logUniform(n))).weakError);
  return slope(STEPS, errs);
}

const CASES: [string, SolverFn<Params>, Params, number, boolean?][] = [
  ['DDPM (fixed_small)', S.ddpm, {}, 1],
  ['DDIM η = 0.5', S.ddimEta, { eta: 0.5 }, 1],
  ['ER-SDE-1', S.erSde, { order: 1 }, 1],
  ['DPM-Solver++(2S) ancestral', S.dpmpp2sAncestral, {}, 2],
  ['DPM-Solver++(2M) SDE midpoint', S.dpmpp2mSde, {}, 2],
  ['DPM-Solver++(2M) SDE heun', S.dpmpp2mSde, { solverType: 'heun' }, 2],
  ['DPM-Solver++(3M) SDE', S.dpmpp3mSde, {}, 2],
  ['ER-SDE-2', S.erSde, { order: 2, integrationPoints: 20000 }, 2],
  ['ER-SDE-3', S.erSde, { order: 3, integrationPoints: 20000 }, 2],
  ['SA-Solver (2, 2), τ = 1', S.saSolver, {}, 2],
  ['SA-Solver (3, 3), τ = 1', S.saSolver, { predictorOrder: 3, correctorOrder: 3 }, 2],
  ['SA-Solver (1, 0), τ = 1 (= DDPM)', S.saSolver, { predictorOrder: 1, correctorOrder: 0 }, 1],
  ['DPM-Solver++ SDE, Brownian noise', S.dpmppSde, {}, 2, true],
  ['DPM-Solver++ SDE, i.i.d. noise', S.dpmppSde, {}, 1],
];

describe('stochastic: weak order on Gaussian data (exact second moment)', () => {
  for (const [name, fn, opts, expected, brownian] of CASES) {
    it(`${name}: order ${expected} ± 0.3`, async () => {
      const p = await order(fn, opts, brownian);
      assert.ok(Math.abs(p - expected) <= 0.3, `measured ${p.toFixed(2)}`);
    });
  }
});
