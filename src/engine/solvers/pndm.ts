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
import { defineParams, type OptionsOf } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { axpy, checkAbort, emit, runSteps, sum, toD } from './common';

/** Adams–Bashforth weights for uniform steps, most recent first. */
export const AB_WEIGHTS: readonly (readonly number[])[] = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];

function combine(shapeOf: Latent, es: readonly Float64Array[], w: readonly number[]): Float64Array {
  return sum(shapeOf, w.map((c, j) => [c, es[j]] as const)).data;
}

export const PNDM_WARMUPS = ['plms', 'prk'] as const;
export type PndmWarmup = (typeof PNDM_WARMUPS)[number];
const PNDM_PARAMS = defineParams(
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
);

/** Model evaluations of {@link solvePndm} on `sigmas`: one per step, plus the warm-up's extra stages. */
function pndmNfe(sigmas: Float64Array, o: OptionsOf<typeof PNDM_PARAMS>): number {
  const n = sigmas.length - 1;
  if (o.warmup === 'prk') {
    let extra = 0;
    for (let i = 0; i < Math.min(3, n); i++) if (sigmas[i + 1] > 0) extra += 3;
    return n + extra;
  }
  return n + (n > 0 && sigmas[1] > 0 ? 1 : 0);
}

async function solvePndm(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof PNDM_PARAMS>, ctx: SolverContext): Promise<Latent> {
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

const IPNDM_PARAMS = defineParams({ name: 'maxOrder', type: 'integer', default: 4, min: 1, max: 4, doc: 'Highest Adams–Bashforth order used (4 in k-diffusion/ComfyUI).' });

async function solveIpndm(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof IPNDM_PARAMS>, ctx: SolverContext): Promise<Latent> {
  const ds: Float64Array[] = []; // most recent first
  return runSteps(model, x, sigmas, ctx, false, (xi, denoised, _i, s, sn) => {
    ds.unshift(toD(xi, s, denoised));
    if (ds.length > o.maxOrder) ds.pop();
    return axpy(xi, [[sn - s, combine(xi, ds, AB_WEIGHTS[ds.length - 1])]]);
  });
}

// PLMS / iPNDM use fixed uniform-step weights: measured on a σ-uniform grid. (Their lower-order starts — Heun for
// plms, Euler for iPNDM — cap the order at 3 / 2 in the limit, but their error is below the 4th-order term over
// this range because the solution is nearly linear in σ where they act.)
const UNIFORM_4 = { steps: [512, 1024, 2048, 4096], grid: 'linear' } as const;

/**
 * Preset: diffusers `PNDMScheduler` with skip_prk_steps=True, as every Stable Diffusion scheduler config sets
 * it. (With skip_prk_steps=False diffusers, like the paper's repository, takes the Runge–Kutta half steps at
 * t − ⌊N/n⌋/2 in training timesteps; warmup "prk" puts them at the log-σ midpoint, so no preset claims those.)
 */
export const PNDM = defineSolver({
  type: 'solver.pndm',
  title: 'PNDM / PLMS',
  doc: 'Pseudo linear multistep: DDIM transfers driven by a 4th-order Adams–Bashforth combination of noise predictions, started by pseudo Runge–Kutta steps (prk: 4 evaluations each) or a Heun-type step (plms, diffusers). 1 model evaluation per step after the warm-up.',
  paper: 'Liu, Ren, Lin & Zhao 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds" (ICLR), eq. 11–13 (PRK, PLMS).',
  params: PNDM_PARAMS,
  presets: {
    diffusers: { doc: 'diffusers PNDMScheduler with skip_prk_steps=True (Stable Diffusion\'s configs);', sets: { warmup: 'plms' } },
  },
  order: 4,
  nfePerStep: 1,
  nfe: pndmNfe,
  stochastic: false,
  solve: solvePndm,
  tests: { convergence: [{ ...UNIFORM_4, params: { warmup: 'prk' } }, { ...UNIFORM_4, params: { warmup: 'plms' } }] },
});

export const IPNDM = defineSolver({
  type: 'solver.ipndm',
  title: 'iPNDM',
  doc: 'Improved PNDM: Adams–Bashforth (orders 1→4) on the ODE derivative with a lower-order start instead of Runge–Kutta, 1 model evaluation per step (k-diffusion/ComfyUI sample_ipndm).',
  paper: 'Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator" (ICLR), Appendix (iPNDM).',
  params: IPNDM_PARAMS,
  order: 4,
  nfePerStep: 1,
  stochastic: false,
  solve: solveIpndm,
  tests: {
    convergence: [UNIFORM_4],
    noGolden: 'no golden run of ComfyUI sample_ipndm; test/solvers/multistep_misc.test.ts checks its evaluation count and the order is measured here',
  },
});

export const pndm = PNDM.solverEntry.run;
export const ipndm = IPNDM.solverEntry.run;

export const PNDM_NODES: NodeType[] = [PNDM, IPNDM];
