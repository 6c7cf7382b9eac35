import { strict as assert } from 'assert';
import { BrownianPath, brownianNoise, brownianSampler } from '../../src/engine/noise/brownian';
import { dpmpp2mSde } from '../../src/engine/solvers/stochastic/dpmpp_sde';
import { seededNoise } from '../../src/engine/noise/nodes';
import { getNodeType } from '../../src/engine/registry/index';
import type { NoiseValue } from '../../src/engine/registry/types';
import { gmmDenoise, maxAbs, readNpy } from './gmm';
import { karras } from './linear';

function moments(v: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return [m, s / v.length];
}

describe('noise: Brownian tree', () => {
  it('W at a σ is the same whatever else was queried, and in any order (so the path does not depend on the step count)', () => {
    const a = new BrownianPath(7, 16, 0.002, 80);
    const b = new BrownianPath(7, 16, 0.002, 80);
    const ts = [80, 33.3, 5, 1.25, 0.5, 0.01, 0.002];
    const fromA = ts.map((t) => a.at(t));
    const fromB = [...ts].reverse().map((t) => b.at(t)).reverse();
    ts.forEach((_, i) => assert.deepEqual(fromA[i], fromB[i]));
    assert.deepEqual(a.at(0.002), new Float64Array(16), 'W(σ_min) = 0');
  });

  it('increments over a schedule and over a refinement of it sum to the same thing (10 vs 20 Karras steps)', () => {
    const coarse = karras(11, 0.01, 10);
    const fine = Float64Array.from([...Array.from(coarse.slice(0, -1)).flatMap((s, i) => [s, Math.sqrt(s * coarse[i + 1])]), coarse[10]]);
    const shape = [2, 50];
    const fc = brownianSampler([3, 4], shape, coarse);
    const ff = brownianSampler([3, 4], shape, fine);
    for (let i = 0; i < 10; i++) {
      const whole = fc(coarse[i], coarse[i + 1]).map((z) => z * Math.sqrt(coarse[i] - coarse[i + 1]));
      const h1 = ff(fine[2 * i], fine[2 * i + 1]).map((z) => z * Math.sqrt(fine[2 * i] - fine[2 * i + 1]));
      const h2 = ff(fine[2 * i + 1], fine[2 * i + 2]).map((z) => z * Math.sqrt(fine[2 * i + 1] - fine[2 * i + 2]));
      assert.ok(maxAbs(whole, h1.map((v, j) => v + h2[j])) < 1e-12, `interval ${i}`);
    }
  });

  it('increments have mean 0 and variance Δt, disjoint increments are uncorrelated, the midpoint bridge has variance Δt/4', () => {
    const n = 20000;
    const p = new BrownianPath(11, n, 0.5, 4.5);
    const [w1, w2, w3] = [p.at(1.3), p.at(2.9), p.at(4.1)];
    const inc1 = w2.map((v, i) => v - w1[i]);
    const inc2 = w3.map((v, i) => v - w2[i]);
    const [m1, v1] = moments(inc1);
    const [, v2] = moments(inc2);
    const se = (v: number) => 4 * v * Math.sqrt(2 / n); // 4 standard errors of a variance estimate
    assert.ok(Math.abs(m1) < 4 * Math.sqrt(1.6 / n));
    assert.ok(Math.abs(v1 - 1.6) < se(1.6), `var ${v1}`);
    assert.ok(Math.abs(v2 - 1.2) < se(1.2), `var ${v2}`);
    let c = 0;
    for (let i = 0; i < n; i++) c += inc1[i] * inc2[i];
    assert.ok(Math.abs(c / n / Math.sqrt(1.6 * 1.2)) < 4 / Math.sqrt(n), 'correlation');
    const [wa, wm, wb] = [p.at(0.5), p.at(2.5), p.at(4.5)];
    const [, vb] = moments(wm.map((v, i) => v - 0.5 * (wa[i] + wb[i])));
    assert.ok(Math.abs(vb - 1) < se(1), `bridge var ${vb}`);
    const [, vw] = moments(p.at(4.5));
    assert.ok(Math.abs(vw - 4) < se(4));
  });

  it('normalized draws are standard normal; items use their own seeds; σ = 0 is clamped to σ_min', () => {
    const sigmas = Float64Array.from([14, 7, 3, 1, 0.3, 0]);
    const f = brownianSampler([0, 1], [2, 5000], sigmas);
    const z = f(7, 3);
    const [m, v] = moments(z);
    assert.ok(Math.abs(m) < 0.06 && Math.abs(v - 1) < 0.12);
    assert.notDeepEqual(z.subarray(0, 10), z.subarray(5000, 5010));
    const g = brownianSampler([1], [1, 5000], sigmas);
    assert.deepEqual(g(7, 3), z.subarray(5000), 'item 1 of a batch = item 0 of a batch seeded one higher');
    assert.deepEqual(f(0.3, 0), f(0.3, 0.3 + 0 * 1).map(() => 0), 'zero-length clamped interval');
  });

  it('noise.brownian keeps the seeded initial noise, keys trees by the seeds, and rejects seedless noise', async () => {
    const node = getNodeType('noise.brownian')!;
    const ctx = { nodeId: 'n', baseDir: '.', services: { batch: 2 } as never };
    const { noise } = (await node.evaluate(ctx, { noise: seededNoise(5, 2) }, { seed: 0 })) as { noise: NoiseValue };
    assert.deepEqual(noise.initial([2, 3]), seededNoise(5, 2).initial([2, 3]));
    const sig = Float64Array.from([10, 1, 0]);
    assert.deepEqual(noise.stepSampler([2, 8], sig)(10, 1), brownianSampler([5, 6], [2, 8], sig)(10, 1));
    const { noise: own } = (await node.evaluate(ctx, {}, { seed: 5 })) as { noise: NoiseValue };
    own.initial([2, 8]);
    assert.deepEqual(own.stepSampler([2, 8], sig)(10, 1), brownianSampler([5, 6], [2, 8], sig)(10, 1));
    const seedless: NoiseValue = { initial: () => new Float64Array(1), stepSampler: () => () => new Float64Array(1), seeds: [], describe: 'file' };
    assert.throws(() => brownianNoise(seedless).stepSampler([1, 1], sig), /E_COMPOSE|needs seeded noise/);
  });

  it('with Brownian noise an SDE run converges as the step count grows (pathwise); with i.i.d. noise it does not', async () => {
    const z = readNpy('z.npy');
    const x0 = { shape: [4, 192], data: z.data.map((v) => v * 80) };
    const run = async (n: number, noise: 'brownian' | 'iid') => {
      const sigmas = Float64Array.from([...karras(n, 0.002, 80), 0]);
      const sampler = noise === 'brownian' ? brownianSampler([9, 10, 11, 12], [4, 192], sigmas) : seededNoise(9).stepSampler([4, 192], sigmas);
      return dpmpp2mSde(async (x, s) => gmmDenoise(x, s), x0, sigmas, {}, { noise: sampler });
    };
    // Median over the 4 items of max-abs(x_n − x_2n) (an item may still switch mixture component at low n).
    const diff = async (n: number, kind: 'brownian' | 'iid') => {
      const [a, b] = [await run(n, kind), await run(2 * n, kind)];
      const d = [0, 1, 2, 3].map((k) => maxAbs(a.data.subarray(k * 192, (k + 1) * 192), b.data.subarray(k * 192, (k + 1) * 192))).sort((p, q) => p - q);
      return (d[1] + d[2]) / 2;
    };
    const b80 = await diff(80, 'brownian');
    const b160 = await diff(160, 'brownian');
    const i80 = await diff(80, 'iid');
    assert.ok(b80 < 0.1 && b160 < b80, `brownian: 80 vs 160 steps ${b80}, 160 vs 320 ${b160}`);
    assert.ok(i80 > 1, `iid 80 vs 160 steps: ${i80}`);
  });
});
