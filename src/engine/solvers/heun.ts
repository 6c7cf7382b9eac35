/**
 * Heun's second-order method on the probability-flow ODE, with EDM churn: Karras et al. 2022, "Elucidating
 * the Design Space of Diffusion-Based Generative Models", Algorithm 2 (deterministic with S_churn = 0,
 * Algorithm 1). The step to σ_next = 0 is a plain Euler step (the paper's line 9 condition), so a run of n
 * steps ending at 0 costs 2n − 1 model evaluations. Reproduces k-diffusion `sample_heun` and diffusers
 * `HeunDiscreteScheduler`.
 */
import { defineSolver, stagedNfe, type NodeType } from '../registry/node';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { axpy, CHURN_PARAMS, checkAbort, churn, emit, toD, type Churn } from './common';

async function solveHeun(model: Denoiser, x: Latent, sigmas: Float64Array, o: Churn, ctx: SolverContext): Promise<Latent> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    checkAbort(ctx, i, steps);
    const sigmaNext = sigmas[i + 1];
    const [xh, sigmaHat] = churn(x, sigmas[i], steps, o, ctx, sigmaNext);
    const denoised = await model(xh, sigmaHat, { step: i, role: 'predictor' });
    const d = toD(xh, sigmaHat, denoised);
    const dt = sigmaNext - sigmaHat;
    if (sigmaNext === 0) {
      x = axpy(xh, [[dt, d]]);
    } else {
      const x2 = axpy(xh, [[dt, d]]);
      const denoised2 = await model(x2, sigmaNext, { step: i, role: 'stage' });
      const d2 = toD(x2, sigmaNext, denoised2);
      x = axpy(xh, [[dt / 2, d], [dt / 2, d2]]);
    }
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

export const HEUN = defineSolver({
  type: 'solver.heun',
  title: 'Heun (EDM)',
  doc: "Heun's 2nd-order method (trapezoidal corrector on an Euler predictor) with optional EDM churn. Presets: k-diffusion (sample_heun), diffusers (HeunDiscreteScheduler, no churn). 2 model evaluations per step, 1 on a final step to σ = 0.",
  paper: 'Karras, Aittala, Aila, Laine 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Algorithms 1 and 2.',
  params: CHURN_PARAMS,
  /** k-diffusion `sample_heun` is this block as it is; diffusers `HeunDiscreteScheduler` has no churn. */
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_heun;', sets: {} },
    diffusers: { doc: 'diffusers HeunDiscreteScheduler (no churn);', sets: { sChurn: 0 } },
  },
  order: 2,
  nfePerStep: 2,
  nfe: (sigmas) => stagedNfe(sigmas, 2),
  stochastic: false,
  solve: solveHeun,
  tests: { convergence: [{ steps: [16, 32, 64, 128] }] },
});
export const heun = HEUN.solverEntry.run;

export const HEUN_NODES: NodeType[] = [HEUN];
