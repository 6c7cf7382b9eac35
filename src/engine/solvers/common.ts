/**
 * Numerics shared by the solver family, written once: the ODE derivative in EDM coordinates, the ancestral
 * split of a step, the exponential-integrator φ functions, Lagrange/Adams coefficients for linear multistep
 * methods, EDM churn, step reporting, and small latent helpers. Solvers are plain functions over these.
 *
 * Coordinates: x = x0 + σ·ε (Karras et al. 2022). The probability-flow ODE is dx/dσ = (x − D(x;σ))/σ.
 * λ = −log σ is the half log-SNR of DPM-Solver (Lu et al. 2022) in these coordinates (α = 1).
 */
import { DpipeError } from '../core/errors';
import { like } from '../core/latent';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import { defineParams, type OptionsOf } from '../registry/params';

/** dx/dσ = (x − D)/σ (k-diffusion `to_d`). */
export function toD(x: Latent, sigma: number, denoised: Latent): Float64Array {
  const n = x.data.length;
  const out = new Float64Array(n);
  const inv = 1 / sigma;
  for (let i = 0; i < n; i++) out[i] = (x.data[i] - denoised.data[i]) * inv;
  return out;
}

/** x + Σ c_k·v_k as a new Latent shaped like x. */
export function axpy(x: Latent, terms: ReadonlyArray<readonly [number, Float64Array | Latent]>): Latent {
  const n = x.data.length;
  const out = Float64Array.from(x.data);
  for (const [c, t] of terms) {
    if (c === 0) continue;
    const d = (t as Latent).data ?? (t as Float64Array);
    for (let i = 0; i < n; i++) out[i] += c * d[i];
  }
  return like(x, out);
}

/** Σ c_k·v_k (no base) as a Latent shaped like `shapeOf`. */
export function sum(shapeOf: Latent, terms: ReadonlyArray<readonly [number, Float64Array | Latent]>): Latent {
  const n = shapeOf.data.length;
  const out = new Float64Array(n);
  for (const [c, t] of terms) {
    if (c === 0) continue;
    const d = (t as Latent).data ?? (t as Float64Array);
    for (let i = 0; i < n; i++) out[i] += c * d[i];
  }
  return like(shapeOf, out);
}

/** λ = −log σ (half log-SNR in VE coordinates); +∞ at σ = 0. */
export const lambdaOf = (sigma: number): number => -Math.log(sigma);

/**
 * The ancestral split of a step σ → σ_next (k-diffusion `get_ancestral_step`; Song et al. 2021 DDIM eq. 16
 * with η): σ_up = min(σ_next, η·√(σ_next²(σ² − σ_next²)/σ²)), σ_down = √(σ_next² − σ_up²).
 * Going deterministically to σ_down then adding σ_up·z has the same marginal as the ancestral DDPM step.
 */
export function ancestralStep(sigma: number, sigmaNext: number, eta: number): [down: number, up: number] {
  if (eta === 0 || sigmaNext === 0) return [sigmaNext, 0];
  const up = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma)));
  const down = Math.sqrt(sigmaNext * sigmaNext - up * up);
  return [down, up];
}

/**
 * Exponential-integrator φ functions (Hochbruck & Ostermann 2010): φ_1(h) = (e^h − 1)/h,
 * φ_{k+1}(h) = (φ_k(h) − 1/k!)/h, evaluated by a series for small |h| to avoid cancellation.
 * DPM-Solver++'s data-prediction updates use them at −h.
 */
export function phi(k: number, h: number): number {
  if (k < 1) throw new DpipeError('E_INTERNAL', `phi order ${k}`);
  if (Math.abs(h) < 0.25) {
    // φ_k(h) = Σ_{j≥0} h^j/(j+k)!
    let term = 1;
    for (let i = 2; i <= k; i++) term /= i;
    let s = 0;
    for (let j = 0; j < 30; j++) {
      s += term;
      term *= h / (j + k + 1);
    }
    return s;
  }
  let p = Math.expm1(h) / h;
  let fact = 1;
  for (let i = 1; i < k; i++) {
    p = (p - 1 / fact) / h;
    fact *= i + 1;
  }
  return p;
}

/** 5-point Gauss–Legendre nodes and weights on [−1, 1] (exact for polynomials of degree ≤ 9). */
const GL_X = [0, -0.5384693101056831, 0.5384693101056831, -0.906179845938664, 0.906179845938664];
const GL_W = [0.5688888888888889, 0.47862867049936647, 0.47862867049936647, 0.23692688505618908, 0.23692688505618908];

/**
 * ∫_a^b ℓ_j(τ) dτ for the Lagrange basis polynomial ℓ_j over nodes `ts` (ℓ_j(ts[i]) = δ_ij), by Gauss–Legendre
 * quadrature, exact for up to 10 nodes; ℓ_j is evaluated in product form, which stays well conditioned when
 * the nodes are close together. (k-diffusion's `linear_multistep_coeff` integrates the same polynomial with
 * scipy.integrate.quad.)
 */
export function lagrangeIntegral(ts: readonly number[], j: number, a: number, b: number): number {
  if (ts.length > 10) throw new DpipeError('E_INTERNAL', `lagrangeIntegral supports up to 10 nodes; got ${ts.length}`);
  const mid = (a + b) / 2;
  const half = (b - a) / 2;
  let s = 0;
  for (let q = 0; q < GL_X.length; q++) {
    const tau = mid + half * GL_X[q];
    let l = 1;
    for (let k = 0; k < ts.length; k++) if (k !== j) l *= (tau - ts[k]) / (ts[j] - ts[k]);
    s += GL_W[q] * l;
  }
  return s * half;
}

