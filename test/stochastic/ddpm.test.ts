import { strict as assert } from 'assert';
import { ddimEta, ddpm } from '../../src/engine/solvers/stochastic/ddpm';
import type { Latent } from '../../src/engine/core/types';
import { RUNS, fileNoise, gmmDenoise, maxAbs, readNpy, recording, sdSigmas, startState, toOutputSpace } from './gmm';

const SD = sdSigmas();
const abar = (s: number) => 1 / (1 + s * s);

/** diffusers' DDIMScheduler.step / DDPMScheduler.step written in VP space, as a reference independent of the VE form. */
async function vpReference(kind: 'ddim' | 'ddpm_small' | 'ddpm_large', eta: number, sigmas: Float64Array, xve0: Latent): Promise<Float64Array> {
  const noise = fileNoise();
  let xvp = xve0.data.map((v) => v / Math.sqrt(1 + sigmas[0] ** 2));
  for (let i = 0; i < sigmas.length - 1; i++) {
    const [at, ap] = [abar(sigmas[i]), abar(sigmas[i + 1])];
    const x0 = gmmDenoise({ shape: xve0.shape, data: xvp.map((v) => v / Math.sqrt(at)) }, sigmas[i]).data;
    const eps = xvp.map((v, j) => (v - Math.sqrt(at) * x0[j]) / Math.sqrt(1 - at));
    if (kind === 'ddim') {
      const variance = ((1 - ap) / (1 - at)) * (1 - at / ap);
      const std = eta * Math.sqrt(variance);
      const z = eta > 0 ? noise(sigmas[i], sigmas[i + 1]) : undefined;
      xvp = xvp.map((_, j) => Math.sqrt(ap) * x0[j] + Math.sqrt(1 - ap - std * std) * eps[j] + (z ? std * z[j] : 0));
    } else {
      const alpha = at / ap;
      const beta = 1 - alpha;
      const c0 = (Math.sqrt(ap) * beta) / (1 - at);
      const c1 = (Math.sqrt(alpha) * (1 - ap)) / (1 - at);
      const variance = kind === 'ddpm_small' ? ((1 - ap) / (1 - at)) * beta : beta;
      const z = sigmas[i + 1] > 0 ? noise(sigmas[i], sigmas[i + 1]) : undefined;
      xvp = xvp.map((v, j) => c0 * x0[j] + c1 * v + (z ? Math.sqrt(variance) * z[j] : 0));
    }
  }
  return xvp;
}

function vp(x: Latent, sigmaEnd: number): Float64Array {
  return x.data.map((v) => v / Math.sqrt(1 + sigmaEnd * sigmaEnd));
}

describe('stochastic: DDPM and DDIM-η', () => {
  for (const name of ['df_ddim_n10', 'df_ddim_trailing_n10']) {
    it(`η = 0 reproduces ${name} within 1e-4`, async () => {
      const run = RUNS[name];
      const sigmas = Float64Array.from([...run.timesteps!.map((t) => SD[t]), SD[0]]);
      const x = await ddimEta(recording().denoiser, startState(run), sigmas, { eta: 0 }, { noise: fileNoise() });
      const err = maxAbs(toOutputSpace(run, x, sigmas[10]), readNpy(`${name}.x_final.npy`).data);
      assert.ok(err < 1e-4, `max-abs ${err}`);
    });
  }

  const sigmas = Float64Array.from([...[999, 799, 599, 399, 199, 1].map((t) => SD[t]), 0]);
  const start = startState(RUNS.df_ddim_trailing_n10);
  for (const eta of [0.3, 1]) {
    it(`DDIM η = ${eta} equals diffusers' VP-space update on the same noise (1e-10)`, async () => {
      const ref = await vpReference('ddim', eta, sigmas, start);
      const x = await ddimEta(recording().denoiser, start, sigmas, { eta }, { noise: fileNoise() });
      assert.ok(maxAbs(vp(x, 0), ref) < 1e-10);
    });
  }
  for (const variance of ['fixed_small', 'fixed_large'] as const) {
    it(`DDPM ${variance} equals the posterior-mean update in VP space on the same noise (1e-10)`, async () => {
      const ref = await vpReference(variance === 'fixed_small' ? 'ddpm_small' : 'ddpm_large', 1, sigmas, start);
      const noise = fileNoise();
      const x = await ddpm(recording().denoiser, start, sigmas, { variance }, { noise });
      assert.ok(maxAbs(vp(x, 0), ref) < 1e-10);
      assert.equal(noise.calls.length, sigmas.length - 2, 'no draw on the step to σ = 0');
    });
  }
  it('DDPM fixed_small equals DDIM η = 1 except for the draw on the step to 0', async () => {
    const s = sigmas.slice(0, -1);
    const a = await ddpm(recording().denoiser, start, s, {}, { noise: fileNoise() });
    const b = await ddimEta(recording().denoiser, start, s, { eta: 1 }, { noise: fileNoise() });
    assert.ok(maxAbs(a.data, b.data) < 1e-12);
  });
});
