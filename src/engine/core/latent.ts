/** Small float64 helpers over {@link Latent}; solvers compose these instead of hand-written loops. */
import type { Latent } from './types';
import { DpipeError } from './errors';
import { MAX_VALUES } from './budget';

export function latent(shape: readonly number[], data?: Float64Array): Latent {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data && data.length !== n) throw new DpipeError('E_SHAPE', `data has ${data.length} values, shape [${shape.join(',')}] needs ${n}`);
  if (!data && (!Number.isSafeInteger(n) || n < 0 || n > MAX_VALUES)) {
    throw new DpipeError('E_BUDGET', `a latent of shape [${shape.join(', ')}] (${n.toLocaleString('en-US')} values) is larger than one array can hold (${MAX_VALUES.toLocaleString('en-US')} values)`);
  }
  return { shape: [...shape], data: data ?? new Float64Array(n) };
}

export function like(x: Latent, data: Float64Array): Latent {
  return { shape: x.shape, data };
}

/** Σ_i c_i·x_i over latents of one shape (a fresh array). */
export function lincomb(terms: ReadonlyArray<readonly [number, Latent | Float64Array]>): Float64Array {
  const first = terms[0][1];
  const n = (first as Latent).data ? (first as Latent).data.length : (first as Float64Array).length;
  const out = new Float64Array(n);
  for (const [c, t] of terms) {
    if (c === 0) continue;
    const d = (t as Latent).data ?? (t as Float64Array);
    for (let i = 0; i < n; i++) out[i] += c * d[i];
  }
  return out;
}

/** Same as {@link lincomb} but returns a Latent shaped like `x`. */
export function combine(x: Latent, terms: ReadonlyArray<readonly [number, Latent | Float64Array]>): Latent {
  return like(x, lincomb(terms));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
}

export function assertFinite(x: Latent, what: string): void {
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) throw new DpipeError('E_NAN', `${what} produced NaN or infinity (element ${i}).`);
  }
}
