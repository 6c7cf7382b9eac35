import { strict as assert } from 'assert';
import { philox4x32 } from '../../src/engine/noise/philox';
import { exactLog, exactSinCosTurns } from '../../src/engine/noise/exactmath';
import { seededBatch, seededNoise, STREAM_INITIAL, STREAM_STEPS } from '../../src/engine/noise/seeded';

const hex = (a: Uint32Array) => [...a].map((v) => v.toString(16).padStart(8, '0')).join(' ');

describe('noise: Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    const o = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, o);
    assert.equal(hex(o), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    philox4x32(f, f, f, f, f, f, o);
    assert.equal(hex(o), '408f276d 41c83b0e a20bc7c6 6d5451fd');
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, o);
    assert.equal(hex(o), 'd16cfe09 94fdcceb 5001e420 24126ea1');
  });
});

describe('noise: IEEE-exact log and sin/cos', () => {
  it('agree with Math.log/sin/cos to ~1 ulp on the generator\'s dyadic uniforms', () => {
    let ml = 0;
    let ms = 0;
    for (let i = 0; i < 20000; i++) {
      const k = (Math.imul(i, 2654435761) >>> 0) ^ (i << 7);
      const u = ((k >>> 0) + 0.5) * 2 ** -32;
      ml = Math.max(ml, Math.abs(exactLog(u) - Math.log(u)) / Math.abs(Math.log(u)));
      const [s, c] = exactSinCosTurns(u);
      ms = Math.max(ms, Math.abs(s - Math.sin(2 * Math.PI * u)), Math.abs(c - Math.cos(2 * Math.PI * u)));
    }
    assert.ok(ml < 1e-15, `log rel err ${ml}`);
    assert.ok(ms < 2e-15, `sincos abs err ${ms}`);
    assert.equal(exactLog(1), 0);
    assert.equal(exactLog(0.5), -0.6931471805599453);
    const [s4, c4] = exactSinCosTurns(0.25);
    assert.ok(s4 === 1 && c4 === 0);
  });
});

describe('noise: seeded generator (format 1)', () => {
  // Hard-coded: these numbers are part of the file format. If this test fails, the generator changed.
  // Independently reproduced with a Python Philox + math.log/cos/sin (agree to ~1e-16).
  it('gives the fixed known values for fixed seeds', () => {
    assert.deepEqual([...seededBatch(0, [1, 6], STREAM_INITIAL, 0)], [
      0.9911376799303859, -0.9246625876655351, -0.6176089594591906, -0.4820685874871796, -0.15363823029788254, 0.1808258977794411,
    ]);
    // Batch of 2: item 1 is seed 43.
    assert.deepEqual([...seededBatch(42, [2, 3], STREAM_INITIAL, 0)], [
      -0.9701897900197691, 0.19401895535991237, -1.235620743318022, -0.44540874816298465, 1.998264682686145, 0.7583784558128877,
    ]);
    assert.deepEqual([...seededBatch(42, [1, 5], STREAM_STEPS, 2)], [
      -0.27307052038023594, 0.058026067548155896, -0.17061994335597985, 1.2404017268576268, 0.8454086372801796,
    ]);
    assert.deepEqual([...seededBatch(2 ** 40 + 7, [1, 4], STREAM_INITIAL, 0)], [
      1.7203488422670503, -0.47905009201298143, -1.8591539658098575, -1.6588634368230193,
    ]);
  });

  it('has mean ≈ 0, variance ≈ 1, and kurtosis ≈ 3', () => {
    const n = 200000;
    const z = seededBatch(7, [1, n], STREAM_INITIAL, 0);
    let m = 0;
    for (const v of z) m += v;
    m /= n;
    let v2 = 0;
    let v4 = 0;
    for (const v of z) {
      v2 += (v - m) ** 2;
      v4 += (v - m) ** 4;
    }
    v2 /= n;
    v4 /= n;
    assert.ok(Math.abs(m) < 5 / Math.sqrt(n), `mean ${m}`);
    assert.ok(Math.abs(v2 - 1) < 5 * Math.sqrt(2 / n), `var ${v2}`);
    assert.ok(Math.abs(v4 / (v2 * v2) - 3) < 0.05, `kurtosis ${v4 / (v2 * v2)}`);
    let tail = 0;
    for (const v of z) if (Math.abs(v) > 1.959963984540054) tail++;
    assert.ok(Math.abs(tail / n - 0.05) < 0.003, `P(|z|>1.96) = ${tail / n}`);
  });

  it('batch items, streams and draws are independent (|corr| small)', () => {
    const per = 50000;
    const corr = (a: Float64Array, b: Float64Array) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return s / a.length;
    };
    const two = seededBatch(3, [2, per], STREAM_INITIAL, 0);
    const tol = 5 / Math.sqrt(per);
    assert.ok(Math.abs(corr(two.subarray(0, per), two.subarray(per))) < tol);
    const init = seededBatch(3, [1, per], STREAM_INITIAL, 0);
    const step0 = seededBatch(3, [1, per], STREAM_STEPS, 0);
    const step1 = seededBatch(3, [1, per], STREAM_STEPS, 1);
    assert.ok(Math.abs(corr(init, step0)) < tol);
    assert.ok(Math.abs(corr(step0, step1)) < tol);
    // Lag-1 autocorrelation within a draw.
    assert.ok(Math.abs(corr(init.subarray(1), init.subarray(0, per - 1))) < tol);
    // Item b of a batch equals a batch of one with seed + b.
    assert.deepEqual([...two.subarray(per)], [...seededBatch(4, [1, per], STREAM_INITIAL, 0)]);
  });

  it('the initial noise does not depend on per-step draws; step draws come in order', () => {
    const nv = seededNoise(11);
    const before = nv.initial([2, 3, 4]);
    const s = nv.stepSampler([2, 3, 4], new Float64Array([1, 0]));
    const d0 = s(1, 0.5);
    const d1 = s(0.5, 0);
    assert.deepEqual([...nv.initial([2, 3, 4])], [...before]);
    assert.deepEqual([...d0], [...seededBatch(11, [2, 12], STREAM_STEPS, 0)]);
    assert.deepEqual([...d1], [...seededBatch(11, [2, 12], STREAM_STEPS, 1)]);
    assert.notDeepEqual([...d0], [...d1]);
    assert.deepEqual(nv.seeds, [11, 12]);
  });

  it('rejects bad seeds', () => {
    assert.throws(() => seededNoise(-1), /seed must be an integer/);
    assert.throws(() => seededNoise(1.5), /seed must be an integer/);
  });
});
