/**
 * ComfyUI's sampler and scheduler names (comfy/samplers.py KSAMPLER_NAMES + ddim/uni_pc/uni_pc_bh2, SCHEDULER_NAMES)
 * and the dpipe blocks with the options that make each identical, read from ComfyUI's own code
 * (comfy/k_diffusion/sampling.py, comfy/extra_samplers/uni_pc.py, comfy/samplers.py) and checked against dpipe's
 * golden k-diffusion runs. A name dpipe has no block for is listed with the reason, so the importer reports it by name
 * instead of replacing it.
 *
 * "Identical" means the same update formulas on the same σ values and, for per-step noise drawn by
 * `default_noise_sampler`, the same draws (noise.torch, order "comfyui"). Three things stay outside: per-step noise
 * from a Brownian tree (torchsde; `brownian`), LMS coefficients (ComfyUI integrates them with scipy's quad to a relative
 * 1e-4, dpipe exactly), and float32 rounding (ComfyUI computes in float32, dpipe in float64).
 */
import type { BlockSpec } from './doc';

export interface ComfySampler {
  /** The solver block; `sigmaCount` is the length of the schedule the sampler runs on (uni_pc's order depends on it). */
  readonly solver: (sigmaCount: number) => BlockSpec;
  /** KSampler computes the schedule with one step more and drops the next-to-last σ (DISCARD_PENULTIMATE_SIGMA_SAMPLERS). */
  readonly discardPenultimate?: boolean;
  /** The sampler stops at this σ instead of 0 (uni_pc: 0.001). */
  readonly zeroBecomes?: number;
  /** The sampler uses only the first σ and the last positive σ (dpm_fast, dpm_adaptive); dpm_fast also the step count. */
  readonly ends?: 'fast' | 'adaptive';
  /** CFG++: the guidance block is guider.cfgpp with λ = the cfg value. */
  readonly cfgpp?: boolean;
  /** Per-step noise from a torchsde Brownian tree (not reproducible), on the CPU or the sampling device. */
  readonly brownian?: 'cpu' | 'gpu';
  /** Per-step noise from default_noise_sampler (reproduced by noise.torch, order comfyui). */
  readonly stochastic?: boolean;
}

export type ComfySamplerEntry = ComfySampler | { readonly unsupported: string };

const fixed = (type: string, params: BlockSpec['params'] = {}) => () => ({ type, params });
const KD = { preset: 'k-diffusion' } as const;

function unipc(variant: 'bh1' | 'bh2'): ComfySampler {
  return {
    // sample_unipc: order min(3, len(sigmas) − 2), data prediction, lower_order_final=True, corrector on every step
    // but the last: the wl-zhao/UniPC code ComfyUI adapted (dpipe preset "repo").
    solver: (n) => ({ type: 'solver.unipc', params: { preset: 'repo', order: Math.max(1, Math.min(3, n - 2)), variant, prediction: 'data' } }),
    discardPenultimate: true,
    zeroBecomes: 0.001,
  };
}

const CFGPP = 'CFG++ samplers rewrite the step with the unconditional prediction; dpipe\'s guider.cfgpp is exact with the DDIM/Euler step only (euler_cfg_pp)';

