/**
 * Pseudo numerical methods: PNDM / PLMS and iPNDM.
 *
 * PNDM: Liu, Ren, Lin & Zhao 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds" (ICLR),
 * eq. 11–13. The "transfer" φ(x, σ → σ', ε) is the DDIM step, in VE coordinates x + (σ' − σ)·ε; the gradient
 * part is a linear multistep combination of noise predictions with the fixed uniform-step Adams–Bashforth
 * weights (½(3, −1), (23, −16, 5)/12, (55, −59, 37, −9)/24), i.e. the pseudo linear multistep method (PLMS,
 * fourth order). Warm-up, an option:
 * - `prk`: three pseudo Runge–Kutta steps (eq. 12, 4 evaluations each; the half-step σ is the log-σ midpoint),
 *   then PLMS with the full 4-term formula (the paper's PNDM);
 * - `plms`: diffusers `PNDMScheduler(skip_prk_steps=True)`: a first step of Heun type (ε averaged over the
 *   Euler-predicted end, 2 evaluations), then PLMS of orders 2, 3, 4.
 *
 * iPNDM: Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator", Appendix (improved
 * PNDM): the same Adams–Bashforth weights on d = (x − D)/σ with a lower-order start instead of the Runge–Kutta
 * warm-up, one evaluation per step (k-diffusion/ComfyUI `sample_ipndm`, max order 4).
 */
import { defineSolver, type NodeType } from '../registry/node';
import type { ParamSpec, Params } from '../registry/types';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { axpy, checkAbort, emit, sum, toD } from './common';
import { presetParam, readParams, readPresetParams, type PresetTable } from './params';

/** Adams–Bashforth weights for uniform steps, most recent first. */
export const AB_WEIGHTS: readonly (readonly number[])[] = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];

function combine(shapeOf: Latent, es: readonly Float64Array[], w: readonly number[]): Float64Array {
  return sum(shapeOf, w.map((c, j) => [c, es[j]] as const)).data;
}

export const PNDM_WARMUPS = ['plms', 'prk'] as const;
export type PndmWarmup = (typeof PNDM_WARMUPS)[number];
/**
 * Preset: diffusers `PNDMScheduler` with skip_prk_steps=True, as every Stable Diffusion scheduler config sets
 * it. (With skip_prk_steps=False diffusers, like the paper's repository, takes the Runge–Kutta half steps at
 * t − ⌊N/n⌋/2 in training timesteps; warmup "prk" puts them at the log-σ midpoint, so no preset claims those.)
 */
export const PNDM_PRESETS: PresetTable = {
  diffusers: { doc: 'diffusers PNDMScheduler with skip_prk_steps=True (Stable Diffusion\'s configs);', sets: { warmup: 'plms' } },
};

export const PNDM_PARAMS: readonly ParamSpec[] = [
  presetParam(PNDM_PRESETS),
  {
    name: 'warmup',
    type: 'enum',
    default: 'plms',
    options: PNDM_WARMUPS,
    optionDocs: {
      plms: 'Heun-type first step, then PLMS of orders 2–4 (diffusers PNDMScheduler with skip_prk_steps=True, as Stable Diffusion uses it).',
      prk: 'three pseudo Runge–Kutta steps (4 evaluations each), then 4th-order PLMS (the paper\'s PNDM).',
    },
    doc: 'How the multistep history is started.',
  },
];

export async function pndm(model: Denoiser, x: Latent, sigmas: Float64Array, params: Params, ctx: SolverContext): Promise<Latent> {
  const o = readPresetParams<{ warmup: PndmWarmup }>('solver.pndm', PNDM_PARAMS, params, PNDM_PRESETS);
  const n = sigmas.length - 1;
  const ets: Float64Array[] = []; // most recent first
  const epsAt = async (xx: Latent, s: number, step: number, role: 'predictor' | 'stage') => {
    const d = await model(xx, s, { step, role });
    return { d, e: toD(xx, s, d) };
  };
  const transfer = (xx: Latent, s: number, t: number, e: Float64Array) => axpy(xx, [[t - s, e]]);
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const t = sigmas[i + 1];
    const { d, e } = await epsAt(x, s, i, 'predictor');
    let eStep: Float64Array;
    if (o.warmup === 'prk' && i < 3 && t > 0) {
      const m = Math.sqrt(s * t); // half step in log σ
      const e2 = (await epsAt(transfer(x, s, m, e), m, i, 'stage')).e;
      const e3 = (await epsAt(transfer(x, s, m, e2), m, i, 'stage')).e;
      const e4 = (await epsAt(transfer(x, s, t, e3), t, i, 'stage')).e;
      eStep = combine(x, [e, e2, e3, e4], [1 / 6, 1 / 3, 1 / 3, 1 / 6]);
      ets.unshift(e);
    } else if (o.warmup === 'plms' && i === 0 && t > 0) {
      const e2 = (await epsAt(transfer(x, s, t, e), t, i, 'stage')).e;
      eStep = combine(x, [e, e2], [0.5, 0.5]);
      ets.unshift(e);
    } else {
      ets.unshift(e);
      if (ets.length > 4) ets.pop();
      eStep = combine(x, ets, AB_WEIGHTS[ets.length - 1]);
    }
    x = transfer(x, s, t, eStep);
    emit(ctx, i, sigmas, x, d);
  }
  return x;
}

export const IPNDM_PARAMS: readonly ParamSpec[] = [{ name: 'maxOrder', type: 'integer', default: 4, min: 1, max: 4, doc: 'Highest Adams–Bashforth order used (4 in k-diffusion/ComfyUI).' }];

export async function ipndm(model: Denoiser, x: Latent, sigmas: Float64Array, params: Params, ctx: SolverContext): Promise<Latent> {
  const o = readParams<{ maxOrder: number }>('solver.ipndm', IPNDM_PARAMS, params);
  const n = sigmas.length - 1;
  const ds: Float64Array[] = []; // most recent first
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const denoised = await model(x, s, { step: i, role: 'predictor' });
    ds.unshift(toD(x, s, denoised));
    if (ds.length > o.maxOrder) ds.pop();
    x = axpy(x, [[sigmas[i + 1] - s, combine(x, ds, AB_WEIGHTS[ds.length - 1])]]);
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

export const PNDM_NODES: NodeType[] = [
  defineSolver({
    type: 'solver.pndm',
    title: 'PNDM / PLMS',
    doc: 'Pseudo linear multistep: DDIM transfers driven by a 4th-order Adams–Bashforth combination of noise predictions, started by pseudo Runge–Kutta steps (prk: 4 evaluations each) or a Heun-type step (plms, diffusers). 1 model evaluation per step after the warm-up.',
    paper: 'Liu, Ren, Lin & Zhao 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds" (ICLR), eq. 11–13 (PRK, PLMS).',
    params: PNDM_PARAMS,
    info: { order: 4, nfePerStep: 1, stochastic: false },
    run: pndm,
  }),
  defineSolver({
    type: 'solver.ipndm',
    title: 'iPNDM',
    doc: 'Improved PNDM: Adams–Bashforth (orders 1→4) on the ODE derivative with a lower-order start instead of Runge–Kutta, 1 model evaluation per step (k-diffusion/ComfyUI sample_ipndm).',
    paper: 'Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator" (ICLR), Appendix (iPNDM).',
    params: IPNDM_PARAMS,
    info: { order: 4, nfePerStep: 1, stochastic: false },
    run: ipndm,
  }),
];
