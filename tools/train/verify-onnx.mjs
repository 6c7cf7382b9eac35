// Checks models/mnist_unet.onnx in onnxruntime-node against the PyTorch outputs saved by export_onnx.py.
//   node tools/train/verify-onnx.mjs    -> prints the max abs difference; exit code 1 above 1e-4
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const here = dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(readFileSync(join(here, 'runs', 'onnx_ref.json'), 'utf8'));
const b = ref.timestep.length;
const session = await ort.InferenceSession.create(join(here, '..', '..', 'models', 'mnist_unet.onnx'));
const out = await session.run({
  sample: new ort.Tensor('float32', Float32Array.from(ref.sample), [b, 1, 32, 32]),
  timestep: new ort.Tensor('float32', Float32Array.from(ref.timestep), [b]),
  class_labels: new ort.Tensor('int64', BigInt64Array.from(ref.class_labels.map(BigInt)), [b]),
});
const got = out.out_sample.data;
let max = 0;
for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - ref.out_sample[i]));
process.stdout.write(`inputs ${session.inputNames.join(', ')}; output dims [${out.out_sample.dims.join(', ')}]; max |onnxruntime - pytorch| = ${max.toExponential(3)}\n`);
process.exit(max <= 1e-4 ? 0 : 1);
