/**
 * The wrapper: every parameterization and time input, built from the same exact mixture denoiser by
 * tools/gmm, recovers the same x̂0 through the real onnxruntime path; conditionings batch into one call.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import type { Params } from '../../src/engine/registry/types';
import { releaseAll, sessionStats } from '../../src/engine/model/onnx';
import { discreteSigmas, roundHalfEven, sigmaToRepoTimestep, sigmaToT, tToSigma, type DiscreteOptions, type TimeKind } from '../../src/engine/model/schedule';
import type { Prediction } from '../../src/engine/model/params';
import { loadModel } from '../../src/engine/model/wrap';
import { denoiseExact, DIFFUSERS_NAMES, EDM_NAMES, goldenMixture, type Mixture } from '../../tools/gmm/gmm';
import { GraphBuilder } from '../../tools/gmm/onnx-graph';
import { maxAbs, noisyBatch, tmpDir, writeModel } from './util';

const MIX = goldenMixture();
const SD: DiscreteOptions = { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 };
const isErr = (code: string, re?: RegExp) => (e: unknown) => e instanceof DpipeError && e.code === code && (!re || re.test(e.message));

interface Case { prediction: Prediction; time: TimeKind; discrete?: DiscreteOptions }
const CASES: Case[] = [
  { prediction: 'epsilon', time: 'discrete', discrete: SD },
  { prediction: 'v_prediction', time: 'discrete', discrete: SD },
  { prediction: 'sample', time: 'discrete', discrete: SD },
  { prediction: 'epsilon', time: 'discrete', discrete: { betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, numTrainTimesteps: 1000 } },
  { prediction: 'v_prediction', time: 'discrete', discrete: { betaSchedule: 'squaredcos_cap_v2', betaStart: 0, betaEnd: 0, numTrainTimesteps: 1000 } },
  { prediction: 'flow', time: 'flow' },
  { prediction: 'flow', time: 'flow1000' },
  { prediction: 'edm', time: 'sigma' },
  { prediction: 'edm', time: 'edm_cnoise' },
  { prediction: 'epsilon', time: 'sigma' },
  { prediction: 'v_prediction', time: 'sigma' },
  { prediction: 'sample', time: 'flow' },
  { prediction: 'epsilon', time: 'flow' },
];

function paramsOf(c: Case): Params {
  const p: Record<string, Params[string]> = { prediction: c.prediction, time: c.time };
  if (c.discrete) Object.assign(p, { betaSchedule: c.discrete.betaSchedule, betaStart: c.discrete.betaStart, betaEnd: c.discrete.betaEnd, numTrainTimesteps: c.discrete.numTrainTimesteps });
  return p;
}

describe('model/wrap: every parameterization gives the same x̂0', () => {
  after(() => releaseAll());
  for (const c of CASES) {
    const label = `${c.prediction} × ${c.time}${c.discrete ? ` (${c.discrete.betaSchedule})` : ''}`;
    it(`${label}: x̂0 equals the float64 closed form to float32 precision`, async () => {
      const file = writeModel(`p_${c.prediction}_${c.time}_${c.discrete?.betaSchedule ?? ''}.onnx`, MIX, {
        prediction: c.prediction, time: c.time, discrete: c.discrete, names: c.prediction === 'edm' ? EDM_NAMES : DIFFUSERS_NAMES,
      });
      const model = await loadModel(paramsOf(c), file);
      const smax = c.discrete ? discreteSigmas(c.discrete)[999] : 80;
      const smin = c.discrete ? discreteSigmas(c.discrete)[0] : 0.002;
      const sigmas = [0.03, 0.1, 0.25, 0.6, 1.5, 4, 12, 40, 80].filter((s) => s >= smin && s <= smax);
      for (const sigma of sigmas) {
        const x = noisyBatch(MIX, sigma, 3, Math.round(sigma * 1000));
        const [got] = await model.denoise({ shape: [3, 3, 8, 8], data: x }, sigma, [{ kind: 'none' }]);
        const err = maxAbs(got.data, denoiseExact(MIX, x, sigma));
        assert.ok(err < 2e-6 * (1 + sigma), `${label} σ=${sigma}: max |Δ| = ${err}`);
      }
    });
  }

  it('roundTimesteps feeds round(t) but steps with the exact σ (diffusers): x̂0 = x − σ·ε̂(x_vp, round(t))', async () => {
    const file = writeModel('round_eps.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES });
    const model = await loadModel({ roundTimesteps: true }, file);
    const sig = discreteSigmas(SD);
    const sigma = tToSigma(400.3, sig);
    const tr = roundHalfEven(sigmaToT(sigma, sig));
    assert.equal(tr, 400);
    const s2 = sig[tr];
    const x = noisyBatch(MIX, sigma, 2, 5);
    // What the network computes at time 400 on x_vp = x/√(σ²+1): ε̂ = (x' − D(x'; σ'))/σ' with x' = x_vp·√(σ'²+1).
    const xp = x.map((v) => (v / Math.sqrt(sigma * sigma + 1)) * Math.sqrt(s2 * s2 + 1));
    const d = denoiseExact(MIX, xp, s2);
    const expected = x.map((v, i) => v - (sigma * (xp[i] - d[i])) / s2);
    const [got] = await model.denoise({ shape: [2, 3, 8, 8], data: x }, sigma, [{ kind: 'none' }]);
    assert.ok(maxAbs(got.data, expected) < 1e-5, `rounded: ${maxAbs(got.data, expected)}`);
    const unrounded = denoiseExact(MIX, x, sigma);
    assert.ok(maxAbs(got.data, unrounded) > 1e-4, 'rounding must change the result');
  });

  it('timeInterpolation log_alpha (node or sidecar) feeds the dpm-solver/UniPC repositories\' t_input = 1000(t − 1/N), x̂0 = x − σ·ε̂', async () => {
    const file = writeModel('logalpha_eps.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES });
    const sidecarFile = writeModel('logalpha_side_eps.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES }, { timeInterpolation: 'log_alpha' });
    const sig = discreteSigmas(SD);
    const sigma = tToSigma(2.5, sig);
    // log α linear in t gives a timestep that differs from log-σ interpolation's 2.5 between the integers.
    const tr = sigmaToRepoTimestep(sigma, sig);
    assert.ok(tr > 2 && tr < 3 && Math.abs(tr - 2.5) > 1e-2, `t_input ${tr}`);
    const s2 = tToSigma(tr, sig); // the golden-style model reads its fractional t by log-σ interpolation
    const x = noisyBatch(MIX, sigma, 2, 8);
    const xp = x.map((v) => (v / Math.sqrt(sigma * sigma + 1)) * Math.sqrt(s2 * s2 + 1));
    const d = denoiseExact(MIX, xp, s2);
    const expected = x.map((v, i) => v - (sigma * (xp[i] - d[i])) / s2);
    const lat = { shape: [2, 3, 8, 8], data: x };
    const [byNode] = await (await loadModel({ timeInterpolation: 'log_alpha' }, file)).denoise(lat, sigma, [{ kind: 'none' }]);
    const [bySidecar] = await (await loadModel({}, sidecarFile)).denoise(lat, sigma, [{ kind: 'none' }]);
    const [overridden] = await (await loadModel({ timeInterpolation: 'log_sigma' }, sidecarFile)).denoise(lat, sigma, [{ kind: 'none' }]);
    assert.ok(maxAbs(byNode.data, expected) < 1e-5, `node: ${maxAbs(byNode.data, expected)}`);
    assert.ok(maxAbs(bySidecar.data, expected) < 1e-5, `sidecar: ${maxAbs(bySidecar.data, expected)}`);
    assert.ok(maxAbs(overridden.data, denoiseExact(MIX, x, sigma)) < 1e-5, 'a node log_sigma overrides the sidecar');
    assert.ok(maxAbs(byNode.data, overridden.data) > 1e-6, 'the interpolation must change what the model sees');
  });

  it('timeInterpolation log_alpha on a continuous-time model, or an unknown value in a sidecar, is an E_MODEL error', async () => {
    const edm = writeModel('logalpha_edm.onnx', MIX, { prediction: 'edm', time: 'sigma', names: EDM_NAMES });
    await assert.rejects(loadModel({ timeInterpolation: 'log_alpha' }, edm), isErr('E_MODEL', /applies only to discrete time/));
    const eps = writeModel('logalpha_bad.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES }, { timeInterpolation: 'linear' });
    await assert.rejects(loadModel({}, eps), isErr('E_MODEL', /"timeInterpolation" must be one of auto, log_sigma, log_alpha/));
  });

  it('an int64 timestep input gets round(t) (diffusers\' rounding) without being asked', async () => {
    const file = writeModel('int_eps.onnx', MIX, { prediction: 'epsilon', time: 'discrete', discrete: SD, names: DIFFUSERS_NAMES, timeType: 'int64' });
    const model = await loadModel({}, file);
    const sig = discreteSigmas(SD);
    const sigma = tToSigma(250.6, sig);
    const s2 = sig[251];
    const x = noisyBatch(MIX, sigma, 2, 6);
    const xp = x.map((v) => (v / Math.sqrt(sigma * sigma + 1)) * Math.sqrt(s2 * s2 + 1));
    const d = denoiseExact(MIX, xp, s2);
    const expected = x.map((v, i) => v - (sigma * (xp[i] - d[i])) / s2);
    const [got] = await model.denoise({ shape: [2, 3, 8, 8], data: x }, sigma, [{ kind: 'none' }]);
    assert.ok(maxAbs(got.data, expected) < 1e-5, `int64 time: ${maxAbs(got.data, expected)}`);
  });

  it('σ = 0 returns x (D(x; 0) = x) without a model call; negative σ is an E_MODEL error; an aborted signal stops', async () => {
    const model = await loadModel({}, writeModel('zero_edm.onnx', MIX, { prediction: 'edm', time: 'edm_cnoise', names: EDM_NAMES }), { sidecar: { time: 'edm_cnoise' } });
    const x = noisyBatch(MIX, 0, 1, 9);
    const before = sessionStats().runs;
    const [d] = await model.denoise({ shape: [1, 3, 8, 8], data: x }, 0, [{ kind: 'none' }]);
    assert.deepEqual([...d.data], [...x]);
    assert.equal(sessionStats().runs, before);
    await assert.rejects(model.denoise({ shape: [1, 3, 8, 8], data: x }, -1, [{ kind: 'none' }]), isErr('E_MODEL', /σ must be finite and ≥ 0/));
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(model.denoise({ shape: [1, 3, 8, 8], data: x }, 1, [{ kind: 'none' }], ac.signal), isErr('E_ABORTED'));
  });

  it('a latent of the wrong shape is an E_SHAPE error naming both shapes', async () => {
    const model = await loadModel({}, writeModel('shape_edm.onnx', MIX, { prediction: 'edm', time: 'sigma', names: EDM_NAMES }));
    await assert.rejects(model.denoise({ shape: [1, 3, 4, 4], data: new Float64Array(48) }, 1, [{ kind: 'none' }]), isErr('E_SHAPE', /\[1,3,4,4\].*\[batch,3,8,8\]/));
  });
});

/** The golden mixture with component k in class k mod 4; label 4 = unconditional. */
const CLASS_MIX: Mixture = { ...MIX, classes: Int32Array.from({ length: 8 }, (_, k) => k % 4), numClasses: 4 };

