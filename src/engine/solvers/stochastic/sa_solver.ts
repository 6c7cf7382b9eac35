/**
 * SA-Solver (Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast Sampling of Diffusion Models",
 * NeurIPS 2023): a stochastic linear multistep predictor–corrector in the data-prediction form.
 * SA-Predictor (Alg. 1, Eq. 14) is a stochastic Adams–Bashforth step over the last `predictorOrder` model
 * outputs; SA-Corrector (Alg. 2, Eq. 17) a stochastic Adams–Moulton step that re-does the previous step
 * with the model output at its end point, reusing the same noise. The corrector needs no extra model
 * evaluation (1 NFE per step), like UniC.
 *
 * With λ = −log σ (VE coordinates, λ = log α/σ_vp), a step s → t of size h = λ_t − λ_s reads
 *   x_t = e^{−τ²h}(σ_t/σ_s)·x_s + (1+τ²)·σ_t·e^{−τ²λ_t}·Σ_k c_k·D_k + σ_t·√(1 − e^{−2τ²h})·ξ,
 * where c_k = ∫_{λ_s}^{λ_t} e^{(1+τ²)λ}·ℓ_k(λ) dλ, ℓ_k the Lagrange basis over the λs of the model outputs
 * used. τ = 0 is the (deterministic) Adams method on the probability-flow ODE; τ = 1 the reverse SDE.
 *
 * Reproduces diffusers `SASolverScheduler` (algorithm_type "data_prediction"): its warm-up
 * (orders grow with the history), `lower_order_final`, the order-2 modification of both steps (a term that
 * does not change the convergence order, added for few-step sampling), one noise draw per step (also on
 * the last step) and τ chosen at the σ where the step starts. diffusers' default `tau_func`
 * A schedule ending at σ = 0 ends with the denoising step x ← x̂0 (as k-diffusion/ComfyUI do), since the
 * log-σ formulas have no σ = 0; diffusers' own schedule ends at σ(t=0) > 0.
 * (τ = 1 for training timesteps 200 ≤ t ≤ 800, else 0) on SD1's schedule is `tauSigmaRange` ≈ [σ(200), σ(800)] (rounded outwards so float32 tables are inside)
 * = [0.5716, 5.1111].
 */
import type { Denoiser, Latent, SolverContext } from '../../core/types';
import { combine } from '../../core/latent';
import { defineSolver, type NodeType } from '../../registry/node';
import { defineParams, type OptionsOf } from '../../registry/params';
import { DpipeError } from '../../core/errors';
import { checkAbort, emit } from '../common';
import { WEAK_STEPS } from './util';

/** ∫_a^b e^{k u}·u^m du in closed form (m ≤ 3 in practice; any m ≥ 0 works). */
export function expPolyIntegral(m: number, a: number, b: number, k: number): number {
  // ∫ e^{ku} u^m du = e^{ku}·Σ_j (−1)^j·m!/(m−j)!·u^{m−j}/k^{j+1}; written as e^{kb}[P(b) − P(a)e^{−k(b−a)}].
  const p = (u: number): number => {
    let s = 0;
    let f = 1; // m!/(m−j)!
    for (let j = 0; j <= m; j++) {
      s += ((j % 2 === 0 ? 1 : -1) * f * u ** (m - j)) / k ** (j + 1);
      f *= m - j;
    }
    return s;
  };
  return Math.exp(k * b) * (p(b) - p(a) * Math.exp(-k * (b - a)));
}

/** Monomial coefficients (highest power first) of the Lagrange basis polynomials over `nodes`. */
export function lagrangeBasis(nodes: readonly number[]): number[][] {
  const n = nodes.length;
  return nodes.map((xi, i) => {
    let poly = [1]; // highest power first
    let denom = 1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const next = new Array<number>(poly.length + 1).fill(0);
      for (let q = 0; q < poly.length; q++) {
        next[q] += poly[q];
        next[q + 1] -= poly[q] * nodes[j];
      }
      poly = next;
      denom *= xi - nodes[j];
    }
    return poly.map((c) => c / denom);
  });
}

