/**
 * Fréchet distance between Gaussians fitted to feature sets — the statistic of FID (Heusel et al. 2017,
 * "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", eq. 6; Dowson & Landau
 * 1982 for the closed form):
 *
 *   FD = ‖μ1 − μ2‖² + tr(Σ1) + tr(Σ2) − 2·tr((Σ1^½ Σ2 Σ1^½)^½).
 *
 * The matrix square roots are taken through symmetric eigendecompositions (cyclic Jacobi, float64), with
 * eigenvalues clipped at 0, so the result is real and ≥ 0 up to round-off even for the rank-deficient
 * covariances of small sample sets. (pytorch-fid takes `scipy.linalg.sqrtm(Σ1 Σ2)` of the non-symmetric product
 * instead; in exact arithmetic the traces are equal.)
 */
import { DpipeError } from '../core/errors';

/** A set of n feature vectors of dimension d, row-major [n, d]. */
export interface FeatureSet {
  readonly n: number;
  readonly d: number;
  readonly data: Float64Array;
}

/** Mean and covariance of a Gaussian; `cov` is row-major d×d, symmetric. */
export interface Gaussian {
  readonly d: number;
  readonly mean: Float64Array;
  readonly cov: Float64Array;
}

/**
 * Mean and unbiased covariance (divisor n − 1, as `numpy.cov`) of a feature set. Needs n ≥ 2.
 */
export function fitGaussian(f: FeatureSet): Gaussian {
  const { n, d, data } = f;
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 2 || d < 1 || data.length !== n * d) {
    throw new DpipeError('E_SHAPE', `fitGaussian needs at least 2 feature vectors of one dimension with n·d values; got n=${n}, d=${d}, ${data.length} values.`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) cov[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { d, mean, cov };
}

/** The three terms of the Fréchet distance and their sum. */
export interface FrechetResult {
  readonly fd: number;
  /** ‖μ1 − μ2‖². */
  readonly meanTerm: number;
  /** tr(Σ1) + tr(Σ2) − 2·tr((Σ1^½ Σ2 Σ1^½)^½). */
  readonly covTerm: number;
}

/** Fréchet distance between two Gaussians of the same dimension. */
export function frechetDistance(g1: Gaussian, g2: Gaussian): FrechetResult {
  const d = g1.d;
  if (g2.d !== d || g1.mean.length !== d || g2.mean.length !== d || g1.cov.length !== d * d || g2.cov.length !== d * d) {
    throw new DpipeError('E_SHAPE', `frechetDistance needs two Gaussians of one dimension; got ${g1.d} and ${g2.d}.`);
  }
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (g1.mean[j] - g2.mean[j]) ** 2;
  let tr1 = 0;
  let tr2 = 0;
  for (let j = 0; j < d; j++) {
    tr1 += g1.cov[j * d + j];
    tr2 += g2.cov[j * d + j];
  }
  const s1h = sqrtPsd(g1.cov, d);
  const m = symmetrize(matmul(matmul(s1h, g2.cov, d), s1h, d), d);
  const { values } = symmetricEigen(m, d);
  const cut = roundOffFloor(values, d);
  let trSqrt = 0;
  for (const v of values) if (v > cut) trSqrt += Math.sqrt(v);
  const covTerm = tr1 + tr2 - 2 * trSqrt;
  return { fd: meanTerm + covTerm, meanTerm, covTerm };
}

/** Fréchet distance between the Gaussians fitted to two feature sets. */
export function frechetDistanceOfFeatures(a: FeatureSet, b: FeatureSet): FrechetResult {
  return frechetDistance(fitGaussian(a), fitGaussian(b));
}

// ---------------------------------------------------------------------------------------------
// Small dense linear algebra (row-major, float64).

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major d×d) of a symmetric matrix. */
export function symmetricEigen(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  // Cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations, 4th ed., Algorithm 8.5.3).
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += m[i] * m[i];
  const tol = 1e-30 * Math.max(scale, 1e-300);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += m[p * d + q] ** 2;
    if (off <= tol) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const app = m[p * d + p];
        const aqq = m[q * d + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i];
  return { values, vectors: v };
}

/** Principal square root of a symmetric positive semi-definite matrix (eigenvalues below round-off taken as 0). */
export function sqrtPsd(a: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const cut = roundOffFloor(values, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    if (!(values[k] > cut)) continue;
    const r = Math.sqrt(values[k]);
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * r;
      if (vik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  return symmetrize(out, d);
}

/**
 * Eigenvalues at or below d·ε·λmax are round-off (the numerical-rank threshold of Golub & Van Loan §5.4.1)
 * and are treated as 0; otherwise their square roots (≈ 1e-8·√λmax each) would leak into the traces.
 */
function roundOffFloor(values: Float64Array, d: number): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return d * Number.EPSILON * max;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
    }
  }
  return out;
}

function symmetrize(a: Float64Array, d: number): Float64Array {
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (a[i * d + j] + a[j * d + i]);
      a[i * d + j] = v;
      a[j * d + i] = v;
    }
  }
  return a;
}
