/**
 * Exact analysis of linear solvers on Gaussian data. With data x0 ~ N(0, s²) per element the ideal denoiser is
 * linear, D(x; σ) = s²/(s²+σ²)·x, and every solver here is linear in (x, D, noise), so the final state is
 * x_N = g₀·x_T + Σ_d g_d·z_d. Running the solver once on a latent whose element 0 starts at 1 and whose draw d
 * is the unit vector e_{d+1} yields all g's. Starting from the exact marginal x_T ~ N(0, s² + σ₀²), the final
 * variance is g₀²(s² + σ₀²) + Σ g_d², against the exact s² + σ_N²: the weak error of the second moment, exactly,
 * without Monte-Carlo noise. (The mean stays 0 for every scheme.) g₀ alone is the ODE's transfer factor, whose
 * exact value is √((s² + σ_N²)/(s² + σ₀²)).
 */
import type { Latent, SolverContext, SolverFn } from '../../src/engine/core/types';
import type { Params } from '../../src/engine/registry/types';

export function gaussianDenoiser(s2: number) {
  return (x: Latent, sigma: number): Latent => ({ shape: x.shape, data: x.data.map((v) => (s2 / (s2 + sigma * sigma)) * v) });
}

export interface LinearResult {
  readonly g0: number;
  readonly noiseGains: number[];
  readonly variance: number;
  readonly exactVariance: number;
  readonly weakError: number;
  readonly nfe: number;
}

export async function linearAnalysis(solver: SolverFn<Params>, options: Params, sigmas: Float64Array, s2 = 0.25, maxDraws = 4096, extra: Partial<SolverContext> = {}): Promise<LinearResult> {
  const m = maxDraws + 1;
  const x0 = new Float64Array(m);
  x0[0] = 1;
  let draws = 0;
  const noise = () => {
    const z = new Float64Array(m);
    if (draws + 1 >= m) throw new Error('too many draws for the analysis latent');
    z[++draws] = 1;
    return z;
  };
  let nfe = 0;
  const D = gaussianDenoiser(s2);
  const x = await solver(async (xx, sigma) => { nfe++; return D(xx, sigma); }, { shape: [1, m], data: x0 }, sigmas, options, { noise, ...extra });
  const g0 = x.data[0];
  const noiseGains = Array.from(x.data.subarray(1, draws + 1));
  const s0 = sigmas[0];
  const sN = sigmas[sigmas.length - 1];
  const variance = g0 * g0 * (s2 + s0 * s0) + noiseGains.reduce((a, g) => a + g * g, 0);
  const exactVariance = s2 + sN * sN;
  return { g0, noiseGains, variance, exactVariance, weakError: Math.abs(variance - exactVariance), nfe };
}

/** Karras ρ = 7 schedule with n σs from σ_max to σ_min (no final 0). */
export function karras(n: number, sigmaMin = 0.05, sigmaMax = 20, rho = 7): Float64Array {
  const a = sigmaMax ** (1 / rho);
  const b = sigmaMin ** (1 / rho);
  return Float64Array.from({ length: n }, (_, i) => (a + (i / (n - 1)) * (b - a)) ** rho);
}

/** Log-uniform schedule (uniform in λ = −log σ) with `steps` steps. */
export function logUniform(steps: number, sigmaMin = 0.05, sigmaMax = 20): Float64Array {
  return Float64Array.from({ length: steps + 1 }, (_, i) => Math.exp(Math.log(sigmaMax) + (i / steps) * (Math.log(sigmaMin) - Math.log(sigmaMax))));
}

/** Least-squares slope of log(error) against log(steps). */
export function slope(steps: number[], errors: number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => { num += (x - mx) * (ys[i] - my); den += (x - mx) ** 2; });
  return -num / den;
}

/**
 * The same exact analysis with Brownian-path noise: every draw the solver asks for over (a, b) is
 * (W(b) − W(a))/√|b − a| for one Brownian path W. A first run records the query points; W is then represented
 * by independent unit increments over the cells between consecutive points (each a basis vector of the latent),
 * so the final variance is again exact.
 */
export async function linearAnalysisBrownian(solver: SolverFn<Params>, options: Params, sigmas: Float64Array, s2 = 0.25): Promise<LinearResult> {
  const points = new Set<number>();
  const D = gaussianDenoiser(s2);
  await solver(async (xx, sigma) => D(xx, sigma), { shape: [1, 1], data: Float64Array.of(1) }, sigmas, options, {
    noise: (a, b) => { points.add(a); points.add(b); return new Float64Array(1); },
  });
  const grid = [...points].sort((p, q) => p - q);
  const cells = grid.length - 1;
  const m = cells + 1;
  const x0 = new Float64Array(m);
  x0[0] = 1;
  const w = (t: number): Float64Array => {
    // W(t) − W(grid[0]) = Σ_{cells below t} √len·e_cell
    const v = new Float64Array(m);
    for (let c = 0; c < cells && grid[c + 1] <= t; c++) v[c + 1] = Math.sqrt(grid[c + 1] - grid[c]);
    return v;
  };
  let nfe = 0;
  const x = await solver(async (xx, sigma) => { nfe++; return D(xx, sigma); }, { shape: [1, m], data: x0 }, sigmas, options, {
    noise: (a, b) => {
      const wa = w(a);
      const wb = w(b);
      const sc = 1 / Math.sqrt(Math.abs(b - a));
      return wb.map((v, i) => (v - wa[i]) * sc);
    },
  });
  const g0 = x.data[0];
  const noiseGains = Array.from(x.data.subarray(1));
  const variance = g0 * g0 * (s2 + sigmas[0] ** 2) + noiseGains.reduce((a, g) => a + g * g, 0);
  const exactVariance = s2 + sigmas[sigmas.length - 1] ** 2;
  return { g0, noiseGains, variance, exactVariance, weakError: Math.abs(variance - exactVariance), nfe };
}
