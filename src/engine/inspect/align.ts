/**
 * Aligning two runs by noise level σ, so two samplers (or one sampler at two settings) can be compared where they
 * are at the same point of the diffusion, whatever their step counts.
 *
 * For each evaluation a of run A, run B's state "at σ_a" is taken from B's evaluations, ordered by σ:
 * - `nearest`: the B evaluation whose log σ is closest to log σ_a (ties: the larger σ);
 * - `interpolate`: linear interpolation in log σ between the two B evaluations that bracket σ_a,
 *   x_B(σ_a) ≈ (1 − w)·x_B[b0] + w·x_B[b1], w = (log σ_b0 − log σ_a)/(log σ_b0 − log σ_b1). Outside B's σ range the
 *   nearest end is used (w = 0, `clamped`).
 * When B evaluated the model several times at one σ (Heun's second evaluation at σ_{i+1} and the next step's first,
 * a corrector), the LAST of them is used: it sees the most corrected state. σ = 0 is matched only to σ = 0 (else
 * to B's smallest σ, clamped).
 */
import { DpipeError } from '../core/errors';
import { rmsDiff } from './stats';

export type AlignMode = 'nearest' | 'interpolate';
export const ALIGN_MODES: readonly AlignMode[] = ['nearest', 'interpolate'];

export interface AlignedPair {
  /** Index into A's list. */
  readonly a: number;
  /** Indices into B's list: the value is (1 − w)·B[b0] + w·B[b1]; b0 = b1 and w = 0 for an exact or nearest match. */
  readonly b0: number;
  readonly b1: number;
  readonly w: number;
  /** σ_a lies outside B's σ range (the nearest end was used). */
  readonly clamped: boolean;
}

interface Point {
  readonly s: number; // log σ (−∞ for σ = 0)
  readonly j: number;
}

/** B's evaluations as points in log σ, descending, one per distinct σ (the last evaluation at that σ). */
function pointsOf(sigmasB: readonly number[]): Point[] {
  const byS = new Map<number, number>();
  sigmasB.forEach((s, j) => {
    if (!(s >= 0) || !Number.isFinite(s)) throw new DpipeError('E_PARAM_VALUE', `σ[${j}] = ${s}; σ values must be finite and ≥ 0`);
    byS.set(s, j);
  });
  return [...byS.entries()].sort((p, q) => q[0] - p[0]).map(([s, j]) => ({ s: s > 0 ? Math.log(s) : -Infinity, j }));
}

/** Aligns every σ of A to B. See the module comment. */
export function alignBySigma(sigmasA: readonly number[], sigmasB: readonly number[], mode: AlignMode = 'nearest'): AlignedPair[] {
  if (!ALIGN_MODES.includes(mode)) throw new DpipeError('E_PARAM_VALUE', `alignment mode "${String(mode)}"; allowed: ${ALIGN_MODES.join(', ')}`);
  const pts = pointsOf(sigmasB);
  if (pts.length === 0) return [];
  const first = pts[0];
  const last = pts[pts.length - 1];
  return sigmasA.map((sa, a) => {
    if (!(sa >= 0) || !Number.isFinite(sa)) throw new DpipeError('E_PARAM_VALUE', `σ[${a}] = ${sa}; σ values must be finite and ≥ 0`);
    const s = sa > 0 ? Math.log(sa) : -Infinity;
    const one = (p: Point, clamped: boolean): AlignedPair => ({ a, b0: p.j, b1: p.j, w: 0, clamped });
    if (s >= first.s) return one(first, s > first.s);
    if (s <= last.s) return one(last, s < last.s);
    // first.s > s > last.s: find k with pts[k].s ≥ s > pts[k+1].s (binary search on a descending list)
    let lo = 0;
    let hi = pts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pts[mid].s >= s) lo = mid;
      else hi = mid;
    }
    const p0 = pts[lo];
    const p1 = pts[hi];
    if (p0.s === s) return one(p0, false);
    if (p1.s === -Infinity) return one(p0, false); // between B's smallest positive σ and 0: nearest in log σ is the positive one
    const w = (p0.s - s) / (p0.s - p1.s);
    if (mode === 'nearest') return one(w <= 0.5 ? p0 : p1, false);
    return { a, b0: p0.j, b1: p1.j, w, clamped: false };
  });
}

/** (1 − w)·u + w·v into a fresh float64 array. */
export function mix(u: ArrayLike<number>, v: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(u.length);
  for (let k = 0; k < u.length; k++) out[k] = (1 - w) * u[k] + w * v[k];
  return out;
}

/**
 * RMS distance per aligned pair between A's plane and B's (interpolated) plane. `planeA(i)` / `planeB(j)` give
 * the arrays (e.g. `(i) => reader.plane(idx[i], 'denoised')`).
 */
export function alignedDistances(
  pairs: readonly AlignedPair[],
  planeA: (i: number) => ArrayLike<number>,
  planeB: (j: number) => ArrayLike<number>,
  signal?: AbortSignal,
): number[] {
  const out: number[] = [];
  for (const p of pairs) {
    if (signal?.aborted) break;
    const a = planeA(p.a);
    const b = p.w === 0 ? planeB(p.b0) : mix(planeB(p.b0), planeB(p.b1), p.w);
    if (a.length !== b.length) throw new DpipeError('E_SHAPE', `the runs' latents differ in size (${a.length} vs ${b.length} values); only runs of one shape can be compared`);
    out.push(rmsDiff(a, b));
  }
  return out;
}
