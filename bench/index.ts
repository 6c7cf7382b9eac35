/**
 * `npm run bench`: where a run's time goes, on the demo model. For each example pipeline, the engine's own time
 * per step (solver arithmetic, guidance combination, NaN checks, trajectory recording: a step's wall time minus
 * the time inside the model) beside the model's time per step, and the ratio of the whole run's time to
 * NFE × one bare model call (the same batch and conditionings, timed on their own). Runs are in-process with no
 * output folder, after a warm-up run, median of several repetitions.
 *
 *   npm run bench                      # the default examples, 5 repetitions
 *   npm run bench -- --reps 9 heun cfg # chosen examples
 *   npm run bench -- --model models/mnist_unet.onnx --threads 1
 *
 * Then the model folders (bench/sd.ts): the tiny SD 1.5 / SDXL / SD3 folders with their prompt, CFG and VAE.
 *
 * Examples whose model file is absent are skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { latent } from '../src/engine/core/latent';
import { loadPipeline, type PipelineDoc } from '../src/engine/format/index';
import { loadModel, onnxruntimeVersion } from '../src/engine/model/index';
import type { CondValue, ModelValue } from '../src/engine/registry/types';
import { runPipeline, type RunResult } from '../src/engine/run/index';
import './inspector'; // the Latent Inspector's benchmark (synchronous: it runs and prints before the runs below)
import './noise'; // the torch-noise benchmark (synchronous, likewise)
import { benchSd } from './sd';

const ROOT = path.resolve(__dirname, '..');
const DEFAULT = ['euler-karras', 'heun', 'dpmpp-2m-karras', 'euler-ancestral', 'cfg', 'unet-dpmpp-2m-karras'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function loadExample(name: string, model?: string): { doc: PipelineDoc; baseDir: string } | undefined {
  const file = path.join(ROOT, 'examples', `${name}.dpipe`);
  const r = loadPipeline(fs.readFileSync(file, 'utf8'), { file, checkFiles: model === undefined });
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length && errors.every((p) => p.code === 'E_FILE_MISSING' && /\.onnx\b/.test(p.message))) return undefined;
  if (!r.doc || errors.length) throw new Error(`${name}: ${errors.map((e) => e.message).join('; ')}`);
  let doc = r.doc;
  if (model) {
    const rel = path.relative(path.dirname(file), path.resolve(model));
    doc = { ...doc, nodes: doc.nodes.map((n) => (n.type === 'model.onnx' ? { ...n, params: { ...n.params, path: rel } } : n)) };
  }
  return { doc, baseDir: path.dirname(file) };
}

/** Median time of one bare model call at a mid-range σ, batch and conditionings as in the run. */
async function oneCall(model: ModelValue, shape: readonly number[], conds: readonly CondValue[], reps: number): Promise<number> {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = latent(shape, Float64Array.from({ length: n }, (_, i) => Math.sin(i)));
  const times: number[] = [];
  for (let k = 0; k < reps + 2; k++) {
    const t0 = performance.now();
    await model.denoise(x, 1, conds);
    if (k >= 2) times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { reps: { type: 'string', default: '5' }, model: { type: 'string' }, threads: { type: 'string' } },
    allowPositionals: true,
  });
  const reps = Math.max(1, Number(values.reps));
  const names = positionals.length ? positionals : DEFAULT;
  const rows: string[][] = [];
  for (const name of names) {
    const ex = loadExample(name, values.model);
    if (!ex) {
      console.error(`${name}: skipped, its model file is not there`);
      continue;
    }
    const { doc, baseDir } = ex;
    const set = values.threads ? [`model.threads=${values.threads}`] : [];
    const runs: RunResult[] = [];
    for (let k = 0; k <= reps; k++) {
      const r = await runPipeline(doc, { baseDir, set });
      if (k > 0) runs.push(r); // the first run warms the session up
    }
    const rec = runs[0].record;
    const s = rec.samples[0];
    const steps = s.steps;
    const nfe = rec.nfe;
    const modelPath = rec.models[0].path;
    const modelParams = { ...doc.nodes.find((n) => n.type === 'model.onnx')!.params, ...(values.threads ? { threads: Number(values.threads) } : {}) };
    const model = await loadModel(modelParams, modelPath);
    const labels = (doc.nodes.find((n) => n.type === 'cond.class')?.params.labels as number[] | undefined) ?? [0];
    const cond: CondValue = labels.length > 1 ? { kind: 'class', label: labels[0], labels } : { kind: 'class', label: labels[0] };
    const cfg = doc.nodes.some((n) => n.type === 'guider.cfg');
    const call = await oneCall(model, s.shape, cfg ? [cond, model.unconditional] : [cond], Math.max(10, nfe));
    const med = (f: (r: RunResult) => number) => median(runs.map(f));
    // Per-step medians over all repetitions: robust to the scheduler's stalls on a busy machine.
    const stepTimes = runs.flatMap((r) => r.record.samples[0].stepTimes);
    const modelPerStep = median(stepTimes.map((t) => t.modelMs));
    const enginePerStep = median(stepTimes.map((t) => t.engineMs));
    const trajPerStep = med((r) => r.record.timings.trajectoryMs) / steps;
    const sampleMs = med((r) => r.record.timings.sampleMs);
    const totalMs = med((r) => r.record.timings.totalMs);
    rows.push([
      name, path.basename(modelPath), String(steps), String(nfe), `[${s.shape.join('×')}]${cfg ? ' cfg' : ''}`,
      modelPerStep.toFixed(3), enginePerStep.toFixed(3), trajPerStep.toFixed(3), (enginePerStep / modelPerStep).toFixed(3),
      call.toFixed(3), (sampleMs / (nfe * call)).toFixed(3), (totalMs / (nfe * call)).toFixed(3),
    ]);
  }
  const head = ['example', 'model', 'steps', 'NFE', 'batch', 'model ms/step', 'engine ms/step', '(trajectory)', 'engine/model', '1 call ms', 'sample/(NFE×call)', 'run/(NFE×call)'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(`dpipe bench — ${onnxruntimeVersion()}, node ${process.version}, ${values.threads ? `${values.threads} thread(s)` : 'default threads'}, median of ${reps} runs after a warm-up`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log('model, engine ms/step: medians over every step of every repetition; engine = step wall time − time inside the model');
  console.log('(solver arithmetic, guidance combination, NaN checks, trajectory recording; the trajectory column is its mean share).');
  console.log('1 call ms: median bare ModelValue.denoise call, same batch and conditionings. sample/(NFE×call): the Sample block\'s');
  console.log('wall time over NFE bare calls; run/(NFE×call): the whole runPipeline call (model loading from the session cache,');
  console.log('schedule, outputs: PNG encoding and the .npy), median over repetitions.');
  if (positionals.length === 0) await benchSd(reps, 25);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
