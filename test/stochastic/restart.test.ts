import { strict as assert } from 'assert';
import { restart } from '../../src/engine/solvers/stochastic/restart';
import { combine } from '../../src/engine/core/latent';
import type { Latent } from '../../src/engine/core/types';
import { RUNS, fileNoise, gmmDenoise, maxAbs, recording, startState } from './gmm';
import { linearAnalysis, logUniform } from './linear';

/** EDM Heun (Karras et al. 2022, Alg. 1), written out independently. */
function heun(x: Latent, sigmas: Float64Array): Latent {
  for (let i = 0; i + 1 < sigmas.length; i++) {
    const [s, sn] = [sigmas[i], sigmas[i + 1]];
    const d = combine(x, [[1 / s, x], [-1 / s, gmmDenoise(x, s)]]);
    const xe = combine(x, [[1, x], [sn - s, d]]);
    if (sn === 0) { x = xe; continue; }
    const d2 = combine(xe, [[1 / sn, xe], [-1 / sn, gmmDenoise(xe, sn)]]);
    x = combine(x, [[1, x], [(sn - s) / 2, d], [(sn - s) / 2, d2]]);
  }
  return x;
}

const sigmas = Float64Array.from([80, 30, 9, 3, 1.1, 0.4, 0.12, 0.03, 0.002, 0]);
const x0 = startState(RUNS.kd_edm_dpmpp_2m_sde_karras_n10);

describe('stochastic: Restart sampling', () => {
  it('K = 0 is EDM Heun: same numbers, 2 NFE per step and 1 on the step to 0', async () => {
    const rec = recording();
    const x = await restart(rec.denoiser, x0, sigmas, { restartTimes: 0 }, { noise: fileNoise() });
    assert.ok(maxAbs(x.data, heun(x0, sigmas).data) < 1e-12);
    assert.equal(rec.sigmas.length, 2 * 8 + 1);
  });

  it('K restarts: jump from the snapped σ_min to the snapped σ_max with √(σ_max² − σ_min²) noise, N_restart Heun steps each', async () => {
    const rec = recording();
    const noise = fileNoise();
    await restart(rec.denoiser, x0, sigmas, { restartTimes: 2, restartSteps: 5, restartSigmaMin: 0.1, restartSigmaMax: 2.5 }, { noise });
    // 0.1 snaps to 0.12 (index 6), 2.5 to 3 (index 3); restarts come right after the step that lands on 0.12.
    assert.equal(rec.sigmas.length, 2 * 8 + 1 + 2 * 5 * 2);
    assert.equal(noise.calls.length, 2);
    for (const [lo, hi] of noise.calls) assert.ok(Math.abs(lo - 0.12) < 1e-12 && Math.abs(hi - 3) < 1e-12, `${lo} → ${hi}`);
    assert.equal(rec.roles.filter((r) => r === 'corrector').length, 2 * 5 * 2, 'restart evaluations are marked as corrector work');
    // The first restart evaluation is at σ_max = 3, after the 6 main Heun steps (12 evaluations).
    assert.ok(Math.abs(rec.sigmas[12] - 3) < 1e-12);
  });

  it('each restart contracts the accumulated error by about (s² + σ_min²)/(s² + σ_max²) (Gaussian data, exact variance)', async () => {
    const sig = logUniform(6, 0.1, 20); // ends at σ_min; σ_max snaps to 1.414
    const opts = { restartSteps: 40, restartSigmaMin: 0.1, restartSigmaMax: 2 };
    const e = await Promise.all([0, 1, 2].map(async (K) => (await linearAnalysis(restart, { ...opts, restartTimes: K }, sig)).weakError));
    const c = (0.25 + 0.01) / (0.25 + sig[3] ** 2);
    assert.ok(e[1] / e[0] < 1.3 * c && e[1] / e[0] > 0.7 * c, `ratio ${e[1] / e[0]} vs ${c}`);
    assert.ok(e[2] < e[1] * 1.5 * c);
  });
});
