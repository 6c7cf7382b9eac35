/**
 * The DDPM ancestral sampler and the DDIM-η family, written in VE coordinates (x = x_vp/√ᾱ, σ² = (1−ᾱ)/ᾱ).
 * With ε̂ = (x − x̂0)/σ both are "x̂0 + σ_down·ε̂ + σ_up·z" for a pair (σ_down, σ_up) with
 * σ_down² + σ_up² = σ_next² (DDIM, DDPM fixed_small) or not (DDPM fixed_large):
 *
 * - DDIM-η (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", Eq. 12 and Eq. 16):
 *   σ_t(η)² = η²·(1−ᾱ_prev)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_prev) becomes σ_up = η·σ_next·√(1 − σ_next²/σ²) in VE terms,
 *   σ_down = √(σ_next² − σ_up²). Reproduces diffusers `DDIMScheduler.step(eta=η)` (a draw on every step
 *   when η > 0, as diffusers); η = 0 is deterministic DDIM (= Euler in σ, `solver.euler`).
 * - DDPM (Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Alg. 2, on a strided schedule as
 *   diffusers' `DDPMScheduler`): the posterior mean q(x_prev | x_t, x̂0) is x̂0 + (σ_next²/σ²)(x − x̂0) in VE,
 *   i.e. σ_down = σ_next²/σ; the variance is β̃ (`fixed_small`, = DDIM η = 1) or β (`fixed_large`) with
 *   β = 1 − ᾱ_t/ᾱ_prev, divided by ᾱ_prev for VE. As in the paper's Algorithm 2, the step to σ = 0 adds
 *   no noise (diffusers adds its `fixed_large` noise on the last strided step too; set the schedule's last σ
 *   to σ(0) to get that).
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineSolver, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';
import { S_NOISE_PARAM, WEAK_STEPS, addNoise, runSteps } from './util';

const P_DDIM = defineParams(
  {
    name: 'eta', type: 'number', default: 1, min: 0, max: 1, step: 0.05,
    doc: 'DDIM η (Song et al. 2021, Eq. 16): 1 (default here) = the DDPM posterior variance, 0 = deterministic DDIM (diffusers\' DDIMScheduler.step default; the same as solver.euler). Values in between interpolate.',
  },
  S_NOISE_PARAM,
);

const solveDdimEta = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_DDIM>, ctx: SolverContext): Promise<Latent> => {
  return runSteps(model, x0, sigmas, ctx, true, (x, denoised, _i, s, sn) => {
    const up = o.eta * sn * Math.sqrt(Math.max(0, 1 - (sn * sn) / (s * s)));
    const down = Math.sqrt(Math.max(0, sn * sn - up * up));
    x = combine(x, [[down / s, x], [1 - down / s, denoised]]);
    if (o.eta > 0) x = addNoise(x, ctx.noise, s, sn, o.sNoise * up);
    return x;
  });
};

const P_DDPM = defineParams(
  {
    name: 'variance', type: 'enum', default: 'fixed_small', options: ['fixed_small', 'fixed_large'],
    optionDocs: {
      fixed_small: 'σ² = β̃_t = (1−ᾱ_prev)/(1−ᾱ_t)·β_t, the posterior variance (diffusers\' default; equals DDIM η = 1).',
      fixed_large: 'σ² = β_t (Ho et al. 2020 report it better on CIFAR-10 in their unconditional setting).',
    },
    doc: 'The reverse-process variance (Ho et al. 2020, §3.2; diffusers `variance_type`).',
  },
  S_NOISE_PARAM,
);

const solveDdpm = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_DDPM>, ctx: SolverContext): Promise<Latent> => {
  return runSteps(model, x0, sigmas, ctx, true, (x, denoised, _i, s, sn) => {
    const ratio = (sn * sn) / (s * s); // posterior-mean weight of x
    x = combine(x, [[ratio, x], [1 - ratio, denoised]]);
    if (sn > 0) {
      const varVe = o.variance === 'fixed_small'
        ? sn * sn * (1 - ratio) // β̃/ᾱ_prev
        : ((s * s - sn * sn) / (1 + s * s)) * (1 + sn * sn); // β/ᾱ_prev
      x = addNoise(x, ctx.noise, s, sn, o.sNoise * Math.sqrt(Math.max(0, varVe)));
    }
    return x;
  });
};

export const DDPM = defineSolver({
  type: 'solver.ddpm',
  title: 'DDPM (ancestral)',
  doc: 'The DDPM ancestral sampler on any (strided) schedule: posterior mean of q(x_prev | x_t, x̂0) plus fresh noise with the posterior variance (fixed_small) or β_t (fixed_large); no noise on the step to σ = 0. Matches diffusers `DDPMScheduler` (variance_type fixed_small / fixed_large) step for step.',
  paper: 'Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", Alg. 2 and §3.2.',
  params: P_DDPM,
  order: 1,
  nfePerStep: 1,
  stochastic: true,
  acceptsCorrector: true,
  solve: solveDdpm,
  tests: {
    weakOrder: [{ steps: WEAK_STEPS, note: 'fixed_small' }],
    noGolden: 'no golden run of diffusers DDPMScheduler; test/stochastic/ddpm.test.ts checks it step for step against DDPMScheduler.step written in VP space',
  },
});

/**
 * Presets (η stays the block's own): diffusers `DDIMScheduler.step(eta=η)` and the paper's repository
 * (ermongroup/ddim `generalized_steps`) both draw on every step when η > 0 and have no noise scale.
 */
export const DDIM_ETA = defineSolver({
  type: 'solver.ddim_eta',
  title: 'DDIM (η)',
  doc: 'DDIM with stochasticity η: x̂0 + σ_down·ε̂ + σ_up·z, σ_up = η·σ_next·√(1 − σ_next²/σ²). η = 0 is deterministic DDIM, η = 1 the DDPM posterior. Reproduces diffusers `DDIMScheduler.step(eta=η)` (noise drawn on every step when η > 0).',
  paper: 'Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", Eq. 12 and Eq. 16.',
  params: P_DDIM,
  presets: {
    diffusers: { doc: 'diffusers DDIMScheduler.step(eta=η) (no s_noise);', sets: { sNoise: 1 } },
    repo: { doc: 'ermongroup/ddim generalized_steps with eta=η;', sets: { sNoise: 1 } },
  },
  order: 1,
  nfePerStep: 1,
  stochastic: true,
  acceptsCorrector: true,
  ddimStep: { eta: 0 },
  solve: solveDdimEta,
  tests: {
    weakOrder: [{ steps: WEAK_STEPS, params: { eta: 0.5 } }],
    presetsWithoutGolden: { repo: 'no golden run of ermongroup/ddim; its generalized_steps step is the diffusers one (same η, no s_noise), which df_ddim_* reproduce' },
  },
});

export const ddpm = DDPM.solverEntry.run;
export const ddimEta = DDIM_ETA.solverEntry.run;

export const DDPM_NODES: NodeType[] = [DDPM, DDIM_ETA];
