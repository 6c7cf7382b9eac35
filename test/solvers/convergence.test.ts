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
import { measuredOrder, type Grid } from '../helpers/convergence';

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
});
