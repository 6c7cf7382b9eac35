/**
 * UniPC: the unified predictor (UniP-p) and corrector (UniC-p) of Zhao, Bai, Rao, Zhou & Lu 2023, "UniPC: A
 * Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models", Algorithms 1–3 (multistep
 * UniP / UniC with B(h) = h, "bh1", or B(h) = e^h − 1, "bh2"), in λ = −log σ.
 *
 * With history m_0 (at σ_s, now), m_1 … m_{p−1} at earlier σ and h = λ_t − λ_s, r_k = (λ_k − λ_s)/h,
 * D_k = (m_k − m_0)/r_k, hh = −h (data prediction) or h (noise prediction):
 *   x̃_t = (σ_t/σ_s)x − (e^{hh} − 1)m_0                      (data; noise: x − σ_t(e^{hh} − 1)m_0)
 *   R_{ik} = r_k^{i−1}, b_i = hh·φ_{i+1}(hh)·i!/B(h), i = 1..p
 *   UniP-p:  x_t = x̃_t − B(h)·Σ_k ρ^p_k D_k,  R[:p−1, :p−1]·ρ^p = b[:p−1]  (ρ^p = ½ for p = 2)
 *   UniC-p:  x_t^c = x̃_t − B(h)·(Σ_k ρ^c_k D_k + ρ^c_p (m_t − m_0)),  R·ρ^c = b  (ρ^c = ½ for p = 1)
 * where m_t is the model at the predicted x_t. As in the paper (and both references), m_t is then reused as the
 * history value of the corrected state, so the corrector costs no model evaluation; the last step has no
 * corrector. (Noise-prediction outputs carry σ_t in front of B(h).)
 *
 * Presets: wl-zhao/UniPC `UniPC.sample(method="multistep")` and diffusers `UniPCMultistepScheduler` agree:
 * lower_order_final "always" (step k of n uses order min(order, n − k)). diffusers with B(h) = h and a final
 * σ = 0 returns NaN (B(h)·0 with B = −∞); `zeroFinal` "error" (default) reports that as an error instead,
 * "ddim" takes the limit (the last step returns x̂0).
 *
 * `UNIC_CORRECTOR_NODE`: UniC as a CORRECTOR block for other predictors (Zhao et al. 2023, §3.1: UniC after
 * any solver). Attached through the generic corrector hook it evaluates the model at the predicted state
 * (one evaluation per step) and corrects with the predictor's data-prediction history.
 */
import { DpipeError } from '../core/errors';
import { defineCorrector, defineSolver, type NodeType, type OrderCase } from '../registry/node';
import { defineParams, readParams, type OptionsOf } from '../registry/params';
import type { Params } from '../registry/types';
import type { CorrectorArgs, CorrectorHook, Denoiser, Latent, SolverContext } from '../core/types';
import { checkAbort, emit, lambdaOf, phi, requireDecreasing, solveLinear, sum } from './common';
import { lowerOrderFinalParam, multistepOrder } from './dpmpp';

export const UNIPC_VARIANTS = ['bh1', 'bh2'] as const;
export type UniPCVariant = (typeof UNIPC_VARIANTS)[number];
export type Prediction = 'data' | 'noise';

interface Coeffs {
  /** x̃_t terms: [coefficient of x, coefficient of m_0]. */
  readonly cx: number;
  readonly cm0: number;
  /** −B(h) (times σ_t for noise prediction): multiplies the residual sums. */
  readonly cres: number;
  readonly R: number[][];
  readonly b: number[];
}

function coeffs(sigmaS: number, sigmaT: number, lamsPrev: readonly number[], p: number, pred: Prediction, variant: UniPCVariant): Coeffs & { rks: number[] } {
  const lamS = lambdaOf(sigmaS);
  const h = lambdaOf(sigmaT) - lamS;
  const rks = lamsPrev.slice(0, p - 1).map((l) => (l - lamS) / h);
  rks.push(1);
  const hh = pred === 'data' ? -h : h;
  const B = variant === 'bh1' ? hh : Math.expm1(hh);
  const R: number[][] = [];
  const b: number[] = [];
  let fact = 1;
  for (let i = 1; i <= p; i++) {
    R.push(rks.map((r) => r ** (i - 1)));
    b.push((hh * phi(i + 1, hh) * fact) / B);
    fact *= i + 1;
  }
  if (pred === 'data') {
    const ratio = sigmaT / sigmaS;
    return { cx: ratio, cm0: -(ratio - 1), cres: -B, R, b, rks };
  }
  // σ_t(e^{h} − 1) = σ_s − σ_t
  return { cx: 1, cm0: -(sigmaS - sigmaT), cres: -sigmaT * B, R, b, rks };
}

