/**
 * The generator against the golden models: given the golden mixture, tools/gmm writes ONNX files whose
 * outputs match /work/shared/golden/models (copied to test/fixtures/models) on random inputs, and the
 * wrapper turns both golden models into the float64 closed-form denoiser.
 */
import { strict as assert } from 'assert';
import * as path from 'path';
import { float32, releaseAll, run } from '../../src/engine/model/onnx';
import { loadModel } from '../../src/engine/model/wrap';
import { denoiseExact, DIFFUSERS_NAMES, EDM_NAMES, goldenMixture } from '../../tools/gmm/gmm';
import { FIXTURES, maxAbs, noisyBatch, rng, writeModel } from './util';

const MIX = goldenMixture();
const SD = { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 } as const;

describe('model/golden: generator reproduces the golden ONNX models', () => {
  after(() => releaseAll());
  const B = 24;
  const r = rng(11);
  const x = new Float32Array(B * 192).map(() => 2 * r.normal());

  it('EDM form (x, sigma → denoised): ≤ 2e-6 from gmm_edm.onnx on random inputs, σ ∈ [0.002, 80]', async () => {
    const mine = writeModel('gen_edm.onnx', MIX, { prediction: 'edm', time: 'sigma', names: EDM_NAMES });
    const sigma = new Float32Array(B).map((_, i) => Math.exp(Math.log(0.002) + (i / (B - 1)) * Math.log(80 / 0.002)));
    const feeds = { x: float32(x, [B, 3, 8, 8]), sigma: float32(sigma, [B]) };
    const a = await run(mine, feeds);
    const b = await run(path.join(FIXTURES, 'gmm_edm.onnx'), feeds);
    const d = maxAbs(a.denoised.data as Float32Array, b.denoised.data as Float32Array);
    assert.ok(d <= 2e-6, `max |Δ| = ${d}`);
  });

  it('diffusers-UNet form (sample, timestep → out_sample ε): ≤ 2e-6 from gmm_eps_vp.onnx, fractional and clipped timesteps', async () => {
    const mine = writeModel('gen_eps_vp.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES });
    const t = new Float32Array(B).map((_, i) => -20 + (i * 1040) / (B - 1) + 0.37);
    const feeds = { sample: float32(x, [B, 3, 8, 8]), timestep: float32(t, [B]) };
    const a = await run(mine, feeds);
    const b = await run(path.join(FIXTURES, 'gmm_eps_vp.onnx'), feeds);
    const d = maxAbs(a.out_sample.data as Float32Array, b.out_sample.data as Float32Array);
    assert.ok(d <= 2e-6, `max |Δ| = ${d}`);
  });

  it('both golden models, wrapped with no settings, give the float64 closed-form D(x;σ) within float32 precision', async () => {
    const edm = await loadModel({}, path.join(FIXTURES, 'gmm_edm.onnx'));
    const vp = await loadModel({}, path.join(FIXTURES, 'gmm_eps_vp.onnx'));
    assert.deepEqual([edm.info.prediction, edm.info.time, vp.info.prediction, vp.info.time], ['edm', 'sigma', 'epsilon', 'discrete']);
    for (const sigma of [0.03, 0.2, 1, 5, 14]) {
      const xs = noisyBatch(MIX, sigma, 4, 100 + sigma * 10);
      const exact = denoiseExact(MIX, xs, sigma);
      const lat = { shape: [4, 3, 8, 8], data: xs };
      const [a] = await edm.denoise(lat, sigma, [{ kind: 'none' }]);
      const [b] = await vp.denoise(lat, sigma, [{ kind: 'none' }]);
      // float32 rounding of inputs of size ~(1+σ)
      assert.ok(maxAbs(a.data, exact) < 1e-6 * (1 + sigma), `edm σ=${sigma}: ${maxAbs(a.data, exact)}`);
      assert.ok(maxAbs(b.data, exact) < 1e-6 * (1 + sigma), `eps σ=${sigma}: ${maxAbs(b.data, exact)}`);
    }
  });
});