/** Every sampler name of ComfyUI's KSampler, in ComfyUI's order. */
export const COMFY_SAMPLERS: Readonly<Record<string, ComfySamplerEntry>> = {
  euler: { solver: fixed('solver.euler', KD) },
  euler_cfg_pp: { solver: fixed('solver.euler', KD), cfgpp: true },
  euler_ancestral: { solver: fixed('solver.euler_ancestral', { ...KD, eta: 1, sNoise: 1 }), stochastic: true },
  euler_ancestral_cfg_pp: { unsupported: CFGPP },
  heun: { solver: fixed('solver.heun', KD) },
  heunpp2: { unsupported: 'Heun++ (sample_heunpp2) has no dpipe block' },
  exp_heun_2_x0: { unsupported: 'the exponential Heun / SEEDS-2 family (sample_seeds_2) has no dpipe block' },
  exp_heun_2_x0_sde: { unsupported: 'the exponential Heun / SEEDS-2 family (sample_seeds_2) has no dpipe block' },
  dpm_2: { solver: fixed('solver.dpm_2', { r1: 0.5 }), discardPenultimate: true },
  dpm_2_ancestral: { unsupported: 'DPM-Solver-2 with ancestral noise (sample_dpm_2_ancestral) has no dpipe block' },
  lms: { solver: fixed('solver.lms', { ...KD, order: 4 }) },
  dpm_fast: { solver: fixed('solver.dpm_fast'), ends: 'fast' },
  dpm_adaptive: { solver: fixed('solver.dpm_adaptive', { order: 3, rtol: 0.05, atol: 0.0078, hInit: 0.05, acceptSafety: 0.81 }), ends: 'adaptive' },
  dpmpp_2s_ancestral: { solver: fixed('solver.dpmpp_2s_ancestral', { eta: 1, sNoise: 1 }), stochastic: true },
  dpmpp_2s_ancestral_cfg_pp: { unsupported: CFGPP },
  dpmpp_sde: { solver: fixed('solver.dpmpp_sde', { eta: 1, sNoise: 1, r: 0.5 }), brownian: 'cpu' },
  dpmpp_sde_gpu: { solver: fixed('solver.dpmpp_sde', { eta: 1, sNoise: 1, r: 0.5 }), brownian: 'gpu' },
  dpmpp_2m: { solver: fixed('solver.dpmpp_2m', { ...KD, lowerOrderFinal: 'off', solverType: 'midpoint' }) },
  dpmpp_2m_cfg_pp: { unsupported: CFGPP },
  dpmpp_2m_sde: { solver: fixed('solver.dpmpp_2m_sde', { ...KD, eta: 1, sNoise: 1, solverType: 'midpoint' }), brownian: 'cpu' },
  dpmpp_2m_sde_gpu: { solver: fixed('solver.dpmpp_2m_sde', { ...KD, eta: 1, sNoise: 1, solverType: 'midpoint' }), brownian: 'gpu' },
  dpmpp_2m_sde_heun: { solver: fixed('solver.dpmpp_2m_sde', { eta: 1, sNoise: 1, solverType: 'heun', lowerOrderFinal: 'off' }), brownian: 'cpu' },
  dpmpp_2m_sde_heun_gpu: { solver: fixed('solver.dpmpp_2m_sde', { eta: 1, sNoise: 1, solverType: 'heun', lowerOrderFinal: 'off' }), brownian: 'gpu' },
  dpmpp_3m_sde: { solver: fixed('solver.dpmpp_3m_sde', { eta: 1, sNoise: 1 }), brownian: 'cpu' },
  dpmpp_3m_sde_gpu: { solver: fixed('solver.dpmpp_3m_sde', { eta: 1, sNoise: 1 }), brownian: 'gpu' },
  ddpm: { solver: fixed('solver.ddpm', { variance: 'fixed_small', sNoise: 1 }), stochastic: true },
  lcm: { unsupported: 'the LCM sampler (sample_lcm) has no dpipe block' },
  ipndm: { solver: fixed('solver.ipndm', { maxOrder: 4 }) },
  ipndm_v: { unsupported: 'variable-step iPNDM (sample_ipndm_v) has no dpipe block' },
  deis: { solver: fixed('solver.deis', { order: 3, basis: 'rho', lowerOrderFinal: 'off' }) },
  cfgpp_ud10_ab: { unsupported: CFGPP },
  res_multistep: { solver: fixed('solver.res_multistep') },
  res_multistep_cfg_pp: { unsupported: CFGPP },
  res_multistep_ancestral: { unsupported: 'RES multistep with ancestral noise (η = 1) has no dpipe block; solver.res_multistep is the η = 0 sampler' },
  res_multistep_ancestral_cfg_pp: { unsupported: CFGPP },
  gradient_estimation: { unsupported: 'the gradient-estimation sampler has no dpipe block' },
  gradient_estimation_cfg_pp: { unsupported: CFGPP },
  er_sde: { solver: fixed('solver.er_sde', { order: 3, noiseScale: 'sde5', integrationPoints: 200, sNoise: 1 }), stochastic: true },
  seeds_2: { unsupported: 'SEEDS-2 (sample_seeds_2) has no dpipe block' },
  seeds_3: { unsupported: 'SEEDS-3 (sample_seeds_3) has no dpipe block' },
  sa_solver: { unsupported: 'ComfyUI\'s SA-Solver port (predictor order 3, corrector order 4, τ = 1 between 20 % and 80 % of the schedule) is not verified against dpipe\'s solver.sa_solver (diffusers\' SASolverScheduler), so it is not mapped' },
  sa_solver_pece: { unsupported: 'ComfyUI\'s SA-Solver with PECE (sample_sa_solver_pece) has no dpipe block' },
  // KSampler's "ddim" is Euler (with random noise for inpainting masks, which dpipe does not import).
  ddim: { solver: fixed('solver.euler', KD) },
  uni_pc: unipc('bh1'),
  uni_pc_bh2: unipc('bh2'),
};

/** ComfyUI's scheduler names (SCHEDULER_HANDLERS) and the schedule block computing the same σs from the model. */
export const COMFY_SCHEDULERS: Readonly<Record<string, (steps: number) => BlockSpec>> = {
  simple: (steps) => ({ type: 'schedule.simple', params: { steps } }),
  sgm_uniform: (steps) => ({ type: 'schedule.sgm_uniform', params: { steps } }),
  karras: (steps) => ({ type: 'schedule.karras', params: { steps, sigmaMin: 0, sigmaMax: 0, rho: 7, final: 'zero' } }),
  exponential: (steps) => ({ type: 'schedule.exponential', params: { steps, sigmaMin: 0, sigmaMax: 0, final: 'zero' } }),
  ddim_uniform: (steps) => ({ type: 'schedule.ddim_uniform', params: { steps } }),
  beta: (steps) => ({ type: 'schedule.beta', params: { steps, alpha: 0.6, beta: 0.6 } }),
  normal: (steps) => ({ type: 'schedule.normal', params: { steps } }),
  linear_quadratic: (steps) => ({ type: 'schedule.linear_quadratic', params: { steps, thresholdNoise: 0.025, linearSteps: 0 } }),
  kl_optimal: (steps) => ({ type: 'schedule.kl_optimal', params: { steps, sigmaMin: 0, sigmaMax: 0 } }),
};

export function isSupported(e: ComfySamplerEntry | undefined): e is ComfySampler {
  return e !== undefined && !('unsupported' in e);
}
