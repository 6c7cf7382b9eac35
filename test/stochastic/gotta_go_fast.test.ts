import { strict as assert } from 'assert';
import { gottaGoFast } from '../../src/engine/solvers/stochastic/gotta_go_fast';
import { brownianSampler } from '../../src/engine/solvers/stochastic/brownian';
import { seededNoise } from '../../src/engine/noise/nodes';
import { getNodeType } from '../../src/engine/registry/index';
import { DpipeError } from '../../src/engine/core/errors';
import type { Denoiser } from '../../src/engine/core/types';
import { gaussianDenoiser } from './linear';

const D = gaussianDenoiser(0.25);
const ends = Float64Array.of(20, 0.05);

async function sample(n: number, relTol: number, seed = 1) {
  const noise = seededNoise(seed);
  const x0 = { shape: [1, n], data: noise.initial([1, n]).map((v) => v * Math.sqrt(0.25 + 400)) };
  let nfe = 0;
  const model: Denoiser = async (x, s) => { nfe++; return D(x, s); };
  const x = await gottaGoFast(model, x0, ends, { relTol }, { noise: noise.stepSampler([1, n], ends) });
  let v = 0;
  for (const e of x.data) v += e * e;
  return { variance: v / n, nfe };
}

describe('stochastic: Gotta Go Fast (adaptive)', () => {
  it('declares itself adaptive and rejects schedules with interior points, naming what to connect', async () => {
    assert.equal(getNodeType('solver.gotta_go_fast')!.solver!.adaptive, true);
    const x0 = { shape: [1, 4], data: new Float64Array(4) };
    await assert.rejects(
      gottaGoFast(async (x) => x, x0, Float64Array.of(20, 5, 0.05, 0), {}, { noise: () => new Float64Array(4) }),
      (e: unknown) => e instanceof DpipeError && e.code === 'E_COMPOSE' && /\[σ_max, σ_min\]/.test(e.message),
    );
  });

  it('reaches the exact terminal variance s² + σ_min² on Gaussian data (20 000 paths) and tighter tolerance costs more NFE', async () => {
    const loose = await sample(20000, 0.5);
    const tight = await sample(20000, 0.01);
    const exact = 0.25 + 0.05 ** 2;
    const se = exact * Math.sqrt(2 / 20000);
    assert.ok(Math.abs(tight.variance - exact) < 4 * se, `variance ${tight.variance} vs ${exact}`);
    assert.ok(tight.nfe > 3 * loose.nfe, `nfe ${tight.nfe} vs ${loose.nfe}`);
  });

  it('a final 0 adds the denoising step D(x; σ_min); each batch item adapts on its own', async () => {
    const x0 = { shape: [2, 50], data: seededNoise(3).initial([2, 50]).map((v) => v * 20) };
    const calls: number[][] = [];
    const model: Denoiser = async (x, s) => { calls.push([x.shape[0], s]); return D(x, s); };
    const withZero = Float64Array.of(20, 0.05, 0);
    const a = await gottaGoFast(model, x0, withZero, {}, { noise: brownianSampler([3, 4], [2, 50], withZero) });
    assert.ok(calls.every(([b]) => b === 1), 'one item per model call');
    assert.equal(calls.filter(([, s]) => s === 0.05).length >= 2, true);
    // Item 1 alone, with its own Brownian path, gives the same result as inside the batch.
    const single = await gottaGoFast(async (x, s) => D(x, s), { shape: [1, 50], data: x0.data.slice(50) }, withZero, {}, { noise: brownianSampler([4], [1, 50], withZero) });
    assert.deepEqual(Array.from(a.data.slice(50)), Array.from(single.data));
  });

  it('stops with E_SOLVER_BUDGET when the evaluation budget is exceeded', async () => {
    const x0 = { shape: [1, 8], data: new Float64Array(8).fill(3) };
    await assert.rejects(
      gottaGoFast(async (x, s) => D(x, s), x0, ends, { relTol: 1e-6, absTol: 1e-9, maxEvaluations: 10 }, { noise: seededNoise(0).stepSampler([1, 8], ends) }),
      (e: unknown) => e instanceof DpipeError && e.code === 'E_SOLVER_BUDGET',
    );
  });
});
