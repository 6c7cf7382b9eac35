import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { float32, inspect, int64, run, toFloat64 } from '../../src/engine/model/onnx';
import { describeModel, loadModel } from '../../src/engine/model/index';
import { MODEL_ONNX_PARAMS, SIDECAR_EXTRA_KEYS } from '../../src/engine/model/params';
import { parseNpy } from '../../src/engine/core/npy';

const MODEL = path.join(__dirname, '..', '..', 'models', 'mnist_unet.onnx');
const fixture = (name: string) => parseNpy(fs.readFileSync(path.join(__dirname, 'fixtures', name)));

/** σ_t = √((1 − ᾱ_t)/ᾱ_t) for DDPM's linear betas 1e-4..0.02 over 1000 steps (float64, as diffusers). */
function ddpmSigmas(): number[] {
  const out: number[] = [];
  let abar = 1;
  for (let t = 0; t < 1000; t++) {
    abar *= 1 - (1e-4 + ((0.02 - 1e-4) * t) / 999);
    out.push(Math.sqrt((1 - abar) / abar));
  }
  return out;
}

describe('models/mnist_unet.onnx: the trained demo model', () => {
  it('is at most 10 MB and has the declared tensors with a dynamic batch', async () => {
    assert.ok(fs.statSync(MODEL).size <= 10 * 1024 * 1024);
    const io = await inspect(MODEL);
    assert.deepEqual(io.inputs.map((t) => [t.name, t.type, t.shape.length, t.shape.slice(1)]), [
      ['sample', 'float32', 4, [1, 32, 32]],
      ['timestep', 'float32', 1, []],
      ['class_labels', 'int64', 1, []],
    ]);
    assert.deepEqual(io.outputs.map((t) => [t.name, t.type, t.shape.slice(1)]), [['out_sample', 'float32', [1, 32, 32]]]);
    for (const t of [...io.inputs, ...io.outputs]) assert.equal(typeof t.shape[0], 'string', `${t.name} has a symbolic batch dimension`);
  });

  it('sidecar: only model.onnx parameter names, and the engine reads it with no problem', async () => {
    const side = JSON.parse(fs.readFileSync(`${MODEL}.json`, 'utf8')) as Record<string, unknown>;
    const allowed = new Set<string>([...MODEL_ONNX_PARAMS.map((p) => p.name), ...SIDECAR_EXTRA_KEYS]);
    for (const k of Object.keys(side)) assert.ok(allowed.has(k), `unknown sidecar key ${k}`);
    assert.equal(side.dpipeModel, 1);
    const d = await describeModel(MODEL);
    assert.deepEqual(d.problems, []);
    assert.equal(d.convention.prediction, 'v_prediction');
    assert.equal(d.convention.time, 'discrete');
    assert.equal(d.sources.prediction, 'sidecar');
    const s = ddpmSigmas();
    assert.equal(d.schedule?.kind, 'discrete');
    assert.equal(d.schedule?.timesteps, 1000);
    assert.ok(Math.abs(d.schedule!.sigmaMin - s[0]) < 1e-9 * s[0], `σ_min ${d.schedule!.sigmaMin} vs ${s[0]}`);
    assert.ok(Math.abs(d.schedule!.sigmaMax - s[999]) < 1e-9 * s[999], `σ_max ${d.schedule!.sigmaMax} vs ${s[999]}`);
  });

  it('onnxruntime reproduces the PyTorch outputs saved at export (timesteps 999, 250.5, 0; labels 0, 7, 10)', async () => {
    const x = fixture('mnist_unet_ref_sample.npy');
    const ref = fixture('mnist_unet_ref_out.npy');
    assert.deepEqual(x.shape, [3, 1, 32, 32]);
    const out = await run(MODEL, {
      sample: float32(Float32Array.from(x.data), x.shape),
      timestep: float32(Float32Array.from([999, 250.5, 0]), [3]),
      class_labels: int64([0, 7, 10], [3]),
    });
    assert.deepEqual(out.out_sample.dims, [3, 1, 32, 32]);
    const got = toFloat64(out.out_sample);
    let max = 0;
    for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - ref.data[i]));
    assert.ok(max < 1e-4, `max |onnxruntime − pytorch| = ${max}`);
  });

  it('pointed at by a node with no settings, it denoises as a v-prediction model: x̂0 = α·x_vp − σ_vp·v', async () => {
    const model = await loadModel({ path: MODEL }, MODEL);
    assert.deepEqual(model.sampleShape, [1, 32, 32]);
    assert.deepEqual(model.unconditional, { kind: 'class', label: 10 });
    const sigma = ddpmSigmas()[500];
    const n = 2 * 1024;
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * sigma);
    const [den] = await model.denoise({ shape: [2, 1, 32, 32], data: x }, sigma, [{ kind: 'class', label: 4, labels: [4, 9] }]);
    assert.deepEqual(den.shape, [2, 1, 32, 32]);
    const a = 1 / Math.sqrt(sigma * sigma + 1);
    const xvp = Float32Array.from(x, (v) => v * a);
    const raw = await run(MODEL, { sample: float32(xvp, [2, 1, 32, 32]), timestep: float32(Float32Array.from([500, 500]), [2]), class_labels: int64([4, 9], [2]) });
    const v = toFloat64(raw.out_sample);
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(den.data[i] - (a * xvp[i] - sigma * a * v[i])));
    assert.ok(max < 1e-3, `max deviation ${max}`);
  });
});