/** D_k = (m_k − m_0)/r_k for the p − 1 previous outputs (most recent first). */
function diffs(x: Latent, m0: Latent, prev: readonly Latent[], rks: readonly number[]): Latent[] {
  return prev.map((m, k) => sum(x, [[1 / rks[k], m], [-1 / rks[k], m0]]));
}

/** UniP-p: the predicted state at σ_t. `prev` and `lamsPrev`: earlier outputs, most recent first. */
export function uniP(x: Latent, sigmaS: number, sigmaT: number, m0: Latent, prev: readonly Latent[], lamsPrev: readonly number[], p: number, pred: Prediction, variant: UniPCVariant): Latent {
  const c = coeffs(sigmaS, sigmaT, lamsPrev, p, pred, variant);
  const terms: [number, Latent][] = [[c.cx, x], [c.cm0, m0]];
  if (p >= 2) {
    const D = diffs(x, m0, prev.slice(0, p - 1), c.rks);
    const rho = p === 2 ? [0.5] : solveLinear(c.R.slice(0, p - 1).map((r) => r.slice(0, p - 1)), c.b.slice(0, p - 1));
    D.forEach((d, k) => terms.push([c.cres * rho[k], d]));
  }
  return sum(x, terms);
}

/** UniC-p: the corrected state at σ_t from the model output m_t at the predicted state. */
export function uniC(x: Latent, sigmaS: number, sigmaT: number, m0: Latent, prev: readonly Latent[], lamsPrev: readonly number[], mT: Latent, p: number, pred: Prediction, variant: UniPCVariant): Latent {
  const c = coeffs(sigmaS, sigmaT, lamsPrev, p, pred, variant);
  const rho = p === 1 ? [0.5] : solveLinear(c.R, c.b);
  const terms: [number, Latent][] = [[c.cx, x], [c.cm0, m0]];
  const D = diffs(x, m0, prev.slice(0, p - 1), c.rks);
  D.forEach((d, k) => terms.push([c.cres * rho[k], d]));
  terms.push([c.cres * rho[p - 1], mT], [-c.cres * rho[p - 1], m0]);
  return sum(x, terms);
}

export const ZERO_FINAL = ['error', 'ddim'] as const;
export type ZeroFinal = (typeof ZERO_FINAL)[number];

const UNIPC_PARAMS = defineParams(
  { name: 'order', type: 'integer', default: 2, min: 1, max: 3, doc: 'Order p of UniP (UniC then has order p + 1). 2 for guided sampling, 3 unconditional (the paper\'s advice).' },
  {
    name: 'variant',
    type: 'enum',
    default: 'bh2',
    options: UNIPC_VARIANTS,
    optionDocs: { bh1: 'B(h) = h (the paper recommends it for unconditional sampling).', bh2: 'B(h) = e^h − 1 (for guided sampling; diffusers\' default).' },
    doc: 'The B(h) of the UniPC coefficients.',
  },
  {
    name: 'prediction',
    type: 'enum',
    default: 'data',
    options: ['data', 'noise'],
    optionDocs: { data: 'integrate x̂0 (UniPC with DPM-Solver++ base; repo algorithm_type "data_prediction", diffusers predict_x0=True).', noise: 'integrate ε (repo "noise_prediction").' },
    advanced: true,
    doc: 'Which model output UniPC integrates.',
  },
  { name: 'corrector', type: 'boolean', default: true, doc: 'Apply UniC after each predictor step except the last (free: it reuses the next step\'s model evaluation).' },
  { name: 'disableCorrector', type: 'numberList', default: [], min: 0, advanced: true, doc: 'Step indices (0-based) whose result is not corrected (diffusers disable_corrector).' },
  lowerOrderFinalParam('always'),
  {
    name: 'zeroFinal',
    type: 'enum',
    default: 'error',
    options: ZERO_FINAL,
    optionDocs: {
      error: 'B(h) = h with a final σ = 0 stops with an error (diffusers gives NaN there).',
      ddim: 'the step to σ = 0 returns x̂0 (the limit of the update).',
    },
    advanced: true,
    doc: 'What to do on a step to σ = 0 with B(h) = h, where the update is 0·∞.',
  },
);
export type UniPCOptions = OptionsOf<typeof UNIPC_PARAMS>;

