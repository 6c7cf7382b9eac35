import { strict as assert } from 'assert';
import { gottaGoFast } from '../../src/engine/solvers/stochastic/gotta_go_fast';
import { brownianSampler } from '../../src/engine/noise/brownian';
import { seededNoise } from '../../src/engine/noise/nodes';
import { getNodeType } from '../../src/engine/registry/index';
import { DpipeError } from '../../src/engine/core/errors';
import type { Denoiser, StepEvent } from '../../src/engine/core/types';
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

  it('batch > 1 reports progress: one step event each time the slowest item moves on, with its σ before and after', async () => {
    const withZero = Float64Array.of(20, 0.05, 0);
    const n = 50;
    const x0 = { shape: [2, n], data: seededNoise(3).initial([2, n]).map((v) => v * 20) };
    // Each item alone (same Brownian path): its accepted steps (σ → σ_next) and the attempt (round) each was accepted in.
    const alone = await Promise.all([0, 1].map(async (b) => {
      let attempts = 0;
      const accepted: { round: number; sigma: number; sigmaNext: number }[] = [];
      const model: Denoiser = async (x, s, req) => { if (req.role === 'stage') attempts++; return D(x, s); };
      const item = { shape: [1, n], data: x0.data.slice(b * n, (b + 1) * n) };
      const x = await gottaGoFast(model, item, withZero, {}, {
        noise: brownianSampler([3 + b], [1, n], withZero),
        onStep: (e) => { if (e.sigmaNext > 0) accepted.push({ round: attempts, sigma: e.sigma, sigmaNext: e.sigmaNext }); },
      });
      return { x, accepted, rounds: attempts };
    }));
    // The batch advances in rounds (one attempt per unfinished item): after round r the slowest item is at
    // max_b σ_b(r); an event is due whenever that maximum falls.
    const start = alone[0].accepted[0].sigma; // σ(t = 1) = σ_max as the solver computes it, σ_min·e^{ln(σ_max/σ_min)}
    assert.ok(Math.abs(start - 20) < 1e-12);
    const sigmaAfter = (b: number, r: number) => alone[b].accepted.filter((a) => a.round <= r).pop()?.sigmaNext ?? start;
    const expected: [number, number][] = [];
    let slowest = start;
    for (let r = 1; r <= Math.max(alone[0].rounds, alone[1].rounds); r++) {
      const m = Math.max(sigmaAfter(0, r), sigmaAfter(1, r));
      if (m < slowest) expected.push([slowest, m]);
      slowest = m;
    }
    expected.push([0.05, 0]); // the final denoising step

    const events: StepEvent[] = [];
    const evalSteps: number[] = [];
    const model: Denoiser = async (x, s, req) => { evalSteps.push(req.step); return D(x, s); };
    const out = await gottaGoFast(model, x0, withZero, {}, { noise: brownianSampler([3, 4], [2, n], withZero), onStep: (e) => events.push(e) });
    assert.ok(expected.length > 20, `${expected.length} events expected`);
    assert.deepEqual(events.map((e) => [e.sigma, e.sigmaNext]), expected);
    assert.deepEqual(events.map((e) => e.step), expected.map((_, i) => i));
    // Evaluations carry the index of the step event they precede: non-decreasing, ending at the last event.
    assert.ok(evalSteps.every((k, i) => i === 0 || k >= evalSteps[i - 1]));
    assert.equal(evalSteps[evalSteps.length - 1], events.length - 1);
    // Every event holds the whole batch; the last is the result, and each item is what it is alone.
    assert.ok(events.every((e) => e.x.shape[0] === 2 && e.x.data.length === 2 * n && e.denoised!.data.length === 2 * n));
    assert.deepEqual(Array.from(events[events.length - 1].x.data), Array.from(out.data));
    assert.deepEqual(Array.from(out.data), [...alone[0].x.data, ...alone[1].x.data]);
  });

  it('stops with E_SOLVER_BUDGET when the evaluation budget is exceeded', async () => {
    const x0 = { shape: [1, 8], data: new Float64Array(8).fill(3) };
    await assert.rejects(
      gottaGoFast(async (x, s) => D(x, s), x0, ends, { relTol: 1e-6, absTol: 1e-9, maxEvaluations: 10 }, { noise: seededNoise(0).stepSampler([1, 8], ends) }),
      (e: unknown) => e instanceof DpipeError && e.code === 'E_SOLVER_BUDGET',
    );
  });
});
