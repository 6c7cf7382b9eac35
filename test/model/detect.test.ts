/** Tensor-name and convention detection, sidecar defaults, `describeModel`, and configuration errors. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import { releaseAll } from '../../src/engine/model/onnx';
import { describeModel, loadModel } from '../../src/engine/model/wrap';
import { denoiseExact, DIFFUSERS_NAMES, EDM_NAMES, goldenMixture } from '../../tools/gmm/gmm';
import { FIXTURES, maxAbs, noisyBatch, tmpDir, writeModel } from './util';

const MIX = goldenMixture();
const SD = { betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, numTrainTimesteps: 1000 } as const;
const isErr = (code: string, re?: RegExp) => (e: unknown) => e instanceof DpipeError && e.code === code && (!re || re.test(e.message));

describe('model/detect: names and conventions', () => {
  after(() => releaseAll());

  it('diffusers names (sample/timestep → out_sample) detect ε prediction with discrete time; EDM names (x/sigma → denoised) detect edm/sigma', async () => {
    const vp = await describeModel(path.join(FIXTURES, 'gmm_eps_vp.onnx'));
    assert.deepEqual(vp.inputs.map((i) => [i.name, i.type, i.shape]), [['sample', 'float32', ['batch', 3, 8, 8]], ['timestep', 'float32', ['batch']]]);
    assert.equal(vp.convention.prediction, 'epsilon');
    assert.equal(vp.convention.time, 'discrete');
    assert.equal(vp.convention.inputScaling, 'vp');
    assert.equal(vp.convention.batchable, true);
    assert.deepEqual(vp.convention.sampleShape, [3, 8, 8]);
    assert.deepEqual([vp.sources.sampleInput, vp.sources.timeInput, vp.sources.output, vp.sources.prediction, vp.sources.time, vp.sources.betaSchedule, vp.sources.sampleShape], ['names', 'names', 'names', 'names', 'names', 'default', 'shapes']);
    assert.equal(vp.schedule?.kind, 'discrete');
    assert.equal(vp.schedule?.timesteps, 1000);
    assert.ok(Math.abs((vp.schedule?.sigmaMax ?? 0) - 14.6146412) < 1e-7);
    assert.deepEqual(vp.problems, []);
    assert.match(vp.onnxruntime, /1\.30\.0/);
    assert.match(vp.sha256, /^[0-9a-f]{64}$/);
    const edm = await describeModel(path.join(FIXTURES, 'gmm_edm.onnx'));
    assert.deepEqual([edm.convention.prediction, edm.convention.time, edm.convention.inputScaling, edm.schedule?.kind], ['edm', 'sigma', 'none', 'edm']);
  });

  it('other usual names: y (class), t + velocity (flow), c_noise (EDM), v (v-prediction)', async () => {
    const cls = writeModel('names_y.onnx', { ...MIX, classes: Int32Array.from({ length: 8 }, (_, k) => k % 2), numClasses: 2 },
      { prediction: 'epsilon', time: 'discrete', discrete: SD, names: { sample: 'x_t', time: 'timesteps', output: 'eps', class: 'y' }, unconditionalClass: 2 });
    const d1 = await describeModel(cls);
    assert.deepEqual([d1.convention.sampleInput, d1.convention.timeInput, d1.convention.classInput, d1.convention.output, d1.convention.prediction, d1.convention.time], ['x_t', 'timesteps', 'y', 'eps', 'epsilon', 'discrete']);
    const flow = writeModel('names_flow.onnx', MIX, { prediction: 'flow', time: 'flow', names: { sample: 'latent', time: 't', output: 'velocity' } });
    const d2 = await describeModel(flow);
    assert.deepEqual([d2.convention.prediction, d2.convention.time, d2.convention.inputScaling, d2.schedule?.kind], ['flow', 'flow', 'flow', 'flow']);
    const cn = writeModel('names_cnoise.onnx', MIX, { prediction: 'edm', time: 'edm_cnoise', names: { sample: 'x', time: 'c_noise', output: 'denoised' } });
    const d3 = await describeModel(cn);
    assert.deepEqual([d3.convention.prediction, d3.convention.time], ['edm', 'edm_cnoise']);
    const v = writeModel('names_v.onnx', MIX, { prediction: 'v_prediction', time: 'discrete', discrete: SD, names: { sample: 'sample', time: 'timestep', output: 'v' } });
    const d4 = await describeModel(v);
    assert.deepEqual([d4.convention.prediction, d4.convention.time], ['v_prediction', 'discrete']);
    // and the detected convention is the right one: x̂0 equals the closed form
    const m = await loadModel({}, v);
    const x = noisyBatch(MIX, 0.7, 2, 8);
    const [d] = await m.denoise({ shape: [2, 3, 8, 8], data: x }, 0.7, [{ kind: 'none' }]);
    assert.ok(maxAbs(d.data, denoiseExact(MIX, x, 0.7)) < 5e-6);
  });

  it('unusual names fall back on shapes (the only rank-4 input, the only scalar input, the only output)', async () => {
    const f = writeModel('names_odd.onnx', MIX, { prediction: 'edm', time: 'sigma', names: { sample: 'noisy_thing', time: 'level', output: 'result' } });
    const d = await describeModel(f);
    assert.deepEqual([d.convention.sampleInput, d.sources.sampleInput, d.convention.timeInput, d.sources.timeInput, d.convention.output, d.sources.output], ['noisy_thing', 'shapes', 'level', 'shapes', 'result', 'shapes']);
    assert.equal(d.convention.prediction, undefined);
    assert.match(d.problems.join('\n'), /cannot tell what the network predicts; set prediction to one of epsilon, v_prediction, sample, flow, edm/);
    await assert.rejects(loadModel({}, f), isErr('E_MODEL', /names_odd\.onnx: cannot tell what the network predicts.*outputs: result: float32\[batch,3,8,8\]/));
    const m = await loadModel({ prediction: 'edm', time: 'sigma' }, f);
    assert.deepEqual([m.info.prediction, m.info.time], ['edm', 'sigma']);
  });

  it('bad configuration → E_MODEL listing the model\'s actual inputs', async () => {
    const f = path.join(FIXTURES, 'gmm_eps_vp.onnx');
    await assert.rejects(loadModel({ timeInput: 'sigma' }, f), isErr('E_MODEL', /timeInput "sigma" \(node\) is not an input of the model; it has sample: float32\[batch,3,8,8\], timestep: float32\[batch\]/));
    await assert.rejects(loadModel({ output: 'eps' }, f), isErr('E_MODEL', /output "eps" \(node\) is not an output.*out_sample: float32\[batch,3,8,8\]/));
    await assert.rejects(loadModel({ classInput: 'class_labels' }, f), isErr('E_MODEL', /classInput "class_labels".*sample: float32/));
    await assert.rejects(loadModel({}, path.join(tmpDir(), 'missing.onnx')), isErr('E_FILE_MISSING', /missing\.onnx does not exist/));
    const junk = path.join(tmpDir(), 'junk.onnx');
    fs.writeFileSync(junk, 'not a model');
    await assert.rejects(loadModel({}, junk), isErr('E_MODEL', /Cannot load .*junk\.onnx with onnxruntime/));
  });
});

describe('model/detect: the sidecar', () => {
  after(() => releaseAll());

  it('settings left at auto come from <file>.json; node values win over it', async () => {
    // The generic names say nothing about v-prediction or the linear schedule: only the sidecar does.
    const disc = { betaSchedule: 'linear', betaStart: 1e-4, betaEnd: 0.02, numTrainTimesteps: 1000 } as const;
    const f = writeModel('side_v.onnx', MIX, { prediction: 'v_prediction', time: 'discrete', discrete: disc, names: DIFFUSERS_NAMES },
      { dpipeModel: 1, description: 'v model', prediction: 'v_prediction', time: 'discrete', ...disc, valueRange: [-2, 2], sampleShape: [3, 8, 8] });
    const m = await loadModel({ prediction: 'auto', time: 'auto', betaSchedule: 'auto', betaStart: 0, betaEnd: 0, numTrainTimesteps: 0, sampleInput: '' }, f);
    assert.deepEqual([m.info.prediction, m.info.time, m.valueRange], ['v_prediction', 'discrete', [-2, 2]]);
    const x = noisyBatch(MIX, 1.3, 2, 1);
    const [d] = await m.denoise({ shape: [2, 3, 8, 8], data: x }, 1.3, [{ kind: 'none' }]);
    assert.ok(maxAbs(d.data, denoiseExact(MIX, x, 1.3)) < 5e-6);
    const desc = await describeModel(f);
    assert.deepEqual([desc.sources.prediction, desc.sources.betaSchedule, desc.sources.output, desc.description, desc.sidecarPath], ['sidecar', 'sidecar', 'names', 'v model', `${f}.json`]);
    // The node overrides the sidecar (a deliberately wrong override changes the answer).
    const wrong = await loadModel({ prediction: 'epsilon' }, f);
    assert.equal(wrong.info.prediction, 'epsilon');
    const [w] = await wrong.denoise({ shape: [2, 3, 8, 8], data: x }, 1.3, [{ kind: 'none' }]);
    assert.ok(maxAbs(w.data, d.data) > 1e-2);
    assert.ok(Math.abs(m.schedule.sigmaMin - Math.sqrt(1e-4 / (1 - 1e-4))) < 1e-12);
  });

  it('sidecar values of the wrong type are E_MODEL errors naming the key and what is allowed; unknown keys are reported, not fatal', async () => {
    const f = writeModel('side_bad.onnx', MIX, { prediction: 'edm', time: 'sigma', names: EDM_NAMES });
    fs.writeFileSync(`${f}.json`, JSON.stringify({ prediction: 'eps' }));
    await assert.rejects(loadModel({}, f), isErr('E_MODEL', /"prediction" must be one of auto, epsilon, v_prediction, sample, flow, edm; got "eps"/));
    fs.writeFileSync(`${f}.json`, '{ not json');
    await assert.rejects(loadModel({}, f), isErr('E_MODEL', /side_bad\.onnx\.json is not valid JSON/));
    fs.writeFileSync(`${f}.json`, JSON.stringify({ numTrainTimesteps: 10.5 }));
    await assert.rejects(loadModel({}, f), isErr('E_MODEL', /"numTrainTimesteps" must be an integer/));
    fs.writeFileSync(`${f}.json`, JSON.stringify({ prediction: 'edm', trainedOn: 'mnist' }));
    const d = await describeModel(f);
    assert.match(d.problems.join('\n'), /sidecar key "trainedOn" is not a model\.onnx parameter and is ignored/);
    const m = await loadModel({}, f);
    assert.equal(m.info.prediction, 'edm');
  });

  it('the demo model models/mnist_gmm.onnx loads from its sidecar alone: class-conditional, label 10 unconditional, [1,32,32], range [-1,1]', async () => {
    const file = path.join(__dirname, '..', '..', 'models', 'mnist_gmm.onnx');
    const m = await loadModel({}, file);
    assert.deepEqual([m.info.prediction, m.info.time, m.numClasses, m.unconditional, m.sampleShape, m.valueRange, m.batchable],
      ['epsilon', 'discrete', 10, { kind: 'class', label: 10 }, [1, 32, 32], [-1, 1], true]);
    assert.ok(fs.statSync(file).size < 2.1e6);
  });
});
