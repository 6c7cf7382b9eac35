import { strict as assert } from 'assert';
import { makeModelSchedule } from '../../src/engine/model/schedule';
import {
  AYS_LEVELS, aysSigmas, betaSigmas, cosineSigmas, ddimUniformSigmas, klOptimalSigmas, linearQuadraticValues, normalSigmas, simpleSigmas, SCHEDULE_NODES,
} from '../../src/engine/schedules/index';
import { betaCdf, betaPpf } from '../../src/engine/schedules/betaDist';
import type { RunServices } from '../../src/engine/registry/node';
import type { ModelValue, Params } from '../../src/engine/registry/types';
import type { ModelSchedule } from '../../src/engine/core/types';
import { runMeta, SD_TABLE } from '../helpers/golden';

const vp = makeModelSchedule({ kind: 'discrete', discreteSigmas: SD_TABLE });
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = '') => {
  assert.equal(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
async function node(type: string, params: Params, model?: ModelSchedule) {
  const n = SCHEDULE_NODES.find((x) => x.type === type)!;
  const out = await n.evaluate({ nodeId: 's', baseDir: '.', services: {} as RunServices }, { model: model ? ({ schedule: model } as unknown as ModelValue) : undefined }, params);
  return out.sigmas as Float64Array;
}

describe('schedules: model-level schedules (ComfyUI family), AYS, cosine, logSNR', () => {
  it("normal = k-diffusion's DiscreteSchedule.get_sigmas: the σs of kdvp_euler_tuniform_n10", () => {
    const s = normalSigmas(vp, 10, false);
    close(s.subarray(0, 10), runMeta('kdvp_euler_tuniform_n10').model_calls_sigma!, 1e-12, 'normal');
    assert.equal(s[10], 0);
  });
  it('sgm_uniform drops the σ_min point of a steps+1 grid', () => {
    const s = normalSigmas(vp, 4, true);
    const n5 = normalSigmas(vp, 5, false);
    close(s.subarray(0, 4), n5.subarray(0, 4), 1e-12);
    assert.equal(s.length, 5);
  });
  it('simple and ddim_uniform pick training σs by index', () => {
    assert.deepEqual([...simpleSigmas(SD_TABLE, 4)], [SD_TABLE[999], SD_TABLE[749], SD_TABLE[499], SD_TABLE[249], 0]);
    assert.deepEqual([...ddimUniformSigmas(SD_TABLE, 4)], [SD_TABLE[751], SD_TABLE[501], SD_TABLE[251], SD_TABLE[1], 0]);
  });
  it('beta quantiles: closed forms for Beta(1,1), Beta(½,½) (arcsine) and Beta(2,1)', () => {
    for (const q of [0.01, 0.25, 0.5, 0.9]) {
      assert.ok(Math.abs(betaPpf(q, 1, 1) - q) < 1e-14);
      assert.ok(Math.abs(betaPpf(q, 0.5, 0.5) - Math.sin((Math.PI * q) / 2) ** 2) < 1e-14);
      assert.ok(Math.abs(betaPpf(q, 2, 1) - Math.sqrt(q)) < 1e-14);
    }
    // scipy.stats.beta.ppf(0.9, 0.6, 0.6) and beta.cdf(0.3, 2.5, 1.5)
    assert.ok(Math.abs(betaPpf(0.9, 0.6, 0.6) - 0.9604155944112192) < 1e-13);
    assert.ok(Math.abs(betaCdf(0.3, 2.5, 1.5) - 0.08894372317066562) < 1e-13);
    const s = betaSigmas(SD_TABLE, 5, 0.5, 0.5);
    const idx = [1, 0.8, 0.6, 0.4, 0.2].map((q) => Math.round(Math.sin((Math.PI * q) / 2) ** 2 * 999));
    assert.deepEqual([...s], [...idx.map((i) => SD_TABLE[i]), 0]);
  });
  it('linear-quadratic: the hand-computed 4-step case', () => {
    close(linearQuadraticValues(4, 0.025, 0), [1, 0.9875, 0.975, 0.725, 0], 1e-15);
  });
  it('KL-optimal: uniform in arctan σ', async () => {
    const s = klOptimalSigmas(3, 0.1, 10);
    close(s, [10, Math.tan((Math.atan(0.1) + Math.atan(10)) / 2), 0.1, 0], 1e-14);
    const n = await node('schedule.kl_optimal', { steps: 3, sigmaMin: 0, sigmaMax: 0 }, vp);
    close(n, klOptimalSigmas(3, SD_TABLE[0], SD_TABLE[999]), 1e-15);
  });
  it('AYS: the published levels at 10 steps (last → 0), log-linear interpolation hits them at 20 steps', () => {
    const s10 = aysSigmas('SD1', 10, 'zero');
    close(s10.subarray(0, 10), AYS_LEVELS.SD1.slice(0, 10), 1e-15);
    assert.equal(s10[10], 0);
    const s20 = aysSigmas('SDXL', 20, 'sigma_min');
    for (let i = 0; i <= 10; i++) assert.ok(Math.abs(s20[2 * i] / AYS_LEVELS.SDXL[i] - 1) < 1e-12);
    // in between: the geometric mean of the neighbours
    assert.ok(Math.abs(s20[1] - Math.sqrt(AYS_LEVELS.SDXL[0] * AYS_LEVELS.SDXL[1])) < 1e-12);
    const s5 = aysSigmas('SVD', 5, 'sigma_min');
    assert.equal(s5.length, 6);
    assert.ok(Math.abs(s5[0] - 700) < 1e-12 && Math.abs(s5[5] - 0.002) < 1e-15);
  });
  it('cosine: ends at σ_max and σ_min, equal steps in cosine time', () => {
    const s = cosineSigmas(5, 0.03, 14, 0.008);
    assert.ok(Math.abs(s[0] - 14) < 1e-10 && Math.abs(s[4] - 0.03) < 1e-12);
    const c0 = Math.cos((0.008 / 1.008) * (Math.PI / 2));
    const t = Array.from(s, (v) => (Math.acos(c0 / Math.sqrt(1 + v * v)) * 2 * 1.008) / Math.PI - 0.008);
    for (let i = 1; i < 4; i++) assert.ok(Math.abs(t[i + 1] - t[i] - (t[1] - t[0])) < 1e-12);
  });
  it('logSNR-uniform takes the model range by default; schedules that need the model say so', async () => {
    const s = await node('schedule.logsnr_uniform', { steps: 4 }, vp);
    assert.equal(s[4], 0);
    assert.ok(Math.abs(s[0] - SD_TABLE[999]) < 1e-12 && Math.abs(s[3] - SD_TABLE[0]) < 1e-15);
    const l = Array.from(s.subarray(0, 4), (v) => -Math.log(v));
    for (let i = 1; i < 3; i++) assert.ok(Math.abs(l[i + 1] - l[i] - (l[1] - l[0])) < 1e-12);
    await assert.rejects(node('schedule.normal', { steps: 4 }), /needs the model connected/);
  });
});
