/**
 * Per-item tensor statistics and conversions used by the guidance blocks. Every function works item by item
 * over the batch axis (axis 0), as the references do with `dim=(1, 2, 3)`.
 */
import type { Latent } from '../core/types';

/** Number of values per batch item. */
export function perItem(x: Latent): number {
  return x.data.length / x.shape[0];
}

/** Sample standard deviation (N − 1, torch.std's default) of each item. */
export function itemStd(x: Latent): Float64Array {
  const b = x.shape[0];
  const n = perItem(x);
  const out = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    const d = x.data.subarray(k * n, (k + 1) * n);
    let m = 0;
    for (let i = 0; i < n; i++) m += d[i];
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (d[i] - m) ** 2;
    out[k] = Math.sqrt(s / Math.max(1, n - 1));
  }
  return out;
}

/** Euclidean norm of each item. */
export function itemNorm(x: Latent | Float64Array, batch: number): Float64Array {
  const data = (x as Latent).data ?? (x as Float64Array);
  const n = data.length / batch;
  const out = new Float64Array(batch);
  for (let k = 0; k < batch; k++) {
    let s = 0;
    for (let i = k * n; i < (k + 1) * n; i++) s += data[i] * data[i];
    out[k] = Math.sqrt(s);
  }
  return out;
}

/** The q-quantile (0 ≤ q ≤ 1) of the values, with linear interpolation between order statistics (torch.quantile's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

/** The space a guidance rule operates in: the data prediction x̂0, ε = (x − x̂0)/σ, or the VP v-prediction. */
export type PredSpace = 'x0' | 'eps' | 'v';

/**
 * x̂0 ↦ prediction in `space` at (x, σ) in VE coordinates: p = a·x + b·x̂0 (an affine map with the same (a, b) for
 * every branch). ε = (x − x̂0)/σ; v = α·ε − σ_vp·x̂0 with α = 1/√(1+σ²), σ_vp = σ/√(1+σ²), i.e.
 * v = (x/(1+σ²) − x̂0)·√(1+σ²)/σ (the v of Salimans & Ho 2022, as ComfyUI's RescaleCFG computes it).
 */
export function spaceCoefficients(space: PredSpace, sigma: number): [a: number, b: number] {
  switch (space) {
    case 'x0':
      return [0, 1];
    case 'eps':
      return [1 / sigma, -1 / sigma];
    case 'v': {
      const r = Math.sqrt(1 + sigma * sigma);
      return [1 / (r * sigma), -r / sigma];
    }
  }
}

export function toSpace(space: PredSpace, x: Latent, sigma: number, x0: Latent): Latent {
  const [a, b] = spaceCoefficients(space, sigma);
  return { shape: x0.shape, data: x0.data.map((v, i) => a * x.data[i] + b * v) };
}

export function fromSpace(space: PredSpace, x: Latent, sigma: number, p: Latent): Latent {
  const [a, b] = spaceCoefficients(space, sigma);
  return { shape: p.shape, data: p.data.map((v, i) => (v - a * x.data[i]) / b) };
}
