/**
 * Model folders (Stable Diffusion / SDXL / SD3 in Optimum's ONNX layout), on the tiny test folders: time per solver
 * step, one bare denoiser call (cond + uncond batched), the Sample block's wall time over NFE × that call (the engine's
 * overhead beside the model), and the peak memory of a whole `dpipe run`-like process (a fresh child process per
 * folder: model loading, prompt encoding, sampling, VAE decode, files).
 *
 *   node --import tsx bench/sd.ts [--reps 5] [--steps 25]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { latent } from '../src/engine/core/latent';
import { readModelFolder } from '../src/engine/model/folder';
import { loadModelFolder } from '../src/engine/model/folderModel';
import { folderPipeline } from '../src/engine/model/folderPipeline';
import { onnxruntimeVersion } from '../src/engine/model/onnx';
import { nodeTypes } from '../src/engine/registry/index';
import { runPipeline, type RunResult } from '../src/engine/run/index';
import { encodePrompt } from '../src/engine/text/encode';

const ROOT = path.resolve(__dirname, '..');
const SD = path.join(ROOT, 'test', 'fixtures', 'sd');
const FOLDERS = ['tiny-sd15', 'tiny-sdxl', 'tiny-sd3'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function pipelineFor(name: string, steps: number) {
  const f = await readModelFolder(path.join(SD, name));
  return folderPipeline(f, { modelPath: path.join(SD, name), prompt: 'a photo of an astronaut riding a horse on mars', negative: '', steps }, nodeTypes());
}

/** One process's run, for its peak memory (`--child NAME`): prints the run record's timings and maxRSS as JSON. */
async function child(name: string, steps: number): Promise<void> {
  const doc = await pipelineFor(name, steps);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-bench-sd-'));
  const r = await runPipeline(doc, { baseDir: ROOT, outDir: out });
  fs.rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ nfe: r.record.nfe, totalMs: r.record.timings.totalMs, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}

export async function benchSd(reps: number, steps: number): Promise<void> {
  const rows: string[][] = [];
  for (const name of FOLDERS) {
    const doc = await pipelineFor(name, steps);
    const runs: RunResult[] = [];
    for (let k = 0; k <= reps; k++) {
      const r = await runPipeline(doc, { baseDir: ROOT });
      if (k > 0) runs.push(r);
    }
    const rec = runs[0].record;
    const s = rec.samples[0];
    const loaded = await loadModelFolder(path.join(SD, name));
    const [cond, uncond] = [(await encodePrompt(loaded.text, 'a photo of an astronaut riding a horse on mars')).cond, (await encodePrompt(loaded.text, '')).cond];
    const n = s.shape.reduce((a, b) => a * b, 1);
    const x = latent(s.shape, Float64Array.from({ length: n }, (_, i) => Math.sin(i)));
    const times: number[] = [];
    for (let k = 0; k < Math.max(10, rec.nfe) + 2; k++) {
      const t0 = performance.now();
      await loaded.model.denoise(x, 1, [cond, uncond]);
      if (k >= 2) times.push(performance.now() - t0);
    }
    const call = median(times);
    const stepTimes = runs.flatMap((r) => r.record.samples[0].stepTimes);
    const stepMs = median(stepTimes.map((t) => t.wallMs));
    const engineMs = median(stepTimes.map((t) => t.engineMs));
    const sampleMs = median(runs.map((r) => r.record.timings.sampleMs));
    const c = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', name, '--steps', String(steps)], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    const mem = c.status === 0 ? (JSON.parse(c.stdout.trim().split('\n').pop()!) as { maxRssKB: number; totalMs: number }) : undefined;
    rows.push([
      name, rec.samples[0].sampler, `[${s.shape.join('×')}]`, String(rec.nfe), stepMs.toFixed(2), engineMs.toFixed(3), call.toFixed(2),
      (sampleMs / (rec.nfe * call)).toFixed(3), mem ? (mem.maxRssKB / 1024).toFixed(0) : '?', mem ? (mem.totalMs / 1000).toFixed(2) : '?',
    ]);
  }
  const head = ['folder', 'solver', 'latent', 'NFE', 'step ms', 'engine ms/step', '1 call ms (cond+uncond)', 'sample/(NFE×call)', 'peak RSS MB', 'process run s'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c2, i) => (i === 0 ? c2.padEnd(w[i]) : c2.padStart(w[i]))).join('  ');
  console.log(`\nModel folders — ${onnxruntimeVersion()}, CFG with negative prompt, ${steps} steps, median of ${reps} runs after a warm-up`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log('step ms: a solver step\'s wall time (one guided evaluation: cond and uncond in one batched call); engine = step − model.');
  console.log('peak RSS: a fresh process running the whole pipeline (load, encode the prompts, sample, VAE decode, write files).');
}

if (require.main === module) {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' }, steps: { type: 'string', default: '25' }, child: { type: 'string' } } });
  const steps = Number(values.steps);
  (values.child ? child(values.child, steps) : benchSd(Math.max(1, Number(values.reps)), steps)).catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
