/**
 * Linear multistep (Adams–Bashforth with variable steps) on the probability-flow ODE in σ: the derivative
 * d_k = (x_k − D_k)/σ_k of the last `order` steps is extrapolated by its Lagrange polynomial in σ and integrated
 * exactly over [σ_i, σ_{i+1}]. Karras et al. 2022 discuss it as a baseline ("Elucidating the Design Space…",
 * §3); the method follows Crowson's k-diffusion `sample_lms` (which integrates the same polynomial with
 * scipy.integrate.quad) and diffusers `LMSDiscreteScheduler`. Warm-up uses orders 1, 2, … as history grows.
 */
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams, type OptionsOf } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { axpy, lagrangeIntegral, runSteps, toD } from './common';

const LMS_PARAMS = defineParams({ name: 'order', type: 'integer', default: 4, min: 1, max: 6, doc: 'Number of past derivatives used (4 in k-diffusion and diffusers).' });

async function solveLms(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof LMS_PARAMS>, ctx: SolverContext): Promise<Latent> {
  const ds: Float64Array[] = [];
  return runSteps(model, x, sigmas, ctx, false, (xi, denoised, i, s, sn) => {
    ds.push(toD(xi, s, denoised));
    if (ds.length > o.order) ds.shift();
    const k = Math.min(i + 1, o.order);
    const nodes = Array.from({ length: k }, (_, j) => sigmas[i - j]);
    const terms: [number, Float64Array][] = [];
    for (let j = 0; j < k; j++) terms.push([lagrangeIntegral(nodes, j, s, sn), ds[ds.length - 1 - j]]);
    return axpy(xi, terms);
  });
}

export const LMS = defineSolver({
  type: 'solver.lms',
  title: 'LMS (linear multistep)',
  doc: 'Variable-step Adams–Bashforth in σ on dx/dσ = (x − D)/σ using the last `order` derivatives (k-diffusion sample_lms, diffusers LMSDiscreteScheduler). 1 model evaluation per step.',
  paper: 'Adams–Bashforth linear multistep method (e.g. Hairer, Nørsett & Wanner, "Solving ODEs I", §III.1) as in k-diffusion sample_lms (Crowson) and Karras et al. 2022.',
  params: LMS_PARAMS,
  /** Both references integrate the same Lagrange polynomial in σ; `order` is their own parameter. */
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_lms;', sets: {} },
    diffusers: { doc: 'diffusers LMSDiscreteScheduler;', sets: {} },
  },
  order: 4,
  nfePerStep: 1,
  stochastic: false,
  solve: solveLms,
  // The warm grid keeps the order-1..3 warm-up from limiting the measured order.
  tests: { convergence: [{ steps: [256, 512, 1024, 2048], grid: 'warm' }] },
});
export const lms = LMS.solverEntry.run;

export const LMS_NODES: NodeType[] = [LMS];
