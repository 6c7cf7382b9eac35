import { strict as assert } from 'assert';
import { erIntegrals, erSde, NOISE_SCALES } from '../../src/engine/solvers/stochastic/er_sde';
import { ddimEta, ddpm } from '../../src/engine/solvers/stochastic/ddpm';
import { RUNS, fileNoise, maxAbs, recording, startState } from './gmm';

const sigmas = Float64Array.from([80, 30, 9, 3, 1.1, 0.4, 0.12, 0.03, 0.002, 0]);
const x0 = startState(RUNS.kd_edm_dpmpp_2m_sde_karras_n10);

describe('stochastic: ER-SDE-Solver', () => {
  it('φ(σ) = σ, order 1, is DDIM (the probability-flow ODE): same numbers, no noise', async () => {
    const a = await erSde(recording().denoiser, x0, sigmas, { order: 1, noiseScale: 'ode' }, { noise: fileNoise() });
    const b = await ddimEta(recording().denoiser, x0, sigmas, { eta: 0 }, { noise: fileNoise() });
    assert.ok(maxAbs(a.data, b.data) < 1e-10);
  });

  it('φ(σ) = σ², order 1, is the DDPM posterior step (fixed_small) on the same noise', async () => {
    const a = await erSde(recording().denoiser, x0, sigmas, { order: 1, noiseScale: 'sde' }, { noise: fileNoise() });
    const b = await ddpm(recording().denoiser, x0, sigmas, { variance: 'fixed_small' }, { noise: fileNoise() });
    assert.ok(maxAbs(a.data, b.data) < 1e-10);
  });

  it('the Riemann sums converge to the closed-form integrals for φ(σ) = σ (first order in 1/N, as the reference code)', () => {
    const [s, t] = [3, 1.1];
    const exact1 = Math.log(s / t);
    const exact2 = s - t - s * Math.log(s / t);
    const e = (N: number) => erIntegrals(NOISE_SCALES.ode, s, t, N);
    const [i100, d100] = e(100);
    const [i1e4, d1e4] = e(10000);
    assert.ok(Math.abs(i1e4 - exact1) < 2e-4 && Math.abs(d1e4 - exact2) < 2e-4);
    assert.ok(Math.abs(i100 - exact1) / Math.abs(i1e4 - exact1) > 50, 'error shrinks ~100× for 100× more points');
    assert.ok(Math.abs(d100 - exact2) > Math.abs(d1e4 - exact2));
  });

  it('orders 2 and 3 use the model history (differ from order 1) and the step to σ = 0 returns x̂0', async () => {
    const r1 = recording();
    const o1 = await erSde(r1.denoiser, x0, sigmas, { order: 1 }, { noise: fileNoise() });
    const o3 = await erSde(recording().denoiser, x0, sigmas, { order: 3 }, { noise: fileNoise() });
    assert.ok(maxAbs(o1.data, o3.data) > 1e-3);
    assert.equal(r1.sigmas.length, 9);
    const noise = fileNoise();
    await erSde(recording().denoiser, x0, sigmas, {}, { noise });
    assert.equal(noise.calls.length, 8, 'one draw per step with σ_next > 0');
  });
});