describe('model/wrap: conditioning and batching', () => {
  after(() => releaseAll());
  const side = { classInput: 'class_labels', numClasses: 4, unconditionalClass: 4 };
  const classItf = { prediction: 'epsilon' as const, time: 'discrete' as const, discrete: SD, names: DIFFUSERS_NAMES, unconditionalClass: 4 };

  it('class labels go to the class input as int64; cond and uncond in ONE batched call equal two separate calls', async () => {
    const model = await loadModel({}, writeModel('class_eps.onnx', CLASS_MIX, classItf, side));
    assert.equal(model.batchable, true);
    assert.deepEqual(model.unconditional, { kind: 'class', label: 4 });
    assert.equal(model.numClasses, 4);
    const sigma = 0.9;
    const x = noisyBatch(MIX, sigma, 3, 21);
    const lat = { shape: [3, 3, 8, 8], data: x };
    const r0 = sessionStats().runs;
    const [c, u] = await model.denoise(lat, sigma, [{ kind: 'class', label: 2 }, { kind: 'none' }]);
    assert.equal(sessionStats().runs - r0, 1, 'one ONNX call for both conditionings');
    const [c1] = await model.denoise(lat, sigma, [{ kind: 'class', label: 2 }]);
    const [u1] = await model.denoise(lat, sigma, [model.unconditional]);
    assert.ok(maxAbs(c.data, c1.data) < 1e-7 && maxAbs(u.data, u1.data) < 1e-7, `batched vs separate: ${maxAbs(c.data, c1.data)}, ${maxAbs(u.data, u1.data)}`);
    const ec = maxAbs(c.data, denoiseExact(CLASS_MIX, x, sigma, [2, 2, 2]));
    const eu = maxAbs(u.data, denoiseExact(CLASS_MIX, x, sigma));
    // x lies far from class 2's components: logits of size ‖x−μ‖²/(2v) ~ 10² carry float32 rounding ~1e-5.
    assert.ok(ec < 3e-5 && eu < 5e-6, `vs closed form: ${ec}, ${eu}`);
    assert.ok(maxAbs(c.data, u.data) > 1e-3, 'the class must matter');
  });

  it('a label list is cycled over the batch items', async () => {
    const model = await loadModel({}, writeModel('class_eps.onnx', CLASS_MIX, classItf, side));
    const sigma = 0.5;
    const x = noisyBatch(MIX, sigma, 5, 22);
    const [c] = await model.denoise({ shape: [5, 3, 8, 8], data: x }, sigma, [{ kind: 'class', label: 0, labels: [0, 3, 1] }]);
    assert.ok(maxAbs(c.data, denoiseExact(CLASS_MIX, x, sigma, [0, 3, 1, 0, 3])) < 5e-6);
  });

  it('labels outside 0..numClasses−1 (other than the unconditional one) and missing unconditional labels are E_MODEL errors', async () => {
    const file = writeModel('class_eps.onnx', CLASS_MIX, classItf, side);
    const model = await loadModel({}, file);
    const lat = { shape: [1, 3, 8, 8], data: noisyBatch(MIX, 1, 1, 3) };
    await assert.rejects(model.denoise(lat, 1, [{ kind: 'class', label: 7 }]), isErr('E_MODEL', /class label 7 is not allowed; use 0\.\.3 or 4/));
    const noUncond = await loadModel({}, file, { sidecar: { classInput: 'class_labels', numClasses: 4 } });
    await assert.rejects(noUncond.denoise(lat, 1, [{ kind: 'none' }]), isErr('E_MODEL', /class_labels.*unconditionalClass/));
    const edm = await loadModel({}, writeModel('plain_edm.onnx', MIX, { prediction: 'edm', time: 'sigma', names: EDM_NAMES }));
    await assert.rejects(edm.denoise(lat, 1, [{ kind: 'class', label: 1 }]), isErr('E_MODEL', /no class-label input.*x: float32\[batch,3,8,8\], sigma: float32\[batch\]/));
  });

  it('a model with a fixed batch of 1 is not batchable: one call per item and conditioning, same results', async () => {
    const fixed = await loadModel({}, writeModel('class_eps_b1.onnx', CLASS_MIX, { ...classItf, batch: 1 }, side));
    const dyn = await loadModel({}, writeModel('class_eps.onnx', CLASS_MIX, classItf, side));
    assert.equal(fixed.batchable, false);
    const sigma = 2;
    const lat = { shape: [2, 3, 8, 8], data: noisyBatch(MIX, sigma, 2, 4) };
    const r0 = sessionStats().runs;
    const a = await fixed.denoise(lat, sigma, [{ kind: 'class', label: 1 }, { kind: 'none' }]);
    assert.equal(sessionStats().runs - r0, 4);
    const b = await dyn.denoise(lat, sigma, [{ kind: 'class', label: 1 }, { kind: 'none' }]);
    assert.ok(maxAbs(a[0].data, b[0].data) < 1e-7 && maxAbs(a[1].data, b[1].data) < 1e-7);
  });

  it('tensor conditionings feed their named input: one item tiled over the batch, or one per item; batched pos/neg', async () => {
    // denoised = x + mean(encoder_hidden_states) per item: a transparent model to check what each item received.
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 2]);
    g.input('sigma', 'float32', ['batch']);
    const e = g.input('encoder_hidden_states', 'float32', ['batch', 3]);
    g.op('Add', [x, g.op('ReduceMean', [e], { axes: { ints: [1] }, keepdims: { int: 1 } })], {}, 'denoised');
    g.output('denoised', 'float32', ['batch', 2]);
    const file = path.join(tmpDir(), 'ehs.onnx');
    fs.writeFileSync(file, g.build({ producer: 'test' }));
    const model = await loadModel({}, file);
    const lat = { shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) };
    const one = { kind: 'tensor' as const, input: 'encoder_hidden_states', shape: [3], data: Float32Array.from([1, 2, 3]) };
    const oneB1 = { ...one, shape: [1, 3] };
    const perItem = { kind: 'tensor' as const, input: 'encoder_hidden_states', shape: [2, 3], data: Float32Array.from([0, 0, 0, 10, 10, 10]) };
    const r0 = sessionStats().runs;
    const [a, b, c] = await model.denoise(lat, 1, [one, oneB1, perItem]);
    assert.equal(sessionStats().runs - r0, 1);
    assert.deepEqual([...a.data], [3, 4, 5, 6]);
    assert.deepEqual([...b.data], [3, 4, 5, 6]);
    assert.deepEqual([...c.data], [1, 2, 13, 14]);
    await assert.rejects(model.denoise(lat, 1, [{ kind: 'none' }]), isErr('E_MODEL', /input "encoder_hidden_states" needs a value/));
    await assert.rejects(model.denoise(lat, 1, [{ ...one, shape: [4], data: new Float32Array(4) }]), isErr('E_SHAPE', /\[batch,3\]|\[3\]/));
    await assert.rejects(model.denoise(lat, 1, [{ ...one, input: 'nope' }]), isErr('E_MODEL', /"nope"/));
  });
});
