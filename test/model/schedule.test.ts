import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import {
  alphasCumprod, betas, continuousTToSigma, discreteSigmas, makeModelSchedule, roundHalfEven, sigmaFromTime, sigmaToContinuousT, sigmaToT,
  timeFromSigma, tToSigma, DEFAULT_DISCRETE, TIME_KINDS, type DiscreteOptions, type TimeOptions,
} from '../../src/engine/model/schedule';
import { rng } from './util';

const SD: DiscreteOptions = DEFAULT_DISCRETE;
const isModelError = (e: unknown) => e instanceof DpipeError && e.code === 'E_MODEL';

describe('model/schedule: discrete (DDPM) schedules', () => {
  it('scaled_linear reproduces the golden VP model: σ(0) = 0.0291672, σ(999) = 14.6146412', () => {
    const s = discreteSigmas(SD);
    assert.equal(s.length, 1000);
    assert.ok(Math.abs(s[0] - 0.0291672) < 1e-7, `σ(0) = ${s[0]}`);
    assert.ok(Math.abs(s[999] - 14.6146412) < 1e-7, `σ(999) = ${s[999]}`);
    for (let i = 1; i < s.length; i++) assert.ok(s[i] > s[i - 1], 'ascending');
  });

  it('linear betas are linspace(β_start, β_end, N); ᾱ is their running product', () => {
    const o: DiscreteOptions = { betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, numTrainTimesteps: 1000 };
    const b = betas(o);
    assert.equal(b[0], 1e-4);
    assert.ok(Math.abs(b[999] - 0.02) < 1e-15);
    assert.ok(Math.abs(b[500] - (1e-4 + (0.02 - 1e-4) * 500 / 999)) < 1e-15);
    const ac = alphasCumprod(o);
    assert.ok(Math.abs(ac[1] - (1 - 1e-4) * (1 - b[1])) < 1e-15);
    assert.ok(Math.abs(discreteSigmas(o)[0] - Math.sqrt(1e-4 / (1 - 1e-4))) < 1e-15);
  });

  it('squaredcos_cap_v2 telescopes to ᾱ_t = f((t+1)/N)/f(0), f(u) = cos²((u+0.008)/1.008·π/2), β capped at 0.999', () => {
    const o: DiscreteOptions = { betaSchedule: 'squaredcos_cap_v2', betaStart: 0, betaEnd: 0, numTrainTimesteps: 1000 };
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const ac = alphasCumprod(o);
    for (const t of [0, 1, 100, 500, 900, 990]) assert.ok(Math.abs(ac[t] / (f((t + 1) / 1000) / f(0)) - 1) < 1e-10, `t=${t}`);
    assert.equal(betas(o)[999], 0.999);
  });

  it('explicit alphasCumprod gives σ = √((1−ᾱ)/ᾱ) and rejects lists that are not strictly decreasing in (0, 1]', () => {
    const o: DiscreteOptions = { betaSchedule: 'explicit', betaStart: 0, betaEnd: 0, numTrainTimesteps: 3, alphasCumprod: [0.9, 0.5, 0.1] };
    const got = discreteSigmas(o);
    [Math.sqrt(0.1 / 0.9), 1, 3].forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-15, `σ_${i} = ${got[i]}`));
    assert.throws(() => discreteSigmas({ ...o, alphasCumprod: [0.9, 0.95, 0.1] }), (e) => isModelError(e) && /strictly decreasing/.test((e as Error).message));
    assert.throws(() => discreteSigmas({ ...o, numTrainTimesteps: 4 }), (e) => isModelError(e) && /numTrainTimesteps is 4/.test((e as Error).message));
    assert.throws(() => discreteSigmas({ ...o, alphasCumprod: [] }), isModelError);
  });

  it('bad settings raise E_MODEL naming what is allowed', () => {
    assert.throws(() => betas({ ...SD, betaSchedule: 'cosine' as never }), (e) => isModelError(e) && /linear, scaled_linear, squaredcos_cap_v2, explicit/.test((e as Error).message));
    assert.throws(() => betas({ ...SD, betaStart: 0 }), (e) => isModelError(e) && /\(0, 1\)/.test((e as Error).message));
    assert.throws(() => betas({ ...SD, numTrainTimesteps: 1 }), isModelError);
  });
});

