/**
 * DEIS: the diffusion exponential integrator sampler of Zhang & Chen 2023, "Fast Sampling of Diffusion Models
 * with Exponential Integrator" (ICLR), §4 (ρAB-DEIS and tAB-DEIS, orders 1–3).
 *
 * In EDM/VE coordinates the probability-flow ODE is dx/dρ = ε(x, ρ) with ρ = σ (the paper's ρ = σ/α of a VP
 * model is exactly the VE σ). DEIS fits a Lagrange polynomial through the last k noise predictions and
 * integrates it exactly over the step:
 *   x_next = x + Σ_j C_j ε_j,   C_j = ∫_{ρ}^{ρ_next} ℓ_j(basis(ρ')) dρ'.
 * - basis "logrho": polynomial in log ρ (diffusers `DEISMultistepScheduler` solver_type="logrho", the default);
 *   the integral ∫ P(log ρ) dρ = ∫ P(u) e^u du is evaluated in closed form, e^u Σ_k (−1)^k P^{(k)}(u).
 * - basis "rho": polynomial in ρ itself (ρAB-DEIS; in VE coordinates, where the paper's time t is σ, this is
 *   also tAB-DEIS — ComfyUI's deis "tab" mode — and the variable-step Adams method in σ).
 * Order 1 is DDIM. Warm-up uses orders 1, 2 as history grows; lowerOrderFinal as in diffusers ("below15").
 */
import { defineSolver, type NodeType } from '../registry/node';
import { defineParams, type OptionsOf } from '../registry/params';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { axpy, lagrangeIntegral, requireDecreasing, runSteps, toD } from './common';
import { lowerOrderFinalParam, multistepOrder } from './dpmpp';

export const DEIS_BASES = ['logrho', 'rho'] as const;
export type DeisBasis = (typeof DEIS_BASES)[number];

/** Coefficients of Π_{k≠j}(v − v_k)/(v_j − v_k) in powers of v, lowest first. */
function lagrangePoly(vs: readonly number[], j: number): number[] {
  let poly = [1];
  for (let k = 0; k < vs.length; k++) {
    if (k === j) continue;
    const den = vs[j] - vs[k];
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let i = 0; i < poly.length; i++) {
      next[i + 1] += poly[i] / den;
      next[i] -= (poly[i] * vs[k]) / den;
    }
    poly = next;
  }
  return poly;
}

/** e^v·Σ_k (−1)^k P^{(k)}(v): an antiderivative of P(v)·e^v. */
function expPolyAntiderivative(p: readonly number[], v: number): number {
  let q = [...p];
  let total = 0;
  let sign = 1;
  while (q.length > 0) {
    let val = 0;
    for (let i = q.length - 1; i >= 0; i--) val = val * v + q[i];
    total += sign * val;
    q = q.slice(1).map((c, i) => c * (i + 1)); // derivative
    sign = -sign;
  }
  return Math.exp(v) * total;
}

/** 8-point Gauss–Legendre nodes and weights on [−1, 1]. */
const GL8_X = [-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498, 0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363];
const GL8_W = [0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620, 0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763];

/**
 * C_j = ∫_{ρ_0}^{ρ_next} ℓ_j(log ρ) dρ for nodes ρ_0 > ρ_1 > …. With v = log(ρ/ρ_0) this is
 * ρ_0·∫_0^{v_next} ℓ_j(v) e^v dv: by 8-point Gauss–Legendre quadrature with ℓ_j in product form (no
 * cancellation for small steps; error ~ (|v_next|/2)^16/16!), and in closed form,
 * −ρ_0·[e^v Σ_k (−1)^k ℓ_j^{(k)}(v)]_{v=0}, for a step to ρ_next = 0.
 */
