/**
 * Euler's method on the probability-flow ODE (= deterministic DDIM) and Euler ancestral.
 *
 * Euler: Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Algorithm 2
 * without the 2nd-order correction (with optional churn); with S_churn = 0 it is DDIM (Song, Meng & Ermon 2021,
 * "Denoising Diffusion Implicit Models", eq. 12 with η = 0), which in VE coordinates is exactly an Euler step
 * x_next = x + (σ_next − σ)·(x − D)/σ. Reproduces k-diffusion `sample_euler`, diffusers
 * `EulerDiscreteScheduler` and, on the same σs, `DDIMScheduler` (η = 0).
 *
 * Euler ancestral: the DDPM ancestral step (Ho et al. 2020, "Denoising Diffusion Probabilistic Models",
 * Algorithm 2) in the form of k-diffusion `sample_euler_ancestral`: an Euler step to σ_down, then noise σ_up·z
 * (the split of Song et al. 2021 DDIM eq. 16 with η). Reproduces k-diffusion (no draw where σ_next = 0) and
 * diffusers `EulerAncestralDiscreteScheduler` (a draw at every step, the last one multiplied by σ_up = 0);
 * `noiseDraws` chooses, which matters only for reproducing a run draw for draw.
 */
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams, type OptionsOf } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { ancestralStep, axpy, CHURN_PARAMS, checkAbort, churn, emit, maybeCorrect, runSteps, toD, type Churn } from './common';

async function solveEuler(model: Denoiser, x: Latent, sigmas: Float64Array, o: Churn, ctx: SolverContext): Promise<Latent> {
  const steps = sigmas.length - 1;
  const history: Latent[] = [];
  const historySigmas: number[] = [];
  for (let i = 0; i < steps; i++) {
    checkAbort(ctx, i, steps);
    const [xh, sigmaHat] = churn(x, sigmas[i], steps, o, ctx, sigmas[i + 1]);
    const denoised = await model(xh, sigmaHat, { step: i, role: 'predictor' });
    const d = toD(xh, sigmaHat, denoised);
    let next = axpy(xh, [[sigmas[i + 1] - sigmaHat, d]]);
    history.push(denoised);
    historySigmas.push(sigmaHat);
    next = await maybeCorrect(ctx, { model, step: i, sigmas, x: xh, xNext: next, history, historySigmas });
    x = next;
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

export const EULER = defineSolver({
  type: 'solver.euler',
  title: 'Euler (DDIM)',
  doc: 'First-order Euler steps on the probability-flow ODE; identical to deterministic DDIM. Optional EDM churn (S_churn > 0) makes it stochastic. Presets: k-diffusion (sample_euler), diffusers (EulerDiscreteScheduler, DDIMScheduler η = 0; churn off). 1 model evaluation per step.',
  paper: 'Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Algorithm 2 (Euler part); Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", eq. 12 (η = 0).',
  params: CHURN_PARAMS,
  /**
   * k-diffusion `sample_euler` is this block as it is (churn included). diffusers `EulerDiscreteScheduler.step`
   * (and `DDIMScheduler` with η = 0 on its own σs) churns after the model was evaluated at the un-churned state,
   * which dpipe does not reproduce: its preset fixes churn off.
   */
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_euler;', sets: {} },
    diffusers: { doc: 'diffusers EulerDiscreteScheduler / DDIMScheduler (η = 0) without churn (diffusers evaluates the model before churning);', sets: { sChurn: 0 } },
  },
  order: 1,
  nfePerStep: 1,
  stochastic: false,
  acceptsCorrector: true,
  ddimStep: { sChurn: 0 },
  solve: solveEuler,
  tests: { convergence: [{ steps: [16, 32, 64, 128] }] },
});
/** Euler on raw options (defaults filled in, checked, preset applied). */
export const euler = EULER.solverEntry.run;

export const NOISE_DRAWS = ['k-diffusion', 'diffusers'] as const;
export type NoiseDraws = (typeof NOISE_DRAWS)[number];

const EULER_ANCESTRAL_PARAMS = defineParams(
  { name: 'eta', type: 'number', default: 1, min: 0, doc: 'η: 1 = DDPM ancestral sampling, 0 = deterministic Euler; in between interpolates (DDIM η).' },
  { name: 'sNoise', type: 'number', default: 1, min: 0, doc: 'Scale of the added noise (k-diffusion s_noise).' },
  {
    name: 'noiseDraws',
    type: 'enum',
    default: 'k-diffusion',
    options: NOISE_DRAWS,
    optionDocs: {
      'k-diffusion': 'draw only on steps with σ_next > 0 (k-diffusion sample_euler_ancestral, ComfyUI).',
      diffusers: 'draw on every step, including the last where σ_up = 0 (diffusers EulerAncestralDiscreteScheduler).',
    },
    advanced: true,
    doc: 'When noise is drawn; the result differs only in which per-step draw each step uses.',
  },
);

async function solveEulerAncestral(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof EULER_ANCESTRAL_PARAMS>, ctx: SolverContext): Promise<Latent> {
  return runSteps(model, x, sigmas, ctx, false, (xi, denoised, _i, sigma, sigmaNext) => {
    const [down, up] = ancestralStep(sigma, sigmaNext, o.eta);
    const d = toD(xi, sigma, denoised);
    const next = axpy(xi, [[down - sigma, d]]);
    return sigmaNext > 0 || o.noiseDraws === 'diffusers' ? axpy(next, [[o.sNoise * up, ctx.noise(sigma, sigmaNext)]]) : next;
  });
}

export const EULER_ANCESTRAL = defineSolver({
  type: 'solver.euler_ancestral',
  title: 'Euler ancestral',
  doc: 'Euler step to σ_down, then fresh noise σ_up·z (η = 1: DDPM ancestral sampling). Presets: k-diffusion (no draw at a final σ = 0) and diffusers (η = 1, a draw every step). 1 model evaluation per step.',
  paper: 'Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Algorithm 2; ancestral split as in Song et al. 2021 (DDIM) eq. 16; k-diffusion sample_euler_ancestral.',
  params: EULER_ANCESTRAL_PARAMS,
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_euler_ancestral (no draw where σ_next = 0);', sets: { noiseDraws: 'k-diffusion' } },
    diffusers: { doc: 'diffusers EulerAncestralDiscreteScheduler (η and s_noise fixed at 1, a draw on every step);', sets: { eta: 1, sNoise: 1, noiseDraws: 'diffusers' } },
  },
  order: 1,
  nfePerStep: 1,
  stochastic: true,
  solve: solveEulerAncestral,
  tests: { weakOrder: [{ steps: [40, 80, 160], note: 'Euler–Maruyama type' }] },
});
export const eulerAncestral = EULER_ANCESTRAL.solverEntry.run;

export const EULER_NODES: NodeType[] = [EULER, EULER_ANCESTRAL];
