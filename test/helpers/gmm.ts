/**
 * Closed-form denoisers for tests (float64):
 * - the golden runs' Gaussian mixture (see /work/shared/golden/README.md): 8 isotropic Gaussians in [3,8,8],
 *   std s = 0.2, equal weights, μ_k[c,i,j] = 0.9·sin(2π((k+1)i + (k%3+1)j)/16 + 2πc/3 + 0.7k);
 *   D(x;σ) = Σ_k r_k(μ_k + s²/(s²+σ²)(x − μ_k)), r = softmax_k(−‖x−μ_k‖²/(2(s²+σ²))), per batch item;
 * - a single Gaussian N(m, s²I), whose probability-flow ODE has the closed-form solution
 *   x_σ = m + √((s²+σ²)/(s²+σ0²))·(x_σ0 − m).
 * `counted` wraps a denoiser and records every call (σ, role) so tests can check NFE and call order.
 */
import type { Denoiser, EvalRequest, Latent, NoiseSampler, SolverContext } from '../../src/engine/core/types';

export const GMM_SHAPE = [3, 8, 8] as const;
export const GMM_S = 0.2;
export const GMM_K = 8;

export function gmmMeans(): Float64Array[] {
  const mus: Float64Array[] = [];
  for (let k = 0; k < GMM_K; k++) {
    const m = new Float64Array(192);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 8; i++) {
        for (let j = 0; j < 8; j++) {
          m[c * 64 + i * 8 + j] = 0.9 * Math.sin((2 * Math.PI * ((k + 1) * i + ((k % 3) + 1) * j)) / 16 + (2 * Math.PI * c) / 3 + 0.7 * k);
        }
      }
    }
    mus.push(m);
  }
  return mus;
}

const MUS = gmmMeans();

/** D(x;σ) of a mixture of isotropic Gaussians with equal weights, for each batch item. */
export function mixtureDenoise(x: Latent, sigma: number, mus: readonly Float64Array[] = MUS, s = GMM_S): Latent {
  const per = mus[0].length;
  const batch = x.data.length / per;
  const out = new Float64Array(x.data.length);
  const v = s * s + sigma * sigma;
  const shrink = (s * s) / v;
  const logits = new Float64Array(mus.length);
  for (let b = 0; b < batch; b++) {
    const xb = x.data.subarray(b * per, (b + 1) * per);
    let mx = -Infinity;
    for (let k = 0; k < mus.length; k++) {
      let d2 = 0;
      for (let i = 0; i < per; i++) d2 += (xb[i] - mus[k][i]) ** 2;
      logits[k] = -d2 / (2 * v);
      mx = Math.max(mx, logits[k]);
    }
    let z = 0;
    for (let k = 0; k < mus.length; k++) z += (logits[k] = Math.exp(logits[k] - mx));
    const ob = out.subarray(b * per, (b + 1) * per);
    for (let k = 0; k < mus.length; k++) {
      const r = logits[k] / z;
      if (r === 0) continue;
      for (let i = 0; i < per; i++) ob[i] += r * (mus[k][i] + shrink * (xb[i] - mus[k][i]));
    }
  }
  return { shape: x.shape, data: out };
}

export const gmmDenoiser: Denoiser = async (x, sigma) => mixtureDenoise(x, sigma);

/** D for data N(m, s²I): m + s²/(s²+σ²)(x − m). */
export function gaussianDenoiser(m: number, s: number): Denoiser {
  return async (x, sigma) => {
    const c = (s * s) / (s * s + sigma * sigma);
    return { shape: x.shape, data: x.data.map((v) => m + c * (v - m)) };
  };
}

/** Exact probability-flow ODE solution for Gaussian data from (x0, σ0) to σ. */
export function gaussianFlow(x0: Float64Array, sigma0: number, sigma: number, m: number, s: number): Float64Array {
  const c = Math.sqrt((s * s + sigma * sigma) / (s * s + sigma0 * sigma0));
  return x0.map((v) => m + c * (v - m));
}

export interface Call {
  readonly sigma: number;
  readonly step: number;
  readonly role?: string;
}

export function counted(d: Denoiser): { model: Denoiser; calls: Call[] } {
  const calls: Call[] = [];
  const model: Denoiser = async (x, sigma, req: EvalRequest) => {
    calls.push({ sigma, step: req.step, role: req.role });
    return d(x, sigma, req);
  };
  return { model, calls };
}

/** A NoiseSampler returning the slices of a [K, ...] array in order (like noise.npy). */
export function arrayNoise(steps: Latent, perDraw: number): NoiseSampler & { used: () => number } {
  let k = 0;
  const f = (() => {
    if ((k + 1) * perDraw > steps.data.length) throw new Error('test noise exhausted');
    return steps.data.slice(k * perDraw, ++k * perDraw);
  }) as unknown as NoiseSampler & { used: () => number };
  f.used = () => k;
  return f;
}

export const noNoise: NoiseSampler = () => {
  throw new Error('a deterministic solver drew noise');
};

export function ctxWith(noise: NoiseSampler = noNoise, extra: Partial<SolverContext> = {}): SolverContext {
  return { noise, ...extra };
}