export function logRhoCoefficients(rhos: readonly number[], rhoNext: number): number[] {
  const r0 = rhos[0];
  const vs = rhos.map((r) => Math.log(r / r0));
  return rhos.map((_, j) => {
    if (!(rhoNext > 0)) return -r0 * expPolyAntiderivative(lagrangePoly(vs, j), 0);
    const vt = Math.log(rhoNext / r0);
    let acc = 0;
    for (let q = 0; q < GL8_X.length; q++) {
      const v = (vt / 2) * (1 + GL8_X[q]);
      let l = 1;
      for (let k = 0; k < vs.length; k++) if (k !== j) l *= (v - vs[k]) / (vs[j] - vs[k]);
      acc += GL8_W[q] * l * Math.exp(v);
    }
    return r0 * (vt / 2) * acc;
  });
}

const DEIS_PARAMS = defineParams(
  { name: 'order', type: 'integer', default: 3, min: 1, max: 3, doc: 'Number of noise predictions in the polynomial (diffusers solver_order; 3 by default).' },
  {
    name: 'basis',
    type: 'enum',
    default: 'logrho',
    options: DEIS_BASES,
    optionDocs: { logrho: 'polynomial in log ρ (diffusers DEISMultistepScheduler, "logrho").', rho: 'polynomial in ρ = σ (ρAB-DEIS; = tAB-DEIS in VE coordinates).' },
    doc: 'The variable the noise prediction is extrapolated in.',
  },
  lowerOrderFinalParam('below15'),
);

async function solveDeis(model: Denoiser, x: Latent, sigmas: Float64Array, o: OptionsOf<typeof DEIS_PARAMS>, ctx: SolverContext): Promise<Latent> {
  requireDecreasing('solver.deis', sigmas);
  const n = sigmas.length - 1;
  const eps: Float64Array[] = []; // most recent first
  return runSteps(model, x, sigmas, ctx, false, (xi, denoised, i, s, t) => {
    eps.unshift(toD(xi, s, denoised));
    if (eps.length > 3) eps.pop();
    const k = multistepOrder(i, n, o.order, o.lowerOrderFinal, false, t);
    const rhos = Array.from({ length: k }, (_, j) => sigmas[i - j]);
    const c = o.basis === 'logrho' ? logRhoCoefficients(rhos, t) : rhos.map((_, j) => lagrangeIntegral(rhos, j, s, t));
    return axpy(xi, c.map((cj, j) => [cj, eps[j]] as const));
  });
}

/**
 * Presets (order stays the block's own choice): diffusers `DEISMultistepScheduler` defaults. No preset for the
 * paper's repository (qsh-zh/deis): its tAB-DEIS fits the polynomial in the VP time t of the model, which a
 * solver working in σ cannot express.
 */
export const DEIS = defineSolver({
  type: 'solver.deis',
  title: 'DEIS',
  doc: 'Diffusion exponential integrator sampler: multistep, the last 1–3 noise predictions extrapolated by a polynomial in log ρ (diffusers) or ρ (ρAB/tAB) and integrated exactly. 1 model evaluation per step.',
  paper: 'Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator" (ICLR), §4, ρAB-DEIS / tAB-DEIS.',
  params: DEIS_PARAMS,
  presets: {
    diffusers: { doc: 'diffusers DEISMultistepScheduler (solver_type="logrho", lower_order_final=True);', sets: { basis: 'logrho', lowerOrderFinal: 'below15' } },
  },
  order: 3,
  nfePerStep: 1,
  stochastic: false,
  solve: solveDeis,
  tests: {
    convergence: [
      { params: { order: 1, lowerOrderFinal: 'off' }, order: 1, steps: [32, 64, 128, 256], note: 'DDIM' },
      { params: { order: 2, lowerOrderFinal: 'off' }, order: 2, steps: [32, 64, 128, 256], note: 'log ρ' },
      { params: { order: 3, lowerOrderFinal: 'off' }, steps: [512, 1024, 2048, 4096], grid: 'warm', note: 'log ρ' },
      { params: { order: 3, basis: 'rho', lowerOrderFinal: 'off' }, steps: [256, 512, 1024, 2048], note: 'ρAB/tAB' },
    ],
  },
});
export const deis = DEIS.solverEntry.run;

export const DEIS_NODES: NodeType[] = [DEIS];
