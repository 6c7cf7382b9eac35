/**
 * Multistep DPM-Solver and DPM-Solver++ (orders 1–3) on the probability-flow ODE, in λ = −log σ.
 *
 * - DPM-Solver++(2M)/(3M), data prediction: Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for
 *   Guided Sampling of Diffusion Probabilistic Models", Algorithm 2 (2M) and its third-order multistep
 *   extension (LuChengTHU/dpm-solver `multistep_dpm_solver_third_update`).
 * - multistep DPM-Solver, noise prediction: the same paper's multistep variant of Lu et al. 2022,
 *   "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps" (diffusers
 *   algorithm_type="dpmsolver").
 *
 * With history m_0 (now), m_1, m_2 at λ_0 > λ_1 > λ_2 and h = λ_next − λ_0, r_0 = (λ_0 − λ_1)/h,
 * r_1 = (λ_1 − λ_2)/h, D1_0 = (m_0 − m_1)/r_0, D1_1 = (m_1 − m_2)/r_1:
 *   order 1 (data): x' = (σ'/σ)x − (e^{−h} − 1)m_0                         (= DDIM)
 *   order 2, midpoint: … − ½(e^{−h} − 1)·D1_0;  order 2, heun ("taylor" in the repo): … + ((e^{−h} − 1)/h + 1)·D1_0
 *   order 3: D1 = D1_0 + r_0/(r_0 + r_1)(D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r_0 + r_1),
 *            … + ((e^{−h} − 1)/h + 1)·D1 − ((e^{−h} − 1 + h)/h² − ½)·D2
 * and the noise-prediction forms with e^{h}, σ' and ε = (x − m)/σ. A step to σ' = 0 (λ' = ∞) is always first
 * order (x' = m_0); the higher-order terms are undefined there.
 *
 * Presets where the references differ (explicit options; the `preset` parameter sets them, see below):
 * - k-diffusion `sample_dpmpp_2m`: lowerOrderFinal "off" (only the step to σ = 0 is first order), midpoint.
 * - diffusers `DPMSolverMultistepScheduler`: lowerOrderFinal "below15" (fewer than 15 steps: last step first
 *   order, second-to-last at most second order), solverType midpoint, eulerAtFinal option.
 * - LuChengTHU/dpm-solver `DPM_Solver.sample(method="multistep", lower_order_final=True)`: "below10"
 *   (fewer than 10 steps: step k of n uses order min(order, n − k)), solver_type "dpmsolver" = midpoint.
 */
import { defineSolver, type NodeType } from '../registry/node';
import { defineParam, defineParams } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { checkAbort, emit, lambdaOf, maybeCorrect, requireDecreasing, sum } from './common';

export const LOWER_ORDER_FINAL = ['off', 'below15', 'below10', 'always'] as const;
export type LowerOrderFinal = (typeof LOWER_ORDER_FINAL)[number];
export const SOLVER_TYPES = ['midpoint', 'heun'] as const;
export type SolverType = (typeof SOLVER_TYPES)[number];

export interface MultistepOptions {
  readonly order: number;
  readonly prediction: 'data' | 'noise';
  readonly solverType: SolverType;
  readonly lowerOrderFinal: LowerOrderFinal;
  readonly eulerAtFinal: boolean;
  /** Weight convention of the second difference D2 in the third-order update. */
  readonly thirdOrder: ThirdOrder;
}

export const THIRD_ORDER = ['reference', 'taylor'] as const;
export type ThirdOrder = (typeof THIRD_ORDER)[number];

/**
 * The reference implementations (LuChengTHU/dpm-solver multistep_dpm_solver_third_update, diffusers, and
 * k-diffusion's sample_dpmpp_3m_sde) weight D2 = (D1_0 − D1_1)/(r_0 + r_1) ≈ h²x̂0''/2 by φ₃ alone, which is
 * half the Taylor coefficient: the update is then only second-order accurate (measured: order 2.06 on
 * Gaussian data, test/solvers/convergence.test.ts). "taylor" uses 2φ₃ and is third order (measured 3.1).
 */