describe('model/schedule: σ ↔ t', () => {
  const sig = discreteSigmas(SD);

  it('integer timesteps map to the training σ exactly, fractional ones by log-σ interpolation (k-diffusion)', () => {
    for (const t of [0, 1, 17, 500, 999]) {
      assert.ok(Math.abs(tToSigma(t, sig) / sig[t] - 1) < 1e-14);
      assert.ok(Math.abs(sigmaToT(sig[t], sig) - t) < 1e-9, `t=${t}`);
    }
    const expected = Math.exp(0.75 * Math.log(sig[10]) + 0.25 * Math.log(sig[11]));
    assert.ok(Math.abs(tToSigma(10.25, sig) / expected - 1) < 1e-14);
    assert.ok(Math.abs(sigmaToT(expected, sig) - 10.25) < 1e-9);
  });

  it('σ → t → σ round-trips on random fractional timesteps; out-of-range σ clamps to [0, N−1]', () => {
    const r = rng(3);
    for (let i = 0; i < 200; i++) {
      const t = r.uniform() * 999;
      assert.ok(Math.abs(sigmaToT(tToSigma(t, sig), sig) - t) < 1e-8);
    }
    assert.equal(sigmaToT(sig[0] / 2, sig), 0);
    assert.equal(sigmaToT(sig[999] * 3, sig), 999);
    assert.ok(Math.abs(tToSigma(-4, sig) / sig[0] - 1) < 1e-14);
    assert.ok(Math.abs(tToSigma(1200, sig) / sig[999] - 1) < 1e-14);
  });

  it('rounding mode feeds round(t), halves to even as numpy/torch do', () => {
    assert.deepEqual([2.5, 3.5, 2.4999, 0.5, 1.5000001, 7].map(roundHalfEven), [2, 4, 2, 0, 2, 7]);
    const s = tToSigma(10.5, sig);
    assert.ok(Math.abs(timeFromSigma(s, { kind: 'discrete', discreteSigmas: sig }) - 10.5) < 1e-8);
    const tr = timeFromSigma(tToSigma(10.7, sig), { kind: 'discrete', discreteSigmas: sig, round: true });
    assert.equal(tr, 11);
  });

  it('continuous time inputs: σ, ¼·ln σ, t = σ/(1+σ), 1000·t, and their inverses', () => {
    const s = 2.5;
    assert.equal(timeFromSigma(s, { kind: 'sigma' }), 2.5);
    assert.equal(timeFromSigma(s, { kind: 'edm_cnoise' }), 0.25 * Math.log(2.5));
    assert.equal(timeFromSigma(s, { kind: 'flow' }), 2.5 / 3.5);
    assert.ok(Math.abs(timeFromSigma(s, { kind: 'flow1000' }) - 1000 * 2.5 / 3.5) < 1e-12);
    for (const kind of TIME_KINDS) {
      for (const sigma of [0.05, 1, 7.3]) {
        const o = { kind, discreteSigmas: sig };
        assert.ok(Math.abs(sigmaFromTime(timeFromSigma(sigma, o), o) / sigma - 1) < 1e-9, `${kind} σ=${sigma}`);
      }
    }
  });

  it('model schedules: discrete σ range from the table, EDM 0.002..80 and flow t ∈ [0.001, 0.999] by default', () => {
    const d = makeModelSchedule({ kind: 'discrete', discreteSigmas: sig });
    assert.equal(d.sigmaMin, sig[0]);
    assert.equal(d.sigmaMax, sig[999]);
    const e = makeModelSchedule({ kind: 'edm' });
    assert.deepEqual([e.sigmaMin, e.sigmaMax], [0.002, 80]);
    const f = makeModelSchedule({ kind: 'flow' });
    assert.ok(Math.abs(f.sigmaMax / (1 + f.sigmaMax) - 0.999) < 1e-12 && Math.abs(f.sigmaMin / (1 + f.sigmaMin) - 0.001) < 1e-12);
    assert.deepEqual([makeModelSchedule({ kind: 'sigma', sigmaMin: 0.01, sigmaMax: 150 }).sigmaMax], [150]);
    assert.throws(() => makeModelSchedule({ kind: 'sigma', sigmaMin: 5, sigmaMax: 1 }), isModelError);
  });
});

