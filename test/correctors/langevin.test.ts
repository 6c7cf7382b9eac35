import { strict as assert } from 'assert';
import { langevinStep, makeLangevin } from '../../src/engine/correctors/langevin';
import { ddpm } from '../../src/engine/solvers/stochastic/ddpm';
import { brownianSampler } from '../../src/engine/noise/brownian';
import { seededNoise } from '../../src/engine/noise/nodes';
import { getNodeType } from '../../src/engine/registry/index';
import { DpipeError } from '../../src/engine/core/errors';
import type { Latent } from '../../src/engine/core/types';
import { gaussianDenoiser, logUniform } from '../stochastic/linear';

const variance = (x: Latent) => x.data.reduce((a, v) => a + v * v, 0) / x.data.length;
const D = gaussianDenoiser(0.25);

describe('correctors: Langevin (score-SDE predictor–corrector)', () => {
  it('one step by hand: x = [1, −1], D = 0, σ = 1, z = [½, ½], r = 0.2 → ε = 0.02, x = [1.08, −0.88]', () => {
    const out = langevinStep({ shape: [1, 2], data: Float64Array.of(1, -1) }, { shape: [1, 2], data: Float64Array.of(0, 0) }, 1, Float64Array.of(0.5, 0.5), 0.2);
    [1.08, -0.88].forEach((v, i) => assert.ok(Math.abs(out.data[i] - v) < 1e-14));
  });

  it('at a fixed σ the chain relaxes to the marginal variance s² + σ² (up to the SNR step bias 1/(1 − r²))', async () => {
    const n = 20000;
    const sigma = 0.8;
    const v = 0.25 + sigma * sigma;
    const noise = seededNoise(2).stepSampler([1, n], Float64Array.of(1, 0));
    const x0: Latent = { shape: [1, n], data: seededNoise(3).initial([1, n]).map((z) => z * Math.sqrt(2 * v)) };
    const hook = makeLangevin({ snr: 0.16, steps: 100 });
    const x = await hook.correct({ model: async (xx, s) => D(xx, s), step: 0, sigmas: Float64Array.of(2, sigma), x: x0, xNext: x0, history: [], historySigmas: [], noise });
    const want = v / (1 - 0.16 ** 2);
    assert.ok(Math.abs(variance(x) - want) < 0.03 * want, `${variance(x)} vs ${want}`);
  });

  it('PC sampling (DDPM + Langevin) has a smaller terminal-variance error than the predictor alone at equal steps', async () => {
    const n = 40000;
    const err = async (steps: number, pc: boolean) => {
      const sig = logUniform(steps, 0.05, 20);
      const noise = seededNoise(7);
      const x0 = { shape: [1, n], data: noise.initial([1, n]).map((v) => v * Math.sqrt(0.25 + 400)) };
      const x = await ddpm(async (xx, s) => D(xx, s), x0, sig, {}, { noise: noise.stepSampler([1, n], sig), corrector: pc ? makeLangevin({}) : undefined });
      return Math.abs(variance(x) - (0.25 + 0.05 ** 2));
    };
    for (const steps of [10, 20]) {
      const [p, pc] = [await err(steps, false), await err(steps, true)];
      assert.ok(pc < 0.6 * p, `${steps} steps: P ${p}, PC ${pc}`);
    }
  });

  it('refuses Brownian-tree noise (no fresh noise at a fixed σ) and declares itself usable after any predictor', async () => {
    const sig = Float64Array.of(5, 1, 0.2);
    const x0 = { shape: [1, 8], data: new Float64Array(8).fill(1) };
    await assert.rejects(
      ddpm(async (xx, s) => D(xx, s), x0, sig, {}, { noise: brownianSampler([1], [1, 8], sig), corrector: makeLangevin({}) }),
      (e: unknown) => e instanceof DpipeError && e.code === 'E_COMPOSE' && /Brownian/.test(e.message),
    );
    assert.deepEqual(getNodeType('corrector.langevin')!.corrector, { nfePerStep: 1, follows: 'any', iidNoise: true });
    assert.equal(getNodeType('solver.ddpm')!.solver!.acceptsCorrector, true);
  });
});
