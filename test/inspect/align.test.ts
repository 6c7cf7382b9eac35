import { strict as assert } from 'node:assert';
import { DpipeError } from '../../src/engine/core/errors';
import { alignBySigma, alignedDistances } from '../../src/engine/inspect/index';

describe('inspect/alignBySigma', () => {
  // B: Euler-like descending σ with a final 0
  const B = [8, 4, 2, 1, 0];

  it('nearest: closest in log σ, ties to the larger σ, clamped outside the range, σ = 0 only to σ = 0', () => {
    const A = [16, 8, 5.6, 2 * Math.SQRT2, 1.5, 1, 0.1, 0];
    const p = alignBySigma(A, B, 'nearest');
    assert.deepEqual(p.map((q) => [q.b0, q.b1, q.w, q.clamped]), [
      [0, 0, 0, true], // 16 above the range → 8
      [0, 0, 0, false], // exact
      [1, 1, 0, false], // 5.6: w = log(8/5.6)/log 2 = 0.515 > 0.5 → 4
      [1, 1, 0, false], // 2√2: exactly halfway between 4 and 2 in log σ → tie → larger σ
      [2, 2, 0, false], // 1.5: w = log(2/1.5)/log 2 = 0.415 → 2
      [3, 3, 0, false],
      [3, 3, 0, false], // 0.1: between 1 and 0 → the positive one
      [4, 4, 0, false], // 0 ↔ 0
    ]);
  });

  it('interpolate: weights linear in log σ between the bracketing evaluations', () => {
    const p = alignBySigma([4 * Math.SQRT2, 3, 1], [8, 4, 2, 1], 'interpolate');
    assert.deepEqual([p[0].b0, p[0].b1], [0, 1]);
    assert.ok(Math.abs(p[0].w - 0.5) < 1e-15);
    assert.deepEqual([p[1].b0, p[1].b1], [1, 2]);
    assert.ok(Math.abs(p[1].w - Math.log(4 / 3) / Math.log(2)) < 1e-15);
    assert.deepEqual([p[2].b0, p[2].b1, p[2].w], [3, 3, 0]);
  });

  it('uses the LAST evaluation at a repeated σ (Heun: stage at σ_{i+1}, then the next step at σ_{i+1})', () => {
    const heun = [8, 4, 4, 2, 2, 1];
    assert.deepEqual(alignBySigma([4, 2, 1], heun, 'nearest').map((q) => q.b0), [2, 4, 5]);
  });

  it('distances between A and the (interpolated) B plane, and refuses runs of different sizes', () => {
    const a = [[0, 0], [1, 1]];
    const b = [[2, 2], [4, 4]];
    const pairs = alignBySigma([3, 2], [4, 2], 'interpolate'); // w = log(4/3)/log 2 for the first
    const w = Math.log(4 / 3) / Math.log(2);
    const d = alignedDistances(pairs, (i) => a[i], (j) => b[j]);
    assert.ok(Math.abs(d[0] - ((1 - w) * 2 + w * 4)) < 1e-12);
    assert.equal(d[1], 3);
    assert.throws(() => alignedDistances(pairs, () => [0], (j) => b[j]), (e: DpipeError) => e.code === 'E_SHAPE');
    assert.throws(() => alignBySigma([1], [1], 'cubic' as never), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /nearest, interpolate/.test(e.message));
  });
});
