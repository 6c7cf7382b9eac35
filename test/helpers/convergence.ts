/**
 * Convergence-order measurement on Gaussian data x0 ~ N(m, s²I), where the probability-flow ODE has the
 * closed-form solution x_σ = m + √((s²+σ²)/(s²+σ0²))(x_σ0 − m). The run goes from σ_max to σ_min (no final
 * 0, so the last step is not a special case) on an exponential (log-uniform) or Karras schedule; the error
 * is the max-abs difference to the exact solution; the order is the least-squares slope of log error
 * against log step count.
 */
import type { SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';
import { exponentialSigmas, karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { ctxWith, gaussianDenoiser, gaussianFlow } from './gmm';

export const GAUSS = { m: 0.3, s: 0.5, sigmaMax: 20, sigmaMin: 0.05 };

export function startPoint(n = 16): Float64Array {
  // Deterministic spread of starting values (no RNG needed).
  return Float64Array.from({ length: n }, (_, i) => GAUSS.sigmaMax * Math.sin(1.7 * i + 0.3));
}

export type Grid = 'exponential' | 'karras' | 'warm' | 'linear';

/**
 * σ grids of `steps` steps. `warm`: log-uniform, except that the first two steps are shortened to h²
 * (h = the uniform log-σ step), so a multistep method's lower-order warm-up contributes O(h⁴) and the
 * measured order is that of the multistep formula itself (its theoretical order assumes exact starting values).
 * `linear`: uniform in σ (the fixed-coefficient PLMS/iPNDM formulas assume equal steps).
 */
export function grid(steps: number, kind: Grid): Float64Array {
  const { sigmaMax, sigmaMin } = GAUSS;
  if (kind === 'karras') return karrasSigmas(steps + 1, sigmaMin, sigmaMax, 7);
  if (kind === 'linear') return karrasSigmas(steps + 1, sigmaMin, sigmaMax, 1); // uniform in σ
  if (kind === 'exponential') return exponentialSigmas(steps + 1, sigmaMin, sigmaMax);
  const L = Math.log(sigmaMax / sigmaMin);
  const h = L / steps;
  const w = Math.min(h * h, h / 4);
  const head = [Math.log(sigmaMax), Math.log(sigmaMax) - w, Math.log(sigmaMax) - 2 * w];
  const rest = exponentialSigmas(steps - 1, sigmaMin, Math.exp(head[2]));
  return Float64Array.from([...head.slice(0, 2).map(Math.exp), ...rest]);
}

export async function gaussianError(solver: SolverFn<Params>, params: Params, steps: number, schedule: Grid = 'exponential'): Promise<number> {
  const { m, s, sigmaMax, sigmaMin } = GAUSS;
  const sigmas = grid(steps, schedule);
  const x0 = startPoint();
  const x = await solver(gaussianDenoiser(m, s), { shape: [1, x0.length], data: x0 }, sigmas, params, ctxWith());
  const exact = gaussianFlow(x0, sigmaMax, sigmaMin, m, s);
  let e = 0;
  for (let i = 0; i < exact.length; i++) e = Math.max(e, Math.abs(x.data[i] - exact[i]));
  return e;
}

/** Least-squares slope of −log(error) against log(steps). */
export function slope(steps: readonly number[], errors: readonly number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map((e) => -Math.log(e));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

export async function measuredOrder(solver: SolverFn<Params>, params: Params, steps: readonly number[], schedule: Grid = 'exponential'): Promise<{ order: number; errors: number[] }> {
  const errors: number[] = [];
  for (const n of steps) errors.push(await gaussianError(solver, params, n, schedule));
  return { order: slope(steps, errors), errors };
}
