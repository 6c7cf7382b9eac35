/**
 * Small numerics shared by the stochastic solvers (this folder only). Anything the deterministic family
 * also needs lives in `../common.ts`.
 */
import type { Denoiser, Latent, NoiseSampler, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineParam } from '../../registry/params';
import { checkAbort, emit, maybeCorrect } from '../common';

/** x + c·noise(σ, σ_next) (the draw is made even when c = 0, so draw counts follow the references). */
export function addNoise(x: Latent, noise: NoiseSampler, sigma: number, sigmaNext: number, c: number): Latent {
  const z = noise(sigma, sigmaNext);
  return combine(x, [[1, x], [c, z]]);
}

/**
 * One step σ → σ_next of a sampler run by {@link runSteps}: from x and its x̂0 = D(x; σ), the next x.
 * `i` is the step index (σ = sigmas[i], σ_next = sigmas[i + 1]).
 */
export type StepFn = (x: Latent, denoised: Latent, i: number, sigma: number, sigmaNext: number) => Latent | Promise<Latent>;

/**
 * The step loop of the samplers here that evaluate x̂0 once at the start of each step (k-diffusion writes it
 * out in every sampler): per step, stop if the run was aborted, evaluate D(x; σ_i) (role `predictor`), let
 * `step` produce x_{i+1}, then, when `corrector` is true, run the attached corrector hook with the x̂0 history,
 * and report the step. The samplers keep their own multistep state in the closure.
 */
export async function runSteps(model: Denoiser, x0: Latent, sigmas: Float64Array, ctx: SolverContext, corrector: boolean, step: StepFn): Promise<Latent> {
  let x = x0;
  const hist: Latent[] = [];
  const histS: number[] = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    checkAbort(ctx, i, sigmas.length - 1);
    const s = sigmas[i];
    const sn = sigmas[i + 1];
    const denoised = await model(x, s, { step: i, role: 'predictor' });
    const xPrev = x;
    x = await step(x, denoised, i, s, sn);
    if (corrector) {
      hist.push(denoised);
      histS.push(s);
      x = await maybeCorrect(ctx, { model, step: i, sigmas, x: xPrev, xNext: x, history: hist, historySigmas: histS });
    }
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

/** −expm1(−h) = 1 − e^{−h}, accurate for small h. */
export const oneMinusExp = (h: number): number => -Math.expm1(-h);

// Common parameter specs ----------------------------------------------------------------------------

export const ETA_PARAM = defineParam({
  name: 'eta', type: 'number', default: 1, min: 0, max: 10, step: 0.05,
  doc: 'Stochasticity η: 0 gives the deterministic (ODE) solver, 1 the reverse SDE / ancestral sampler (k-diffusion default 1).',
});

export const S_NOISE_PARAM = defineParam({
  name: 'sNoise', type: 'number', default: 1, min: 0, max: 2, step: 0.001,
  doc: 'Scale of every noise draw (Karras et al. 2022 S_noise; k-diffusion `s_noise`, default 1). Values slightly above 1 (1.003–1.007) compensate detail loss.',
});

/** Step counts of the weak-order measurement on Gaussian data (test/stochastic/order.test.ts). */
export const WEAK_STEPS = [40, 80, 160] as const;
