/**
 * Small numerics shared by the stochastic solvers (this folder only). Anything the deterministic family
 * also needs lives in `../common.ts`.
 */
import type { Latent, NoiseSampler, SolverContext, StepEvent } from '../../core/types';
import { combine } from '../../core/latent';
import type { ParamSpec } from '../../registry/types';

/**
 * k-diffusion's `get_ancestral_step` (Karras et al. 2022 style ancestral split): the noise level σ_down to
 * step to deterministically and the noise σ_up to add so that σ_down² + σ_up² = σ_next².
 * σ_up = min(σ_next, η·√(σ_next²(σ² − σ_next²)/σ²)).
 */
export function ancestralStep(sigma: number, sigmaNext: number, eta: number): [number, number] {
  if (!eta) return [sigmaNext, 0];
  const up = Math.min(sigmaNext, eta * Math.sqrt(Math.max(0, (sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma))));
  const down = Math.sqrt(Math.max(0, sigmaNext * sigmaNext - up * up));
  return [down, up];
}

/** x + c·noise(σ, σ_next), skipping the draw when c is 0 only if `skipZero`. */
export function addNoise(x: Latent, noise: NoiseSampler, sigma: number, sigmaNext: number, c: number): Latent {
  const z = noise(sigma, sigmaNext);
  return combine(x, [[1, x], [c, z]]);
}

/** −log σ: the half-log-SNR λ of a VE noise level (λ = log α/σ_vp = −log σ_ve). */
export const lambdaOf = (sigma: number): number => -Math.log(sigma);

/** Reports a finished step to the run (the inspector's x_t track). */
export function reportStep(ctx: SolverContext, step: number, sigmas: Float64Array, x: Latent, denoised?: Latent): void {
  const ev: StepEvent = { step, sigma: sigmas[step], sigmaNext: sigmas[step + 1], x, denoised };
  ctx.onStep?.(ev);
}

/** −expm1(−h) = 1 − e^{−h}, accurate for small h. */
export const oneMinusExp = (h: number): number => -Math.expm1(-h);

// Common parameter specs ----------------------------------------------------------------------------

export const ETA_PARAM: ParamSpec = {
  name: 'eta', type: 'number', default: 1, min: 0, max: 10, step: 0.05,
  doc: 'Stochasticity η: 0 gives the deterministic (ODE) solver, 1 the reverse SDE / ancestral sampler (k-diffusion default 1).',
};

export const S_NOISE_PARAM: ParamSpec = {
  name: 'sNoise', type: 'number', default: 1, min: 0, max: 2, step: 0.001,
  doc: 'Scale of every noise draw (Karras et al. 2022 S_noise; k-diffusion `s_noise`, default 1). Values slightly above 1 (1.003–1.007) compensate detail loss.',
};
