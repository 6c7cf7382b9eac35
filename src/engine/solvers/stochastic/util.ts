/**
 * Small numerics shared by the stochastic solvers (this folder only). Anything the deterministic family
 * also needs lives in `../common.ts` (the step loop `runSteps` among them).
 */
import type { Latent, NoiseSampler } from '../../core/types';
import { combine } from '../../core/latent';
import { defineParam } from '../../registry/params';
export { runSteps, type StepFn } from '../common';

/** x + c·noise(σ, σ_next) (the draw is made even when c = 0, so draw counts follow the references). */
export function addNoise(x: Latent, noise: NoiseSampler, sigma: number, sigmaNext: number, c: number): Latent {
  const z = noise(sigma, sigmaNext);
  return combine(x, [[1, x], [c, z]]);
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