async function solveUnipc(model: Denoiser, x: Latent, sigmas: Float64Array, o: UniPCOptions, ctx: SolverContext): Promise<Latent> {
  requireDecreasing('solver.unipc', sigmas);
  const n = sigmas.length - 1;
  const toPred = (xx: Latent, s: number, d: Latent) => (o.prediction === 'data' ? d : sum(xx, [[1 / s, xx], [-1 / s, d]]));
  let denoised = await model(x, sigmas[0], { step: 0, role: 'predictor' });
  const ms: Latent[] = [toPred(x, sigmas[0], denoised)]; // most recent last
  const lams: number[] = [lambdaOf(sigmas[0])];
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const t = sigmas[i + 1];
    const p = multistepOrder(i, n, o.order, o.lowerOrderFinal, false, t);
    const m0 = ms[ms.length - 1];
    const prev = ms.slice(0, -1).reverse();
    const lamsPrev = lams.slice(0, -1).reverse();
    let xPred: Latent;
    if (t === 0) {
      if (o.variant === 'bh1' && o.zeroFinal === 'error') {
        throw new DpipeError(
          'E_NAN',
          'solver.unipc: with B(h) = h (variant bh1) a step to σ = 0 is undefined (B(h) = −∞ times 0; diffusers returns NaN). Use variant bh2, a schedule ending at σ_min (final "sigma_min"), or zeroFinal "ddim".',
        );
      }
      xPred = o.prediction === 'data' ? m0 : sum(x, [[1, x], [-s, m0]]);
    } else {
      xPred = uniP(x, s, t, m0, prev, lamsPrev, p, o.prediction, o.variant);
    }
    if (i === n - 1) {
      x = xPred;
      emit(ctx, i, sigmas, x, denoised);
      break;
    }
    denoised = await model(xPred, t, { step: i + 1, role: 'predictor' });
    const mT = toPred(xPred, t, denoised);
    const xNext = o.corrector && !o.disableCorrector.includes(i) ? uniC(x, s, t, m0, prev, lamsPrev, mT, p, o.prediction, o.variant) : xPred;
    ms.push(mT);
    lams.push(lambdaOf(t));
    if (ms.length > 3) {
      ms.shift();
      lams.shift();
    }
    x = xNext;
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

// UniP-p has order p, UniC raises it to p + 1 (Zhao et al. 2023, Theorem 3.1/3.2).
const UNIPC_ORDERS: OrderCase<UniPCOptions>[] = [
  ...([1, 2, 3] as const).flatMap((p) => UNIPC_VARIANTS.map((variant) => ({ params: { order: p, variant, lowerOrderFinal: 'off' as const }, order: p + 1, steps: [32, 64, 128, 256], grid: 'warm' as const }))),
  { params: { order: 1, corrector: false, lowerOrderFinal: 'off' }, order: 1, steps: [32, 64, 128, 256], note: 'UniP-1' },
  { params: { order: 2, corrector: false, lowerOrderFinal: 'off' }, order: 2, steps: [32, 64, 128, 256], note: 'UniP-2' },
  { params: { order: 3, corrector: false, lowerOrderFinal: 'off' }, order: 3, steps: [256, 512, 1024, 2048], grid: 'warm', note: 'UniP-3' },
  { params: { order: 3, prediction: 'noise', lowerOrderFinal: 'off' }, order: 4, steps: [32, 64, 128, 256], grid: 'warm' },
];

/**
 * Presets (order, variant and prediction stay the block's own choice). wl-zhao/UniPC and diffusers agree at the
 * solver level; they differ in the time grid and the model's time input (examples/presets).
 */
export const UNIPC = defineSolver({
  type: 'solver.unipc',
  title: 'UniPC',
  doc: 'Unified predictor-corrector: UniP-p multistep predictor with the UniC corrector built in (no extra model evaluation). B(h) = h (bh1) or e^h − 1 (bh2), orders 1–3. Presets: wl-zhao/UniPC (repo) and diffusers UniPCMultistepScheduler. 1 model evaluation per step.',
  paper: 'Zhao, Bai, Rao, Zhou & Lu 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models", Algorithms 1–3.',
  params: UNIPC_PARAMS,
  presets: {
    diffusers: { doc: 'diffusers UniPCMultistepScheduler (lower_order_final=True, disable_corrector=[]; B(h) = h to σ = 0 is NaN there, an error here);', sets: { corrector: true, disableCorrector: [], lowerOrderFinal: 'always', zeroFinal: 'error' } },
    repo: { doc: 'wl-zhao/UniPC UniPC.sample(method="multistep", lower_order_final=True);', sets: { corrector: true, disableCorrector: [], lowerOrderFinal: 'always', zeroFinal: 'error' } },
  },
  order: 3,
  nfePerStep: 1,
  stochastic: false,
  noStepToZero: { variant: 'bh1', zeroFinal: 'error' },
  solve: solveUnipc,
  tests: { convergence: UNIPC_ORDERS },
});
export const unipc = UNIPC.solverEntry.run;

// ---------------------------------------------------------------------------------------------
// UniC as a CORRECTOR block.

export const UNIC_PARAMS = defineParams(
  { name: 'order', type: 'integer', default: 2, min: 1, max: 3, doc: 'Number of data predictions used (UniC-p, p ≤ the predictor\'s history); the corrected state has order p + 1.' },
  {
    name: 'variant',
    type: 'enum',
    default: 'bh2',
    options: UNIPC_VARIANTS,
    optionDocs: { bh1: 'B(h) = h.', bh2: 'B(h) = e^h − 1.' },
    doc: 'The B(h) of the UniC coefficients.',
  },
);

/** The UniC hook on raw options (defaults filled in, checked). */
export const makeUniC = (params: Params): CorrectorHook => uniCHook(readParams('corrector.unic', UNIC_PARAMS, params));

/** The UniC hook: evaluates D at the predicted state and corrects it with the predictor's history. */
function uniCHook(o: OptionsOf<typeof UNIC_PARAMS>): CorrectorHook {
  return {
    id: 'corrector.unic',
    async correct(a: CorrectorArgs): Promise<Latent> {
      const s = a.sigmas[a.step];
      const t = a.sigmas[a.step + 1];
      if (!(t > 0) || a.history.length === 0) return a.xNext; // nothing to correct at σ = 0
      const hist = a.history;
      const hs = a.historySigmas;
      const m0 = hist[hist.length - 1];
      const sS = hs[hs.length - 1] ?? s;
      const p = Math.min(o.order, hist.length);
      const prev = hist.slice(0, -1).reverse();
      const lamsPrev = hs.slice(0, -1).reverse().map(lambdaOf);
      const mT = await a.model(a.xNext, t, { step: a.step, role: 'corrector' });
      return uniC(a.x, sS, t, m0, prev, lamsPrev, mT, p, 'data', o.variant);
    },
  };
}

export const UNIC_CORRECTOR_NODE = defineCorrector({
  type: 'corrector.unic',
  title: 'UniC',
  doc: 'The UniPC corrector after any predictor that keeps a data-prediction history (Euler, DPM-Solver++ 2M/3M, …): evaluates the model at the predicted state and replaces it by the UniC-p combination, raising the order by one. 1 model evaluation per step (solver.unipc has it built in for free).',
  paper: 'Zhao, Bai, Rao, Zhou & Lu 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models", §3.1 and Algorithm 2 (UniC-p).',
  params: UNIC_PARAMS,
  output: 'UniC, to attach to a solver.',
  follows: 'deterministic',
  nfePerStep: 1,
  make: uniCHook,
});

export const UNIPC_NODES: NodeType[] = [UNIPC, UNIC_CORRECTOR_NODE];
