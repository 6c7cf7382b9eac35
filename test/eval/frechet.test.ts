import { strict as assert } from 'assert';
import { fitGaussian, frechetDistance, frechetDistanceOfFeatures, sqrtPsd, symmetricEigen, type Gaussian } from '../../src/engine/eval/frechet';
import { DpipeError } from '../../src/engine/core/errors';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

function gaussian(mean: number[], cov: number[][]): Gaussian {
  return { d: mean.length, mean: Float64Array.from(mean), cov: Float64Array.from(cov.flat()) };
}

/** R·diag(v)·Rᵀ for the 3-D rotation R about (1,1,1)/√3 by angle a (not axis-aligned, so covariances are dense). */
function rotated(v: number[], a = 0.7): number[][] {
  const k = [1, 1, 1].map((x) => x / Math.sqrt(3));
  const c = Math.cos(a);
  const s = Math.sin(a);
  const K = [[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]];
  const R = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? c : 0) + s * K[i][j] + (1 - c) * k[i] * k[j]));
  return [0, 1, 2].map((i) => [0, 1, 2].map((j) => R[i][0] * v[0] * R[j][0] + R[i][1] * v[1] * R[j][1] + R[i][2] * v[2] * R[j][2]));
}

/** Deterministic pseudo-random numbers (a fixed LCG; the test needs no statistical quality). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

describe('eval/frechet: Fréchet distance between Gaussians', () => {
  it('diagonal covariances: ‖Δμ‖² + Σ(√a − √b)²', () => {
    const g1 = gaussian([1, 2, 3], [[4, 0, 0], [0, 1, 0], [0, 0, 9]]);
    const g2 = gaussian([0, 0, 1], [[1, 0, 0], [0, 1, 0], [0, 0, 4]]);
    const r = frechetDistance(g1, g2);
    close(r.meanTerm, 9, 1e-12, 'mean term');
    close(r.covTerm, 1 + 0 + 1, 1e-12, 'covariance term');
    close(r.fd, 11, 1e-12, 'fd');
  });

  it('commuting dense covariances (same eigenvectors): Σ(√a − √b)²', () => {
    const a = [5, 2, 0.5];
    const b = [1, 3, 0.25];
    const r = frechetDistance(gaussian([0, 0, 0], rotated(a)), gaussian([0, 1, 0], rotated(b)));
    const expected = 1 + a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0);
    close(r.fd, expected, 1e-10, 'fd');
  });

  it('non-commuting 2×2 case worked by hand: 9 − 2√(10 + 4√3)', () => {
    // Σ1 = diag(4, 1), Σ2 = [[2, 1], [1, 2]]: Σ1^½ Σ2 Σ1^½ = [[8, 2], [2, 2]], whose square root has trace
    // √(tr + 2√det) = √(10 + 2√12).
    const r = frechetDistance(gaussian([0, 0], [[4, 0], [0, 1]]), gaussian([0, 0], [[2, 1], [1, 2]]));
    close(r.fd, 9 - 2 * Math.sqrt(10 + 4 * Math.sqrt(3)), 1e-12, 'fd');
    const swapped = frechetDistance(gaussian([0, 0], [[2, 1], [1, 2]]), gaussian([0, 0], [[4, 0], [0, 1]]));
    close(swapped.fd, r.fd, 1e-12, 'symmetry');
  });

  it('is 0 for identical Gaussians and symmetric, also singular ones (rank-deficient covariance)', () => {
    const rnd = lcg(7);
    const n = 12;
    const d = 20; // n < d: the fitted covariance has rank n − 1
    const data = Float64Array.from({ length: n * d }, rnd);
    const g = fitGaussian({ n, d, data });
    const r = frechetDistance(g, g);
    assert.ok(Math.abs(r.fd) < 1e-9, `FD(g, g) = ${r.fd}`);
    const other = fitGaussian({ n, d, data: Float64Array.from({ length: n * d }, rnd) });
    close(frechetDistance(g, other).fd, frechetDistance(other, g).fd, 1e-9, 'symmetry');
    assert.ok(frechetDistance(g, other).fd > 0.1);
  });

  it('fitGaussian: mean and unbiased covariance (numpy.cov convention)', () => {
    // points (0,0), (2,0), (1,3): mean (1,1); cov = [[1, 0], [0, 3]]
    const g = fitGaussian({ n: 3, d: 2, data: Float64Array.from([0, 0, 2, 0, 1, 3]) });
    assert.deepEqual([...g.mean], [1, 1]);
    assert.deepEqual([...g.cov], [1, 0, 0, 3]);
    const same = frechetDistanceOfFeatures({ n: 3, d: 2, data: Float64Array.from([0, 0, 2, 0, 1, 3]) }, { n: 3, d: 2, data: Float64Array.from([1, 0, 3, 0, 2, 3]) });
    close(same.fd, 1, 1e-12, 'shift by (1, 0)');
  });

  it('eigen and square root: A = V Λ Vᵀ and (√A)² = A for a dense 3×3', () => {
    const A = Float64Array.from(rotated([5, 2, 0.5]).flat());
    const { values } = symmetricEigen(A, 3);
    assert.deepEqual([...values].sort((x, y) => x - y).map((v) => Math.round(v * 1e10) / 1e10), [0.5, 2, 5]);
    const S = sqrtPsd(A, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += S[i * 3 + k] * S[k * 3 + j];
        close(s, A[i * 3 + j], 1e-12, `(√A)²[${i}][${j}]`);
      }
    }
  });

  it('rejects mismatched dimensions and too few samples with DpipeError E_SHAPE', () => {
    assert.throws(() => frechetDistance(gaussian([0], [[1]]), gaussian([0, 0], [[1, 0], [0, 1]])), (e: unknown) => e instanceof DpipeError && e.code === 'E_SHAPE');
    assert.throws(() => fitGaussian({ n: 1, d: 2, data: Float64Array.from([1, 2]) }), (e: unknown) => e instanceof DpipeError && e.code === 'E_SHAPE');
  });
});
