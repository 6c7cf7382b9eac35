/**
 * Parity with the golden reference runs on the closed-form float64 mixture denoiser (the same function the
 * golden runs used), before any ONNX/float32 rounding: differences come only from the σ table (diffusers
 * builds it in float32) and summation order.
 */
import { strict as assert } from 'assert';
import type { Denoiser } from '../../src/engine/core/types';
import { roundHalfEven, sigmaToT, timeFromSigma, tToSigma } from '../../src/engine/model/schedule';
import { arrayNoise, counted, ctxWith, mixtureDenoise } from '../helpers/gmm';
import { goldenSteps, goldenZ, runFinal, runMeta, SD_TABLE, startVE, toOutput } from '../helpers/golden';
import { PARITY_CASES, PARITY_CASES_2, PARITY_CASES_3, PARITY_CASES_KDVP, type RepoCase, solverOf } from '../helpers/cases';
import { maxAbs } from '../helpers/fixtures';

/**
 * The ε model of the golden VP run fed round(t(σ)), wrapped as diffusers (and dpipe's model wrapper) do:
 * x_vp = x/√(σ²+1); the model sees σ_r = σ(round t) and returns ε = (x_vp√(1+σ_r²) − D(x_vp√(1+σ_r²); σ_r))/σ_r;
 * then x̂0 = x − σ·ε with the exact σ.
 */
const rounded: Denoiser = async (x, sigma) => {
  if (sigma === 0) return mixtureDenoise(x, 0);
  const sr = SD_TABLE[roundHalfEven(sigmaToT(sigma, SD_TABLE))];
  const c = Math.sqrt(1 + sr * sr) / Math.sqrt(1 + sigma * sigma);
  const xin = { shape: x.shape, data: x.data.map((v) => v * c) };
  const d = mixtureDenoise(xin, sr);
  return { shape: x.shape, data: x.data.map((v, i) => v - (sigma * (xin.data[i] - d.data[i])) / sr) };
};
const exact: Denoiser = async (x, sigma) => mixtureDenoise(x, sigma);

/**
 * The same ε model fed the dpm-solver/UniPC repositories' time (dpipe's `timeInterpolation: 'log_alpha'`,
 * `timeFromSigma`): t_input = 1000(t(σ) − 1/N) with t from log-α interpolation; the model reads t_input by
 * log-σ interpolation (σ_m); x_vp = x/√(σ²+1) and x̂0 = x − σ·ε with the solver's σ.
 */
const logAlpha: Denoiser = async (x, sigma) => {
  if (sigma === 0) return mixtureDenoise(x, 0);
  const sm = tToSigma(timeFromSigma(sigma, { kind: 'discrete', discreteSigmas: SD_TABLE, interpolation: 'log_alpha' }), SD_TABLE);
  const c = Math.sqrt(1 + sm * sm) / Math.sqrt(1 + sigma * sigma);
  const xin = { shape: x.shape, data: x.data.map((v) => v * c) };
  const d = mixtureDenoise(xin, sm);
  return { shape: x.shape, data: x.data.map((v, i) => v - (sigma * (xin.data[i] - d.data[i])) / sm) };
};



describe('solvers: golden parity on the float64 closed-form mixture', () => {
  const z = goldenZ();
  const steps = goldenSteps();
  for (const c of [...PARITY_CASES, ...PARITY_CASES_2, ...PARITY_CASES_KDVP, ...PARITY_CASES_3] as RepoCase[]) {
    const isKd = c.run.startsWith('kd_') || c.run.startsWith('kdvp_');
    const tol = isKd ? 1e-9 : 2e-5;
    it(`${c.block} ${JSON.stringify(c.params)} reproduces ${c.run} (max-abs < ${tol})`, async () => {
      const meta = runMeta(c.run);
      const sigmas = c.sigmas();
      const { model, calls } = counted(c.roundTimesteps ? rounded : c.timeInterpolation === 'log_alpha' ? logAlpha : exact);
      const noise = arrayNoise(steps, 768);
      const x = await solverOf(c.block)(model, startVE(z, sigmas[0], c.start), sigmas, c.params, ctxWith(c.stochastic ? noise : undefined));
      const out = toOutput(x, sigmas[sigmas.length - 1], meta.output_space);
      const err = maxAbs(out, runFinal(c.run).data);
      assert.ok(err < tol, `${c.run}: max-abs ${err}`);
      assert.equal(calls.length, meta.nfe, 'NFE');
      if (meta.model_calls_sigma) {
        for (let i = 0; i < calls.length; i++) assert.ok(Math.abs(calls[i].sigma - meta.model_calls_sigma[i]) < 1e-12 * meta.model_calls_sigma[i] + 1e-15, `call ${i} σ`);
      }
      if (c.stochastic) assert.equal(noise.used(), c.run.startsWith('df_') ? 10 : 9, 'noise draws');
    });
  }
});