/** c_k = ∫_{λs}^{λt} e^{(1+τ²)λ}·ℓ_k(λ) dλ for the Lagrange basis over `lambdas`. */
export function saCoefficients(lambdaS: number, lambdaT: number, lambdas: readonly number[], tau: number): number[] {
  const k = 1 + tau * tau;
  const basis = lagrangeBasis(lambdas);
  const deg = lambdas.length - 1;
  return basis.map((poly) => poly.reduce((acc, c, j) => acc + c * expPolyIntegral(deg - j, lambdaS, lambdaT, k), 0));
}

const P_SA = defineParams(
  { name: 'predictorOrder', type: 'integer', default: 2, min: 1, max: 4, doc: 'Order of the SA-Predictor (number of past model outputs used; diffusers default 2).' },
  { name: 'correctorOrder', type: 'integer', default: 2, min: 0, max: 4, doc: 'Order of the SA-Corrector (diffusers default 2); 0 turns the corrector off.' },
  { name: 'tau', type: 'number', default: 1, min: 0, max: 2, step: 0.05, doc: 'Stochasticity τ inside the τ window (0 = ODE / deterministic Adams, 1 = the reverse SDE).' },
  {
    name: 'tauSigmaRange', type: 'numberList', default: [], min: 0,
    doc: '[σ_lo, σ_hi]: τ applies to steps that start at σ_lo ≤ σ ≤ σ_hi and is 0 elsewhere (the paper\'s piecewise τ(t)); empty = every step. diffusers\' default tau_func on SD1 (t ∈ [200, 800]) is [0.5716, 5.1111].',
  },
  { name: 'lowerOrderFinal', type: 'boolean', default: true, doc: 'Lower the orders on the last steps so they never look past the end (diffusers `lower_order_final`, default true).' },
  { name: 'sNoise', type: 'number', default: 1, min: 0, max: 2, step: 0.001, doc: 'Scale of the noise draws (1 = the paper).' },
);

/** One SA step from (σ_s, x_s) to σ_t with model outputs `outs` at λs `lambdas` (most recent first). */
export function saStep(
  kind: 'predictor' | 'corrector', x: Latent, sigmaS: number, sigmaT: number, outs: readonly Latent[], lambdas: readonly number[],
  prevLambda: number | undefined, tau: number, noise: Float64Array, sNoise: number,
): Latent {
  const lamS = -Math.log(sigmaS);
  const lamT = -Math.log(sigmaT);
  const h = lamT - lamS;
  const k = 1 + tau * tau;
  const c = saCoefficients(lamS, lamT, lambdas, tau);
  if (outs.length === 2) {
    // The order-2 modification of diffusers/the reference code (does not change the order of convergence).
    const base = h * k - 1 + Math.exp(-k * h);
    const extra = kind === 'predictor'
      ? (Math.exp(k * lamT) * ((h * h) / 2 - base / (k * k))) / (lamS - (prevLambda as number))
      : Math.exp(k * lamT) * (h / 2 - base / (k * k * h));
    c[0] += extra;
    c[1] -= extra;
  }
  const g = k * sigmaT * Math.exp(-tau * tau * lamT);
  const terms: [number, Latent | Float64Array][] = [[Math.exp(-tau * tau * h) * (sigmaT / sigmaS), x]];
  outs.forEach((d, i) => terms.push([g * c[i], d]));
  terms.push([sNoise * sigmaT * Math.sqrt(Math.max(0, -Math.expm1(-2 * tau * tau * h))), noise]);
  return combine(x, terms);
}

