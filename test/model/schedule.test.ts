import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import {
  alphasCumprod, betas, discreteSigmas, makeModelSchedule, roundHalfEven, sigmaFromTime, sigmaToT, timeFromSigma, tToSigma,
  DEFAULT_DISCRETE, TIME_KINDS, type DiscreteOptions,
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