/**
 * `timeInterpolation: 'log_alpha'`: the DPM-Solver / UniPC repositories' σ ↔ t map (NoiseScheduleVP('discrete'),
 * get_model_input_time), checked against the timesteps those repositories fed the golden VP model
 * (`model_calls_timestep` of /work/shared/golden/runs/*.json). The repositories build their time grids in float32,
 * so the figures carry ~6e-5 of rounding (one float32 ulp of t ≈ 1, ×1000).
 */
describe('model/schedule: log-α time interpolation (dpm-solver / UniPC repositories)', () => {
  const sig = discreteSigmas(SD);
  const logAlpha: TimeOptions = { kind: 'discrete', discreteSigmas: sig, interpolation: 'log_alpha' };
  const logSigma: TimeOptions = { kind: 'discrete', discreteSigmas: sig };
  // dpms_dpmpp_multistep_o2_logSNR_n10.json (= unipc_bh2_o3_logSNR_n10.json), model_calls_timestep.
  const LOGSNR = [998.9999944662333, 888.2175006698246, 756.5113941749761, 597.4304726594294, 413.1617563736129, 233.20774116854588, 102.97322431511027, 36.14362718174295, 10.620575165349903, 2.439612390027149];
  // dpms_dpm_singlestep_o3_logSNR_n10.json, model_calls_timestep (outer step orders 3, 3, 3, 1: get_orders_and_timesteps_for_singlestep_solver).
  const SINGLE = [998.9999944662333, 907.9527713327841, 803.1690791364741, 680.6660939833681, 538.0656337479661, 381.5931032141602, 233.20774116854588, 120.04872725003791, 52.37942597461969, 20.001579565953055];
  // dpms_dpmpp_multistep_o2_time_uniform_n10.json (= unipc_bh1_o3_time_uniform_n10.json), model_calls_timestep.
  const TUNIFORM = [999.0, 899.0999755859375, 799.2000122070312, 699.2999877929688, 599.3999633789062, 499.5000305175781, 399.6000061035156, 299.70001220703125, 199.8000030517578, 99.9000015258789];

  it('logSNR grids (σ log-uniform between σ(999) and σ(0)) map to the repositories\' model timesteps within 1e-4; log-σ interpolation does not', () => {
    const l0 = Math.log(sig[999]);
    const l1 = Math.log(sig[0]);
    let worstLogSigma = 0;
    for (let k = 0; k < 10; k++) {
      const sigma = Math.exp(l0 + ((l1 - l0) * k) / 10);
      const t = timeFromSigma(sigma, logAlpha);
      assert.ok(Math.abs(t - LOGSNR[k]) < 1e-4, `step ${k}: t_input ${t} vs ${LOGSNR[k]}`);
      worstLogSigma = Math.max(worstLogSigma, Math.abs(timeFromSigma(sigma, logSigma) - LOGSNR[k]));
    }
    assert.ok(worstLogSigma > 0.03, `log-σ interpolation should miss the repositories' timesteps (worst ${worstLogSigma})`);
  });

  it('the singlestep order-3 logSNR grid (4 outer λ-uniform steps, inner points λ-equally spaced) matches within 1e-4', () => {
    // Outer λ grid of K = 4 steps between λ(t=1) and λ(t=1/N), orders [3, 3, 3, 1]; inner points split each λ step equally.
    const l0 = Math.log(sig[999]);
    const l1 = Math.log(sig[0]);
    const orders = [3, 3, 3, 1];
    const logs: number[] = [l0];
    orders.forEach((k, j) => {
      const a = l0 + ((l1 - l0) * j) / orders.length;
      const b = l0 + ((l1 - l0) * (j + 1)) / orders.length;
      for (let q = 1; q <= k; q++) logs.push(a + ((b - a) * q) / k);
    });
    for (let i = 0; i < 10; i++) {
      const t = timeFromSigma(Math.exp(logs[i]), logAlpha);
      assert.ok(Math.abs(t - SINGLE[i]) < 1e-4, `eval ${i}: t_input ${t} vs ${SINGLE[i]}`);
    }
  });

  it('time-uniform grids: σ from log α linear in t (closed form here) maps back to t_input = 1000(t − 1/N) within 1e-4', () => {
    const halfLogAbar = (i: number) => -0.5 * Math.log1p(sig[i] * sig[i]);
    for (let k = 0; k < 10; k++) {
      const tc = 1 - (k * (1 - 1 / 1000)) / 10;
      const i = Math.min(998, Math.floor(tc * 1000) - 1); // t_i = (i+1)/N ≤ t < t_{i+1}
      const f = tc * 1000 - (i + 1);
      const la = (1 - f) * halfLogAbar(i) + f * halfLogAbar(i + 1);
      const sigma = Math.sqrt(Math.expm1(-2 * la));
      assert.ok(Math.abs(continuousTToSigma(tc, sig) / sigma - 1) < 1e-12, `σ(t=${tc})`);
      const t = timeFromSigma(sigma, logAlpha);
      assert.ok(Math.abs(t - TUNIFORM[k]) < 1e-4, `step ${k}: t_input ${t} vs ${TUNIFORM[k]}`);
      assert.ok(Math.abs(sigmaFromTime(TUNIFORM[k], logAlpha) / sigma - 1) < 1e-6, `σ(t_input=${TUNIFORM[k]})`);
    }
  });

  it('agrees with log-σ interpolation at integer timesteps, differs between them; round-trips; extends linearly past the ends', () => {
    for (const i of [0, 1, 250, 998, 999]) {
      assert.ok(Math.abs(timeFromSigma(sig[i], logAlpha) - i) < 1e-8, `integer step ${i}`);
      assert.ok(Math.abs(sigmaToContinuousT(sig[i], sig) - (i + 1) / 1000) < 1e-12);
    }
    const mid = Math.exp(0.5 * Math.log(sig[10]) + 0.5 * Math.log(sig[11]));
    assert.ok(Math.abs(timeFromSigma(mid, logSigma) - 10.5) < 1e-9);
    assert.ok(Math.abs(timeFromSigma(mid, logAlpha) - 10.5) > 1e-3, 'log α and log σ interpolation differ between steps');
    const r = rng(7);
    for (let k = 0; k < 200; k++) {
      const t = r.uniform() * 999;
      assert.ok(Math.abs(timeFromSigma(sigmaFromTime(t, logAlpha), logAlpha) - t) < 1e-8, `round trip t=${t}`);
    }
    // No clamping: below σ(0) t_input < 0, above σ(999) t_input > 999, on the end segments' lines.
    const below = timeFromSigma(sig[0] * 0.9, logAlpha);
    const above = timeFromSigma(sig[999] * 1.1, logAlpha);
    assert.ok(below < 0 && above > 999, `extrapolated: ${below}, ${above}`);
    const la = (s: number) => -0.5 * Math.log1p(s * s);
    assert.ok(Math.abs(below - (la(sig[0] * 0.9) - la(sig[0])) / (la(sig[1]) - la(sig[0]))) < 1e-9);
    assert.ok(Math.abs(above - 999 - (la(sig[999] * 1.1) - la(sig[999])) / (la(sig[999]) - la(sig[998]))) < 1e-9);
    assert.equal(timeFromSigma(tToSigma(400.3, sig), { ...logAlpha, round: true }), 400);
  });

  it('an unknown interpolation is an E_MODEL error naming the allowed ones', () => {
    assert.throws(() => timeFromSigma(1, { ...logAlpha, interpolation: 'linear' as never }), (e) => isModelError(e) && /log_sigma, log_alpha/.test((e as Error).message));
  });
});