const solveSaSolver = async (model: Denoiser, x0: Latent, sigmas: Float64Array, o: OptionsOf<typeof P_SA>, ctx: SolverContext): Promise<Latent> => {
  if (o.tauSigmaRange.length !== 0 && (o.tauSigmaRange.length !== 2 || o.tauSigmaRange[0] > o.tauSigmaRange[1])) {
    throw new DpipeError('E_PARAM_VALUE', `solver.sa_solver: tauSigmaRange must be empty or [σ_lo, σ_hi] with σ_lo ≤ σ_hi; got [${o.tauSigmaRange.join(', ')}].`);
  }
  const n = sigmas.length - 1;
  const tauAt = (s: number): number =>
    o.tauSigmaRange.length === 0 || (s >= o.tauSigmaRange[0] && s <= o.tauSigmaRange[1]) ? o.tau : 0;
  const P = o.predictorOrder;
  const C = o.correctorOrder;
  const keep = Math.max(P, C - 1, 1);
  const outs: Latent[] = []; // most recent first
  const lams: number[] = []; // λ of each entry in `outs`
  let lowerOrderNums = 0;
  let x = x0;
  let lastX: Latent | undefined;
  let lastNoise: Float64Array | undefined;
  let corrOrder = 0;
  for (let i = 0; i < n; i++) {
    checkAbort(ctx, i, n);
    const s = sigmas[i];
    const d = await model(x, s, { step: i, role: 'predictor' });
    const lam = -Math.log(s);
    if (i > 0 && C > 0 && lastX && lastNoise) {
      const used = [d, ...outs].slice(0, corrOrder);
      const usedLam = [lam, ...lams].slice(0, corrOrder);
      x = saStep('corrector', lastX, sigmas[i - 1], s, used, usedLam, undefined, tauAt(sigmas[i - 1]), lastNoise, o.sNoise);
    }
    outs.unshift(d);
    lams.unshift(lam);
    if (outs.length > keep) { outs.pop(); lams.pop(); }
    if (sigmas[i + 1] === 0) {
      x = d; // denoising step to σ = 0 (k-diffusion/ComfyUI convention; the log-σ formulas have no σ = 0)
      emit(ctx, i, sigmas, x, d);
      continue;
    }
    const noise = ctx.noise(s, sigmas[i + 1]);
    let pOrder = o.lowerOrderFinal ? Math.min(P, n - i) : P;
    const cOrder = o.lowerOrderFinal ? Math.min(C, n - i + 1) : C;
    pOrder = Math.min(pOrder, lowerOrderNums + 1);
    corrOrder = Math.min(cOrder, lowerOrderNums + 2);
    lastX = x;
    lastNoise = noise;
    x = saStep('predictor', x, s, sigmas[i + 1], outs.slice(0, pOrder), lams.slice(0, pOrder), lams[1], tauAt(s), noise, o.sNoise);
    if (lowerOrderNums < Math.max(P, C - 1)) lowerOrderNums++;
    emit(ctx, i, sigmas, x, d);
  }
  return x;
};

/**
 * Preset: diffusers `SASolverScheduler` defaults (lower_order_final=True, no s_noise). The orders and τ stay
 * the block's own; diffusers' default tau_func (τ = 1 for training timesteps 200–800) depends on the model's
 * schedule, so `tauSigmaRange` is set by hand ([0.5716, 5.1111] for Stable Diffusion's scaled_linear betas).
 */
export const SA_SOLVER = defineSolver({
  type: 'solver.sa_solver',
  title: 'SA-Solver',
  doc: 'Stochastic Adams predictor–corrector (data prediction) with stochasticity τ in a σ window: an Adams–Bashforth step over the last model outputs, then, once the next model output is known, an Adams–Moulton correction of that step with the same noise (no extra NFE). A final step to σ = 0 returns x̂0 (diffusers ends at σ(t=0) > 0 instead). Reproduces diffusers `SASolverScheduler`.',
  paper: 'Xue et al. 2023, "SA-Solver: Stochastic Adams Solver for Fast Sampling of Diffusion Models" (NeurIPS), Alg. 1 (SA-Predictor) and Alg. 2 (SA-Corrector), Eq. 14 and 17.',
  params: P_SA,
  presets: {
    diffusers: { doc: 'diffusers SASolverScheduler(algorithm_type="data_prediction", lower_order_final=True); set tauSigmaRange to [σ(200), σ(800)] of the model for its default tau_func;', sets: { lowerOrderFinal: true, sNoise: 1 } },
  },
  order: 2,
  nfePerStep: 1,
  stochastic: true,
  solve: solveSaSolver,
  tests: {
    weakOrder: [
      { steps: WEAK_STEPS, note: '(2, 2), τ = 1' },
      { steps: WEAK_STEPS, params: { predictorOrder: 3, correctorOrder: 3 }, note: '(3, 3), τ = 1: the warm-up bounds it by 2' },
      { steps: WEAK_STEPS, params: { predictorOrder: 1, correctorOrder: 0 }, order: 1, note: '(1, 0), τ = 1: DDPM' },
    ],
  },
});
export const saSolver = SA_SOLVER.solverEntry.run;

export const SA_SOLVER_NODES: NodeType[] = [SA_SOLVER];
