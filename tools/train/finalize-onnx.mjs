// Declares the full output shape of models/mnist_unet.onnx: out_sample [batch, 1, 32, 32].
//   node tools/train/finalize-onnx.mjs [MODEL.onnx]      (export_onnx.py runs it)
// torch 1.13 exports GroupNorm as Reshape → InstanceNormalization → Reshape(Shape(x)), which ONNX shape inference
// cannot follow, so the exported graph declares the output's spatial dimensions as unknown. This rewrites only
// that declaration (graph.output), not the computation.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
const here = dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? join(here, '..', '..', 'models', 'mnist_unet.onnx');
const model = onnx.ModelProto.decode(readFileSync(file));
const out = model.graph.output.find((o) => o.name === 'out_sample');
if (!out) throw new Error(`${file} has no output out_sample`);
out.type.tensorType.shape = { dim: [{ dimParam: 'batch' }, { dimValue: 1 }, { dimValue: 32 }, { dimValue: 32 }] };
writeFileSync(file, onnx.ModelProto.encode(model).finish());
process.stdout.write(`${file}: out_sample declared as [batch, 1, 32, 32]\n`);