export const thirdOrderParam = defineParam({
  name: 'thirdOrder',
  type: 'enum',
  default: 'reference',
  options: THIRD_ORDER,
  optionDocs: {
    reference: 'D2 weighted by φ₃ as in the dpm-solver repository, diffusers and k-diffusion (reproduces them; second-order accurate in practice).',
    taylor: 'D2 weighted by 2φ₃, the Taylor coefficient: truly third order (differs from the references by ~3e-4 at 10 steps on the golden model).',
  },
  advanced: true,
  doc: 'Coefficient of the second difference in the third-order update.',
});

/** The order used at step i of n (0-based), given the solver order and the preset. */
export function multistepOrder(i: number, n: number, order: number, lof: LowerOrderFinal, eulerAtFinal: boolean, sigmaNext: number): number {
  let o = Math.min(order, i + 1);
  if (sigmaNext === 0 || (eulerAtFinal && i === n - 1)) return 1;
  if (lof === 'below15' && n < 15) {
    if (i === n - 1) o = 1;
    else if (i === n - 2) o = Math.min(o, 2);
  } else if ((lof === 'below10' && n < 10) || lof === 'always') {
    o = Math.min(o, n - i);
  }
  return o;
}

export const lowerOrderFinalParam = (def: LowerOrderFinal) => defineParam({
  name: 'lowerOrderFinal',
  type: 'enum',
  default: def,
  options: LOWER_ORDER_FINAL,
  optionDocs: {
    off: 'full order whenever the history allows (k-diffusion); a step to σ = 0 is still first order.',
    below15: 'with fewer than 15 steps the last step is first order and the one before at most second (diffusers lower_order_final=True).',
    below10: 'with fewer than 10 steps step k of n uses order min(order, n − k) (LuChengTHU/dpm-solver lower_order_final=True).',
    always: 'step k of n uses order min(order, n − k) whatever n (wl-zhao/UniPC and diffusers UniPCMultistepScheduler lower_order_final=True).',
  },
  doc: 'Lower the order in the last steps, which stabilizes few-step runs.',
});

const solverTypeParam = defineParam({
  name: 'solverType',
  type: 'enum',
  default: 'midpoint',
  options: SOLVER_TYPES,
  optionDocs: {
    midpoint: 'D1 weighted ½ (the papers\' DPM-Solver(++)-2M; repo solver_type "dpmsolver", diffusers "midpoint").',
    heun: 'D1 weighted by φ₂ (repo solver_type "taylor", diffusers "heun").',
  },
  advanced: true,
  doc: 'How the first difference enters the second-order update.',
});

const eulerAtFinalParam = defineParam({ name: 'eulerAtFinal', type: 'boolean', default: false, advanced: true, doc: 'Make the last step first order (diffusers euler_at_final).' });

