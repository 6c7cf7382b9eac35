/**
 * Convergence orders of the stochastic solvers on Gaussian data, measured exactly (no Monte Carlo): the weak
 * error of the terminal second moment |Var(x_N) − (s² + σ_N²)|, computed by the linear analysis of
 * `linear.ts`, on log-uniform schedules from σ = 20 to 0.05 with 40, 80, 160 steps. Slope of log error vs
 * log steps. i.i.d. noise unless stated; DPM-Solver++ SDE also with Brownian-path noise (what it is built for).
 * The cases are the `tests.weakOrder` declarations of the solver entries in the registry.
 *
 * Expected: Euler ancestral / DDPM / DDIM-η / ER-SDE-1: weak order 1 (Euler–Maruyama type). DPM-Solver++(2S) ancestral,
 * DPM-Solver++(2M) SDE (midpoint, Heun), ER-SDE-2, SA-Solver (2, 2): 2. The third-order multistep variants
 * (3M SDE, ER-SDE-3, SA-Solver (3, 3)) start with first- and second-order warm-up steps whose local error
 * O(h²) bounds the global order by 2 on a uniform-in-λ grid, so 2 is what they show here.
 */
import { strict as assert } from 'assert';
import type { SolverFn } from '../../src/engine/core/types';
import { nodeTypes } from '../../src/engine/registry/index';
import type { OrderCase } from '../../src/engine/registry/node';
import type { Params } from '../../src/engine/registry/types';
import { linearAnalysis, linearAnalysisBrownian, logUniform, slope } from './linear';

async function order(fn: SolverFn<Params>, opts: Params, steps: readonly number[], brownian = false): Promise<number> {
  const errs: number[] = [];
  for (const n of steps) errs.push((await (brownian ? linearAnalysisBrownian : linearAnalysis)(fn, opts, logUniform(n))).weakError);
  return slope([...steps], errs);
}

/** Every `weakOrder` case the solver entries of the registry declare, with the order it must show. */
const CASES = [...nodeTypes().values()].flatMap((node) =>
  (node.solverEntry?.tests.weakOrder ?? []).map((c: OrderCase) => ({ ...c, params: (c.params ?? {}) as Params, type: node.type, run: node.solverEntry!.run, expected: c.order ?? node.solver!.order })),
);

describe('stochastic: weak order on Gaussian data (exact second moment)', () => {
  it('the registry declares the weak-order cases of the stochastic solvers', () => {
    assert.ok(CASES.length >= 15, `${CASES.length} cases`);
  });
  for (const c of CASES) {
    const name = `${c.type} ${JSON.stringify(c.params)}${c.brownian ? ', Brownian noise' : ''}${c.note ? ` — ${c.note}` : ''}`;
    it(`${name}: order ${c.expected} ± 0.3`, async () => {
      const p = await order(c.run, c.params, c.steps, c.brownian);
      assert.ok(Math.abs(p - c.expected) <= 0.3, `measured ${p.toFixed(2)}`);
    });
  }
});
