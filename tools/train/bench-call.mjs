// Times one call of models/mnist_unet.onnx in onnxruntime-node (CPU) at batch 1 and 16.
//   node tools/train/bench-call.mjs [--threads N] [--reps 30]
// Prints the median and the 10th–90th percentile range over --reps calls after 3 warm-up calls.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const threads = arg('--threads', 0);
const reps = arg('--reps', 30);
const opts = { graphOptimizationLevel: 'all', ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}) };
const session = await ort.InferenceSession.create(join(here, '..', '..', 'models', 'mnist_unet.onnx'), opts);
for (const b of [1, 16]) {
  const feeds = {
    sample: new ort.Tensor('float32', Float32Array.from({ length: b * 1024 }, (_, i) => Math.sin(i)), [b, 1, 32, 32]),
    timestep: new ort.Tensor('float32', new Float32Array(b).fill(500), [b]),
    class_labels: new ort.Tensor('int64', new BigInt64Array(b).fill(3n), [b]),
  };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  ms.sort((x, y) => x - y);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  process.stdout.write(`batch ${String(b).padStart(2)}: median ${q(0.5).toFixed(1)} ms (p10 ${q(0.1).toFixed(1)}, p90 ${q(0.9).toFixed(1)}) over ${reps} calls, threads ${threads || 'default'}\n`);
}