export async function dpmMultistep(model: Denoiser, x: Latent, sigmas: Float64Array, o: MultistepOptions, ctx: SolverContext, block: string): Promise<Latent> {
  requireDecreasing(block, sigmas);
  const n = sigmas.length - 1;
  const ms: Latent[] = []; // model outputs in the chosen prediction, most recent last
  const denoisedHist: Latent[] = [];
  const lams: number[] = [];
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const sn = sigmas[i + 1];
    const denoised = await model(x, s, { step: i, role: 'predictor' });
    const m = o.prediction === 'data' ? denoised : sum(x, [[1 / s, x], [-1 / s, denoised]]);
    ms.push(m);
    denoisedHist.push(denoised);
    lams.push(lambdaOf(s));
    if (ms.length > 3) {
      ms.shift();
      lams.shift();
    }
    const k = multistepOrder(i, n, o.order, o.lowerOrderFinal, o.eulerAtFinal, sn);
    const L = lams.length;
    const m0 = ms[L - 1];
    let next: Latent;
    if (o.prediction === 'data') {
      const ratio = sn / s; // e^{−h}
      const em1 = ratio - 1; // e^{−h} − 1 (exact form of expm1(−h) in σ)
      if (k === 1) {
        next = sum(x, [[ratio, x], [-em1, m0]]);
      } else {
        const h = lambdaOf(sn) - lams[L - 1];
        const phi2 = em1 / h + 1;
        const r0 = (lams[L - 1] - lams[L - 2]) / h;
        const d10 = sum(x, [[1 / r0, m0], [-1 / r0, ms[L - 2]]]);
        if (k === 2) {
          const c1 = o.solverType === 'midpoint' ? -0.5 * em1 : phi2;
          next = sum(x, [[ratio, x], [-em1, m0], [c1, d10]]);
        } else {
          const r1 = (lams[L - 2] - lams[L - 3]) / h;
          const d11 = sum(x, [[1 / r1, ms[L - 2]], [-1 / r1, ms[L - 3]]]);
          const w = r0 / (r0 + r1);
          const phi3 = (em1 + h) / (h * h) - 0.5;
          // D1 = D1_0 + w(D1_0 − D1_1), D2 = (D1_0 − D1_1)/(r0 + r1)
          const c2 = (o.thirdOrder === 'taylor' ? 2 : 1) / (r0 + r1);
          next = sum(x, [[ratio, x], [-em1, m0], [phi2 * (1 + w) - phi3 * c2, d10], [-phi2 * w + phi3 * c2, d11]]);
        }
      }
    } else {
      // Noise prediction: σ'(e^{h} − 1) = σ − σ'.
      const a = s - sn;
      if (k === 1) {
        next = sum(x, [[1, x], [-a, m0]]);
      } else {
        const h = lambdaOf(sn) - lams[L - 1];
        const b = a / h - sn; // σ'((e^h − 1)/h − 1)
        const r0 = (lams[L - 1] - lams[L - 2]) / h;
        const d10 = sum(x, [[1 / r0, m0], [-1 / r0, ms[L - 2]]]);
        if (k === 2) {
          const c1 = o.solverType === 'midpoint' ? -0.5 * a : -b;
          next = sum(x, [[1, x], [-a, m0], [c1, d10]]);
        } else {
          const r1 = (lams[L - 2] - lams[L - 3]) / h;
          const d11 = sum(x, [[1 / r1, ms[L - 2]], [-1 / r1, ms[L - 3]]]);
          const w = r0 / (r0 + r1);
          const c2 = (o.thirdOrder === 'taylor' ? 2 : 1) / (r0 + r1);
          const e3 = (a / h - sn) / h - 0.5 * sn; // σ'((e^h − 1 − h)/h² − ½)
          next = sum(x, [[1, x], [-a, m0], [-b * (1 + w) - e3 * c2, d10], [b * w + e3 * c2, d11]]);
        }
      }
    }
    next = await maybeCorrect(ctx, { model, step: i, sigmas, x, xNext: next, history: denoisedHist, historySigmas: [...sigmas.subarray(0, i + 1)] });
    x = next;
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

/**
 * Presets (the order and the prediction are the block's own choice; everything else is fixed):
 * - k-diffusion `sample_dpmpp_2m`, and `sample_dpmpp_3m_sde` with η = 0 for 3M (its second-order warm-up step
 *   uses the φ₂ weighting, solverType "heun");
 * - diffusers `DPMSolverMultistepScheduler` defaults (lower_order_final=True, solver_type="midpoint",
 *   euler_at_final=False);
 * - repo: LuChengTHU/dpm-solver `DPM_Solver.sample(method="multistep", lower_order_final=True,
 *   solver_type="dpmsolver")`.
 */
const MULTISTEP_DIFFUSERS = 'diffusers DPMSolverMultistepScheduler (lower_order_final=True, solver_type="midpoint", euler_at_final=False);';
const MULTISTEP_REPO = 'LuChengTHU/dpm-solver DPM_Solver.sample(method="multistep", lower_order_final=True, solver_type="dpmsolver");';

const DPMPP_2M_PARAMS = defineParams(lowerOrderFinalParam('off'), solverTypeParam, eulerAtFinalParam);
const DPMPP_3M_PARAMS = defineParams(
  lowerOrderFinalParam('below15'),
  { ...solverTypeParam, doc: 'How the first difference enters the second-order warm-up step (k-diffusion\'s 3M uses "heun").' },
  eulerAtFinalParam,
  thirdOrderParam,
);
const DPM_MULTI_PARAMS = defineParams(
  { name: 'order', type: 'integer', default: 2, min: 1, max: 3, doc: 'Order of the multistep method (1 = DDIM).' },
  lowerOrderFinalParam('below15'),
  solverTypeParam,
  eulerAtFinalParam,
  thirdOrderParam,
);
/** The options every multistep block leaves at the DPM-Solver++ defaults unless it has them. */
const MULTISTEP_BASE = { order: 2, prediction: 'data', solverType: 'midpoint', lowerOrderFinal: 'off', eulerAtFinal: false, thirdOrder: 'reference' } as const;

export const DPMPP_2M = defineSolver({
  type: 'solver.dpmpp_2m',
  title: 'DPM-Solver++(2M)',
  doc: 'Second-order multistep exponential integrator in data prediction; the first step is first order. Presets: k-diffusion (lowerOrderFinal off), diffusers (below15), dpm-solver repo (below10). 1 model evaluation per step.',
  paper: 'Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models", Algorithm 2.',
  params: DPMPP_2M_PARAMS,
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_dpmpp_2m;', sets: { lowerOrderFinal: 'off', solverType: 'midpoint', eulerAtFinal: false } },
    diffusers: { doc: MULTISTEP_DIFFUSERS, sets: { lowerOrderFinal: 'below15', solverType: 'midpoint', eulerAtFinal: false } },
    repo: { doc: MULTISTEP_REPO, sets: { lowerOrderFinal: 'below10', solverType: 'midpoint', eulerAtFinal: false } },
  },
  order: 2,
  nfePerStep: 1,
  stochastic: false,
  acceptsCorrector: true,
  solve: (model, x, sigmas, o, ctx) => dpmMultistep(model, x, sigmas, { ...MULTISTEP_BASE, ...o, order: 2 }, ctx, 'solver.dpmpp_2m'),
  tests: { convergence: [{ steps: [16, 32, 64, 128] }] },
});