/** EDM churn parameters (Karras et al. 2022, Algorithm 2: S_churn, S_tmin, S_tmax, S_noise). */
export const CHURN_PARAMS = defineParams(
  { name: 'sChurn', type: 'number', default: 0, min: 0, doc: 'S_churn: total noise added back over the run (0 = deterministic ODE solver).' },
  { name: 'sTmin', type: 'number', default: 0, min: 0, advanced: true, doc: 'S_tmin: churn only where σ ≥ S_tmin.' },
  { name: 'sTmax', type: 'number', default: 1e30, min: 0, advanced: true, doc: 'S_tmax: churn only where σ ≤ S_tmax (default: no limit).' },
  { name: 'sNoise', type: 'number', default: 1, min: 0, advanced: true, doc: 'S_noise: scale of the churn noise (1.003 in the paper\'s ImageNet runs).' },
);
export type Churn = OptionsOf<typeof CHURN_PARAMS>;

/**
 * Karras et al. 2022, Algorithm 2 lines 4–6: γ = min(S_churn/N, √2 − 1) for S_tmin ≤ σ ≤ S_tmax, σ̂ = σ(1 + γ),
 * x̂ = x + √(σ̂² − σ²)·S_noise·z. Draws noise only when γ > 0 (k-diffusion's sample_euler/sample_heun).
 */
export function churn(x: Latent, sigma: number, steps: number, c: Churn, ctx: SolverContext, sigmaNext: number): [Latent, number] {
  const gamma = c.sTmin <= sigma && sigma <= c.sTmax ? Math.min(c.sChurn / steps, Math.SQRT2 - 1) : 0;
  if (!(gamma > 0)) return [x, sigma];
  const sigmaHat = sigma * (gamma + 1);
  const z = ctx.noise(sigma, sigmaNext);
  return [axpy(x, [[c.sNoise * Math.sqrt(sigmaHat * sigmaHat - sigma * sigma), z]]), sigmaHat];
}

/** Reports a finished step to the inspector. */
export function emit(ctx: SolverContext, step: number, sigmas: Float64Array, x: Latent, denoised?: Latent): void {
  ctx.onStep?.({ step, sigma: sigmas[step], sigmaNext: sigmas[step + 1], x, denoised });
}

/** Throws E_ABORTED when the run was stopped (solvers call it between steps; the denoiser checks too). */
export function checkAbort(ctx: SolverContext, step: number, steps: number): void {
  if (ctx.signal?.aborted) throw new DpipeError('E_ABORTED', `The run was stopped at step ${step + 1} of ${steps}.`);
}

/** Schedules must be strictly monotone for the solvers whose step sizes divide by h. */
export function requireDecreasing(block: string, sigmas: Float64Array): void {
  for (let i = 0; i + 1 < sigmas.length; i++) {
    if (!(sigmas[i + 1] < sigmas[i])) {
      throw new DpipeError('E_COMPOSE', `${block} needs strictly decreasing σ; the schedule has σ[${i}] = ${sigmas[i]} followed by σ[${i + 1}] = ${sigmas[i + 1]}.`);
    }
  }
}

/** Runs a corrector hook if one is attached (solvers that accept correctors call this after each step). */
export async function maybeCorrect(
  ctx: SolverContext,
  args: Omit<Parameters<NonNullable<SolverContext['corrector']>['correct']>[0], 'noise'>,
): Promise<Latent> {
  if (!ctx.corrector) return args.xNext;
  return ctx.corrector.correct({ ...args, noise: ctx.noise });
}

/**
 * One step σ → σ_next of a sampler run by {@link runSteps}: from x and its x̂0 = D(x; σ), the next x.
 * `i` is the step index (σ = sigmas[i], σ_next = sigmas[i + 1]).
 */
export type StepFn = (x: Latent, denoised: Latent, i: number, sigma: number, sigmaNext: number) => Latent | Promise<Latent>;

/**
 * The step loop of the solvers that evaluate x̂0 once at the start of each step (k-diffusion writes it
 * out in every sampler): per step, stop if the run was aborted, evaluate D(x; σ_i) (role `predictor`), let
 * `step` produce x_{i+1}, then, when `corrector` is true, run the attached corrector hook with the x̂0 history,
 * and report the step. The samplers keep their own multistep state in the closure.
 */
export async function runSteps(model: Denoiser, x0: Latent, sigmas: Float64Array, ctx: SolverContext, corrector: boolean, step: StepFn): Promise<Latent> {
  let x = x0;
  const hist: Latent[] = [];
  const histS: number[] = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    checkAbort(ctx, i, sigmas.length - 1);
    const s = sigmas[i];
    const sn = sigmas[i + 1];
    const denoised = await model(x, s, { step: i, role: 'predictor' });
    const xPrev = x;
    x = await step(x, denoised, i, s, sn);
    if (corrector) {
      hist.push(denoised);
      histS.push(s);
      x = await maybeCorrect(ctx, { model, step: i, sigmas, x: xPrev, xNext: x, history: hist, historySigmas: histS });
    }
    emit(ctx, i, sigmas, x, denoised);
  }
  return x;
}

/** Solves the small dense system A·x = b (Gaussian elimination with partial pivoting). */
export function solveLinear(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    if (M[c][c] === 0) throw new DpipeError('E_INTERNAL', 'singular system in solver coefficients (repeated σ values?)');
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}
