/**
 * The noise schedules a model folder configures, against diffusers' own numbers (the reference runs' run.json) and
 * closed forms: the flow-matching schedule with SD3's static shift (incl. the doubly shifted last σ), the
 * resolution-dependent shift (μ from the token count, exponential and linear forms, shift_terminal), zero terminal SNR
 * as DDIM keeps it (ᾱ_T = 0, σ = ∞ held as 2⁴⁰) and as the σ-based schedulers clamp it (ᾱ_T = 2⁻²⁴), and the
 * image-to-image strength cut.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Latent } from '../../src/engine/core/types';
import { loadModelFolder } from '../../src/engine/model/folderModel';
import { alphasCumprod, flowShiftMu, SIGMA_INFINITY } from '../../src/engine/model/schedule';
import { getNodeType } from '../../src/engine/registry/index';
import type { RunServices } from '../../src/engine/registry/node';
import { flowMatchTimes, flowTOf } from '../../src/engine/schedules/flow';

const SD = path.join(__dirname, '..', 'fixtures', 'sd');
const ref = (run: string) => JSON.parse(fs.readFileSync(path.join(SD, 'ref', run, 'run.json'), 'utf8'));
const services = {} as RunServices;

async function evalNode(type: string, inputs: Record<string, unknown>, params: Record<string, unknown>): Promise<Float64Array> {
  const n = getNodeType(type)!;
  const full = Object.fromEntries(n.params.map((p) => [p.name, params[p.name] ?? p.default]));
  return (await n.evaluate({ nodeId: 'sched', baseDir: SD, services }, inputs, full as never)).sigmas as Float64Array;
}

describe('model folder schedules against diffusers', () => {
  it('schedule.flow_match with the SD3 folder reproduces FlowMatchEulerDiscreteScheduler(shift=3).set_timesteps(8) as float32', async () => {
    const { model } = await loadModelFolder(path.join(SD, 'tiny-sd3'));
    const sigmas = await evalNode('schedule.flow_match', { model }, { steps: 8 });
    const want: number[] = ref('sd3_flow').sigmas;
    assert.equal(sigmas.length, want.length);
    sigmas.forEach((s, i) => assert.equal(Math.fround(flowTOf(s)), Math.fround(want[i]), `σ_flow[${i}]`));
    assert.equal(sigmas[0], SIGMA_INFINITY, 't = 1 (pure noise) is σ = 2⁴⁰');
    assert.equal(sigmas[8], 0);
  });

  it('the resolution-dependent shift: μ linear in the token count, exponential and linear forms, shift_terminal', () => {
    const anchors = { baseImageSeqLen: 256, maxImageSeqLen: 4096, baseShift: 0.5, maxShift: 1.15 };
    assert.ok(Math.abs(flowShiftMu(256, anchors) - 0.5) < 1e-12);
    assert.ok(Math.abs(flowShiftMu(4096, anchors) - 1.15) < 1e-12);
    const mu = flowShiftMu(1024, anchors);
    // linspace(1, 1/n, n), then t' = e^μ / (e^μ + 1/t − 1) (Flux).
    const n = 4;
    const got = flowMatchTimes(n, { mu, timeShiftType: 'exponential', shiftTerminal: 0 }, 'uniform');
    const want = [1, 0.75, 0.5, 0.25].map((t) => Math.fround(Math.exp(mu) / (Math.exp(mu) + (1 / t - 1))));
    assert.deepEqual(Array.from(got), want);
    const lin = flowMatchTimes(n, { mu, timeShiftType: 'linear', shiftTerminal: 0 }, 'uniform');
    assert.deepEqual(Array.from(lin), [1, 0.75, 0.5, 0.25].map((t) => Math.fround(mu / (mu + (1 / t - 1)))));
    const term = flowMatchTimes(n, { shift: 1, timeShiftType: 'exponential', shiftTerminal: 0.1 }, 'uniform');
    assert.equal(term[n - 1], Math.fround(0.1), 'stretched to end at shift_terminal');
    assert.equal(term[0], 1);
  });

  it('schedule.flow_match computes μ from the connected latent for a dynamically shifted model', async () => {
    const { model } = await loadModelFolder(path.join(SD, 'tiny-sd3'));
    const dyn = { ...model, schedule: { ...model.schedule, flowShift: { ...model.schedule.flowShift!, dynamic: true } } };
    const x: Latent = { shape: [1, 16, 64, 64], data: new Float64Array(16 * 64 * 64) };
    const sigmas = await evalNode('schedule.flow_match', { model: dyn, latent: x }, { steps: 4, grid: 'uniform' });
    const mu = flowShiftMu((64 / 2) * (64 / 2), { baseImageSeqLen: 256, maxImageSeqLen: 4096, baseShift: 0.5, maxShift: 1.15 });
    assert.equal(Math.fround(flowTOf(sigmas[1])), Math.fround(Math.exp(mu) / (Math.exp(mu) + 1 / 0.75 - 1)));
    await assert.rejects(evalNode('schedule.flow_match', { model: dyn }, { steps: 4 }), /connect the latent/);
  });

  it('zero terminal SNR: DDIM keeps ᾱ_T = 0 (the reference run\'s ᾱ at t = 999), Euler-family schedulers clamp it to 2⁻²⁴', async () => {
    const r = ref('sd2v_ddim_rescale');
    const { model } = await loadModelFolder(path.join(SD, 'tiny-sd2v'));
    const s = model.schedule.discreteSigmas!;
    assert.equal(s[999], SIGMA_INFINITY);
    r.timesteps.forEach((t: number, i: number) => {
      const a = t === 999 ? 0 : 1 / (1 + s[t] * s[t]);
      assert.ok(Math.abs(a - r.alphas_cumprod_t[i]) < 1e-6, `ᾱ(${t}) = ${a} vs ${r.alphas_cumprod_t[i]} (diffusers computes ᾱ in float32)`);
    });
    const clamped = alphasCumprod({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000, zeroTerminalSnr: 'clamped' });
    assert.equal(clamped[999], 2 ** -24);
    const clampedModel = await loadModelFolder(path.join(SD, 'tiny-sd2v'), { zeroSnrTerminal: 'clamped' });
    assert.ok(Math.abs(clampedModel.model.schedule.discreteSigmas![999] - Math.sqrt((1 - 2 ** -24) / 2 ** -24)) < 1e-9);
  });

  it('schedule.strength keeps the last ⌊N·strength⌋ steps (diffusers get_timesteps) and refuses a strength that keeps none', async () => {
    const src = Float64Array.from([10, 8, 6, 4, 2, 1, 0.5, 0.25, 0.1, 0.05, 0]);
    const kept = await evalNode('schedule.strength', { sigmas: src }, { strength: 0.6 });
    assert.deepEqual(Array.from(kept), [2, 1, 0.5, 0.25, 0.1, 0.05, 0]);
    await assert.rejects(evalNode('schedule.strength', { sigmas: src }, { strength: 0.05 }), /keeps no step; raise it to at least 0\.1/);
  });
});