const WARM_3 = { steps: [512, 1024, 2048, 4096], grid: 'warm' } as const;
export const DPMPP_3M = defineSolver({
  type: 'solver.dpmpp_3m',
  title: 'DPM-Solver++(3M)',
  doc: 'Third-order multistep exponential integrator in data prediction (warm-up with orders 1 and 2). Defaults follow diffusers (lowerOrderFinal below15). Presets: k-diffusion (sample_dpmpp_3m_sde, η = 0), diffusers, dpm-solver repo. 1 model evaluation per step.',
  paper: 'Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models", §4 (multistep, order 3; LuChengTHU/dpm-solver multistep_dpm_solver_third_update).',
  params: DPMPP_3M_PARAMS,
  presets: {
    'k-diffusion': { doc: 'k-diffusion sample_dpmpp_3m_sde with eta=0 (its second-order warm-up step uses φ₂);', sets: { lowerOrderFinal: 'off', solverType: 'heun', eulerAtFinal: false, thirdOrder: 'reference' } },
    diffusers: { doc: MULTISTEP_DIFFUSERS, sets: { lowerOrderFinal: 'below15', solverType: 'midpoint', eulerAtFinal: false, thirdOrder: 'reference' } },
    repo: { doc: MULTISTEP_REPO, sets: { lowerOrderFinal: 'below10', solverType: 'midpoint', eulerAtFinal: false, thirdOrder: 'reference' } },
  },
  order: 3,
  nfePerStep: 1,
  stochastic: false,
  acceptsCorrector: true,
  solve: (model, x, sigmas, o, ctx) => dpmMultistep(model, x, sigmas, { ...MULTISTEP_BASE, ...o, order: 3 }, ctx, 'solver.dpmpp_3m'),
  tests: {
    convergence: [
      { ...WARM_3, params: { lowerOrderFinal: 'off' }, order: 2, note: 'the references\' D2 weight is second-order accurate (thirdOrder)' },
      { ...WARM_3, params: { lowerOrderFinal: 'off', thirdOrder: 'taylor' } },
      { steps: WARM_3.steps, params: { lowerOrderFinal: 'off', thirdOrder: 'taylor' }, order: 2, note: 'order-1/2 warm-up on a uniform grid: the starting values keep it second order' },
    ],
    // The k-diffusion preset is checked against k-diffusion's 3M SDE sampler at η = 0 (test/solvers/presets.test.ts).
    presetsWithoutGolden: { 'k-diffusion': 'k-diffusion has no ODE 3M sampler; the preset equals sample_dpmpp_3m_sde at η = 0, whose golden runs solver.dpmpp_3m_sde reproduces (test/solvers/presets.test.ts)' },
  },
});

