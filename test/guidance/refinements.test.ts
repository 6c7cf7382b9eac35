import { strict as assert } from 'assert';
import { apgGuider, cfgGuider, cfgppGuider, quantile, threshold, thresholdGuider } from '../../src/engine/guidance/index';
import { getNodeType } from '../../src/engine/registry/index';
import { DpipeError } from '../../src/engine/core/errors';
import type { Latent } from '../../src/engine/core/types';
import type { CondValue, GuiderValue } from '../../src/engine/registry/types';
import { fakeModel, cls } from './fake-model';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `element ${i}: ${a[i]} vs ${b[i]}`);
};
const lat = (shape: number[], v: number[]): Latent => ({ shape, data: Float64Array.from(v) });
/** A model whose predictions are fixed per class label: label 3 → cond, anything else → uncond. */
const fixed = (cond: number[], uncond: number[]) => fakeModel((c: CondValue) => Float64Array.from(c.kind === 'class' && c.label === 3 ? cond : uncond));
const isCompose = (e: unknown) => e instanceof DpipeError && e.code === 'E_COMPOSE';

describe('guidance: refinements (hand-computed numbers)', () => {
  it('CFG rescale φ in x0 space: cond [1, 3], uncond [0, 0], w = 2, φ = 0.7 → [1.3, 3.9]', async () => {
    const g = cfgGuider(fixed([1, 3], [0, 0]), cls(3), cls(10), { scale: 2, rescale: 0.7, rescaleSpace: 'x0' });
    // cfg = [2, 6]; std ratio std([1,3])/std([2,6]) = 1/2; factor 0.7·0.5 + 0.3 = 0.65
    close((await g.denoise(lat([1, 2], [0, 0]), 1, { step: 0 })).denoised.data, [1.3, 3.9]);
  });

  it('CFG rescale in v space equals ComfyUI RescaleCFG\'s formula written out', async () => {
    const [c, u, x, sigma, w, phi] = [[0.3, -0.8, 1.1, 0.2], [0.1, 0.4, -0.5, 0.9], [2.0, -1.0, 0.5, 3.0], 1.7, 5, 0.6];
    const g = cfgGuider(fixed(c, u), cls(3), cls(10), { scale: w, rescale: phi });
    const got = (await g.denoise(lat([1, 4], x), sigma, { step: 0 })).denoised.data;
    // ComfyUI: xs = x/(σ²+1); v = (xs − D)·√(σ²+1)/σ; v_cfg; rescale with torch.std; back: D = xs − v·σ/√(σ²+1)
    const xs = x.map((v) => v / (sigma ** 2 + 1));
    const toV = (d: number[]) => d.map((v, i) => ((xs[i] - v) * Math.sqrt(sigma ** 2 + 1)) / sigma);
    const [vc, vu] = [toV(c), toV(u)];
    const vcfg = vu.map((v, i) => v + w * (vc[i] - v));
    const std = (a: number[]) => { const m = a.reduce((p, q) => p + q) / a.length; return Math.sqrt(a.reduce((p, q) => p + (q - m) ** 2, 0) / (a.length - 1)); };
    const vfin = vcfg.map((v) => phi * v * (std(vc) / std(vcfg)) + (1 - phi) * v);
    close(got, vfin.map((v, i) => xs[i] - (v * sigma) / Math.sqrt(sigma ** 2 + 1)), 1e-12);
  });

  it('guidance interval: outside (σ_lo, σ_hi] only the conditional branch is evaluated', async () => {
    const m = fixed([1, 2], [0, 0]);
    const g = cfgGuider(m, cls(3), cls(10), { scale: 4, interval: [0.5, 2] });
    close((await g.denoise(lat([1, 2], [0, 0]), 3, { step: 0 })).denoised.data, [1, 2]);
    close((await g.denoise(lat([1, 2], [0, 0]), 0.5, { step: 0 })).denoised.data, [1, 2]);
    close((await g.denoise(lat([1, 2], [0, 0]), 2, { step: 0 })).denoised.data, [4, 8]);
    assert.deepEqual(m.calls.map((c) => c.conds.length), [1, 1, 2]);
  });

  it('scale schedule over 4 steps: linear 7 → 1 gives 7, 5, 3, 1; cosine gives 7, 5.5, 2.5, 1', async () => {
    const sigmas = Float64Array.of(8, 4, 2, 1, 0);
    const at = async (schedule: 'linear' | 'cosine', step: number) => {
      const g = cfgGuider(fixed([1], [0]), cls(3), cls(10), { scale: 7, scaleEnd: 1, scaleSchedule: schedule });
      return (await g.denoise(lat([1, 1], [0]), sigmas[step], { step, sigmas })).denoised.data[0];
    };
    for (const [s, want] of [[0, 7], [1, 5], [2, 3], [3, 1]]) close([await at('linear', s)], [want]);
    for (const [s, want] of [[0, 7], [1, 5.5], [2, 2.5], [3, 1]]) close([await at('cosine', s)], [want]);
    const g = cfgGuider(fixed([1], [0]), cls(3), cls(10), { scale: 7, scaleEnd: 1, scaleSchedule: 'linear' });
    await assert.rejects(g.denoise(lat([1, 1], [0]), 8, { step: 0 }), isCompose);
  });

  it('APG: cond [1, 0], uncond [0, −1], w = 3 — η = 0 gives [1, 2] (paper) / [0, 2] (diffusers); η = 1 is CFG [3, 2]', async () => {
    const run = async (o: Partial<Parameters<typeof apgGuider>[3]>) =>
      (await apgGuider(fixed([1, 0], [0, -1]), cls(3), cls(10), { scale: 3, eta: 0, momentum: 0, normThreshold: 0, formulation: 'paper', ...o }).denoise(lat([1, 2], [0, 0]), 1, { step: 0 })).denoised.data;
    close(await run({}), [1, 2]);
    close(await run({ formulation: 'diffusers' }), [0, 2]);
    close(await run({ eta: 1 }), [3, 2]);
    close(await run({ eta: 1, formulation: 'diffusers' }), [3, 2]);
    close(await run({ normThreshold: 1 }), [1, Math.SQRT2]); // Δ = [1, 1] capped to norm 1
  });

  it('APG momentum: the second evaluation uses Δ + β·Δ, and a new run starts from zero', async () => {
    const g = apgGuider(fixed([1, 0], [0, -1]), cls(3), cls(10), { scale: 3, eta: 1, momentum: -0.5, normThreshold: 0, formulation: 'paper' });
    const x = lat([1, 2], [0, 0]);
    close((await g.denoise(x, 2, { step: 0 })).denoised.data, [3, 2]);
    close((await g.denoise(x, 1, { step: 1 })).denoised.data, [1 + 2 * 0.5, 0 + 2 * 0.5]); // Δ̄ = 0.5·[1, 1]
    close((await g.denoise(x, 2, { step: 0 })).denoised.data, [3, 2], 1e-12);
  });

  it('CFG++ through Euler equals the paper\'s update x_next = D_λ + σ_next·(x − D_u)/σ, and refuses off-schedule σs', async () => {
    // x-dependent predictions so that the trajectory matters
    const m = fakeModel((c: CondValue, x: Latent, s: number) => x.data.map((v, i) => (c.kind === 'class' && c.label === 3 ? 0.5 * v + i : 0.2 * v - i) / (1 + s)));
    const g = cfgppGuider(m, cls(3), cls(10), { lambda: 0.6 });
    const sigmas = Float64Array.of(10, 4, 1.5, 0.5, 0);
    let xe = lat([1, 3], [3, -2, 5]);
    let xp = xe;
    for (let i = 0; i < 4; i++) {
      const [s, sn] = [sigmas[i], sigmas[i + 1]];
      const d = (await g.denoise(xe, s, { step: i, sigmas })).denoised;
      xe = { shape: xe.shape, data: xe.data.map((v, j) => v + ((sn - s) * (v - d.data[j])) / s) }; // Euler
      const [dc, du] = await m.denoise(xp, s, [cls(3), cls(10)]);
      xp = { shape: xp.shape, data: xp.data.map((v, j) => du.data[j] + 0.6 * (dc.data[j] - du.data[j]) + (sn * (v - du.data[j])) / s) };
    }
    close(xe.data, xp.data, 1e-12);
    await assert.rejects(g.denoise(xe, 4, { step: 0, sigmas }), isCompose, 'Heun-style evaluation at σ_next');
    await assert.rejects(g.denoise(xe, 10, { step: 0 }), isCompose, 'no schedule');
  });

  it('thresholding: dynamic at a percentile, bounds, static; quantile matches numpy\'s linear rule', async () => {
    const x0 = lat([1, 4], [0.5, -2, 3, 1]);
    close(threshold(x0, { mode: 'dynamic', percentile: 1, sMin: 1, sMax: 0 }).data, [0.5 / 3, -2 / 3, 1, 1 / 3]);
    close(threshold(x0, { mode: 'dynamic', percentile: 0.5, sMin: 1, sMax: 0 }).data, [1 / 3, -1, 1, 2 / 3]); // s = 1.5
    close(threshold(x0, { mode: 'dynamic', percentile: 1, sMin: 1, sMax: 1.2 }).data, [0.5 / 1.2, -1, 1, 1 / 1.2]);
    close(threshold(x0, { mode: 'static', percentile: 0.995, sMin: 1, sMax: 0 }).data, [0.5, -1, 1, 1]);
    close([quantile([4, 1, 3, 2, 10], 0.995)], [9.88], 1e-12); // numpy.quantile(..., 0.995)
    const inner: GuiderValue = { model: fixed([0], [0]), denoise: async () => ({ denoised: x0, branches: { cond: x0 } }) };
    const out = await thresholdGuider(inner, { mode: 'static', percentile: 0.995, sMin: 1, sMax: 0 }).denoise(x0, 1, { step: 0 });
    close(out.denoised.data, [0.5, -1, 1, 1]);
    close(out.branches!.unthresholded.data, x0.data);
  });

  it('per-item statistics: a batch of two gives each item\'s own result (rescale, APG, thresholding)', async () => {
    const table = (c: CondValue, x: Latent) => x.data.map((v, i) => (c.kind === 'class' && c.label === 3 ? Math.sin(v + (i % 3)) * 3 : Math.cos(2 * v - (i % 3))));
    const x = lat([2, 3], [0.1, 0.7, -1.2, 2.5, -0.3, 0.9]);
    const items = [lat([1, 3], [0.1, 0.7, -1.2]), lat([1, 3], [2.5, -0.3, 0.9])];
    const guiders = (m: ReturnType<typeof fakeModel>): GuiderValue[] => [
      cfgGuider(m, cls(3), cls(10), { scale: 6, rescale: 0.7 }),
      apgGuider(m, cls(3), cls(10), { scale: 6, eta: 0.3, momentum: 0, normThreshold: 1.5, formulation: 'paper' }),
      thresholdGuider(cfgGuider(m, cls(3), cls(10), { scale: 6 }), { mode: 'dynamic', percentile: 0.6, sMin: 1, sMax: 0 }),
    ];
    for (let k = 0; k < 3; k++) {
      const both = (await guiders(fakeModel(table))[k].denoise(x, 1.3, { step: 0 })).denoised.data;
      const one = [...(await guiders(fakeModel(table))[k].denoise(items[0], 1.3, { step: 0 })).denoised.data, ...(await guiders(fakeModel(table))[k].denoise(items[1], 1.3, { step: 0 })).denoised.data];
      close(both, one, 1e-12);
    }
  });

  it('the guidance nodes are registered with their parameters and validate them', async () => {
    for (const t of ['guider.basic', 'guider.cfg', 'guider.apg', 'guider.cfgpp', 'guider.threshold']) assert.ok(getNodeType(t), t);
    const ctx = { nodeId: 'g', baseDir: '.', services: {} as never };
    await assert.rejects(getNodeType('guider.cfg')!.evaluate(ctx, { model: fixed([0], [0]), positive: cls(3) }, { interval: [2, 1] }), /interval/);
    await assert.rejects(getNodeType('guider.cfg')!.evaluate(ctx, { model: fixed([0], [0]), positive: cls(3) }, { scaleSchedule: 'exp' }), /scaleSchedule/);
  });
});
