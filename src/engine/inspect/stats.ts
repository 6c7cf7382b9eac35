/**
 * Per-evaluation statistics of a trajectory, for the inspector's plots.
 *
 * Norms are root-mean-square over every element of the plane (the whole batch): ‖v‖ = √(Σ v_k² / n), so numbers
 * do not grow with the latent's size (a standard-normal latent has ‖·‖ ≈ 1, x_T has ‖x_T‖ ≈ σ_max). Missing values
 * (no previous evaluation, σ = 0) are `null`, so the arrays travel as JSON.
 */
import type { EvalMeta } from '../run/trajectory';
import type { TrajectoryReader } from './reader';

export interface EvalStats {
  /** ‖x_t‖ (RMS). */
  readonly xNorm: (number | null)[];
  /** ‖x̂0‖ (RMS). */
  readonly denoisedNorm: (number | null)[];
  /** ‖x̂0_i − x̂0_{i−1}‖ (RMS) against the previous evaluation of the same Sample node; null for its first. */
  readonly dDenoised: (number | null)[];
  /** log σ_{i−1} − log σ_i against the previous evaluation of the same Sample node (> 0 going down); null for its first or at σ = 0. */
  readonly dLogSigma: (number | null)[];
}

/** RMS of a − b (or of a alone). */
export function rmsDiff(a: ArrayLike<number>, b?: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = b ? a[k] - b[k] : a[k];
    s += d * d;
  }
  return a.length ? Math.sqrt(s / a.length) : 0;
}

/** The Δlog σ column alone, from the evaluation list (no frames read). */
export function logSigmaSteps(evals: readonly EvalMeta[]): (number | null)[] {
  return evals.map((m, i) => {
    const prev = i > 0 ? evals[i - 1] : undefined;
    if (!prev || prev.node !== m.node || !(prev.sigma > 0) || !(m.sigma > 0)) return null;
    return Math.log(prev.sigma) - Math.log(m.sigma);
  });
}

/** The step sizes h_k = log σ_k − log σ_{k+1} of a schedule (null where σ_{k+1} = 0). */
export function scheduleLogSteps(sigmas: readonly number[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let k = 0; k + 1 < sigmas.length; k++) out.push(sigmas[k] > 0 && sigmas[k + 1] > 0 ? Math.log(sigmas[k]) - Math.log(sigmas[k + 1]) : null);
  return out;
}

export interface StatsOptions {
  readonly signal?: AbortSignal;
  /** Called every `every` evaluations (default 50) with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly every?: number;
}

/**
 * Reads every evaluation's x and x̂0 once (around the reader's cache) and computes {@link EvalStats}. Two planes in
 * memory at a time besides the previous x̂0.
 */
export function computeStats(reader: TrajectoryReader, opts: StatsOptions = {}): EvalStats {
  const n = reader.length;
  const st: EvalStats = { xNorm: [], denoisedNorm: [], dDenoised: [], dLogSigma: logSigmaSteps(reader.evals) };
  let prev: Float32Array | undefined;
  let prevNode: string | undefined;
  const every = opts.every ?? 50;
  for (let i = 0; i < n; i++) {
    if (opts.signal?.aborted) break;
    const m = reader.evals[i];
    const x = reader.plane(i, 'x', { cache: false });
    const d = reader.plane(i, 'denoised', { cache: false });
    st.xNorm.push(rmsDiff(x));
    st.denoisedNorm.push(rmsDiff(d));
    st.dDenoised.push(prev && prevNode === m.node ? rmsDiff(d, prev) : null);
    prev = d;
    prevNode = m.node;
    if (opts.onProgress && (i + 1) % every === 0) opts.onProgress(i + 1, n);
  }
  opts.onProgress?.(st.xNorm.length, n);
  return st;
}