export const DPM_MULTISTEP = defineSolver({
  type: 'solver.dpm_multistep',
  title: 'DPM-Solver (multistep, noise prediction)',
  doc: 'Multistep DPM-Solver of orders 1–3 in noise prediction (diffusers DPMSolverMultistepScheduler with algorithm_type="dpmsolver"). Order 1 is DDIM. Presets: diffusers, dpm-solver repo. 1 model evaluation per step.',
  paper: 'Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", eq. 3.3; multistep form from "DPM-Solver++" (2022), §4.',
  params: DPM_MULTI_PARAMS,
  presets: {
    diffusers: { doc: 'diffusers DPMSolverMultistepScheduler(algorithm_type="dpmsolver") defaults (lower_order_final=True, solver_type="midpoint", euler_at_final=False);', sets: { lowerOrderFinal: 'below15', solverType: 'midpoint', eulerAtFinal: false, thirdOrder: 'reference' } },
    repo: { doc: 'LuChengTHU/dpm-solver DPM_Solver(algorithm_type="dpmsolver").sample(method="multistep", lower_order_final=True, solver_type="dpmsolver");', sets: { lowerOrderFinal: 'below10', solverType: 'midpoint', eulerAtFinal: false, thirdOrder: 'reference' } },
  },
  order: 2,
  nfePerStep: 1,
  stochastic: false,
  acceptsCorrector: true,
  solve: (model, x, sigmas, o, ctx) => dpmMultistep(model, x, sigmas, { ...MULTISTEP_BASE, ...o, prediction: 'noise' }, ctx, 'solver.dpm_multistep'),
  tests: {
    convergence: [
      { params: { order: 1, lowerOrderFinal: 'off' }, order: 1, steps: [16, 32, 64, 128] },
      { params: { order: 2, lowerOrderFinal: 'off' }, order: 2, steps: [16, 32, 64, 128] },
      { ...WARM_3, params: { order: 3, lowerOrderFinal: 'off', thirdOrder: 'taylor' }, order: 3 },
    ],
    presetsWithoutGolden: { repo: 'the golden dpm-solver runs are in data prediction (solver.dpmpp_2m / _3m, preset repo); this preset sets the same lowering rule (below10)' },
  },
});

export const dpmpp2m = DPMPP_2M.solverEntry.run;
export const dpmpp3m = DPMPP_3M.solverEntry.run;
export const dpmMultistepNoise = DPM_MULTISTEP.solverEntry.run;

// ---------------------------------------------------------------------------------------------
// res_multistep: the second-order multistep exponential integrator of RES.

/**
 * res_multistep (Zhang, Song & Chen 2023, "Improved Order Analysis and Design of Exponential Integrator
 * for Diffusion Models Sampling", the multistep RES scheme; ComfyUI `sample_res_multistep`, η = 0): the data
 * prediction is interpolated linearly in λ through the last two outputs and integrated exactly,
 * x' = e^{−h}x + hφ₁(−h)·D_0 + h²φ₂(−h)·(D_0 − D_1)/h_prev. This is DPM-Solver++(2M) with the φ₂ ("heun")
 * weighting and no lowering of the order except at σ = 0, which is how it is run here.
 */
export const RES_MULTISTEP = defineSolver({
  type: 'solver.res_multistep',
  title: 'RES multistep',
  doc: 'Second-order multistep exponential integrator of RES (data prediction linear in λ, integrated exactly with φ₁, φ₂); ComfyUI res_multistep. 1 model evaluation per step.',
  paper: 'Zhang, Song & Chen 2023, "Improved Order Analysis and Design of Exponential Integrator for Diffusion Models Sampling" (RES), multistep variant.',
  params: [],
  order: 2,
  nfePerStep: 1,
  stochastic: false,
  acceptsCorrector: true,
  solve: (model, x, sigmas, _o, ctx) => dpmMultistep(model, x, sigmas, { ...MULTISTEP_BASE, solverType: 'heun' }, ctx, 'solver.res_multistep'),
  tests: {
    convergence: [{ steps: [32, 64, 128, 256] }],
    noGolden: 'no golden run of ComfyUI sample_res_multistep; it is DPM-Solver++(2M) with the φ₂ weighting (solverType "heun"), which the k-diffusion 3M warm-up runs exercise',
  },
});
export const resMultistep = RES_MULTISTEP.solverEntry.run;

export const DPMPP_MULTISTEP_NODES: NodeType[] = [DPMPP_2M, DPMPP_3M, DPM_MULTISTEP, RES_MULTISTEP];
