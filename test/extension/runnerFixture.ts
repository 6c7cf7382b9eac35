/**
 * Fixtures for the runner-process tests: the runner bundled the way scripts/build.mjs bundles it (into out/, so
 * `onnxruntime-node` resolves from the repository's node_modules), and a temporary folder holding a tiny exact
 * Gaussian-mixture ONNX model (the golden 8-component [3,8,8] mixture, EDM interface) with a pipeline for it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { buildGmmOnnx } from '../../tools/gmm/gmm';
import { specFromArgs } from '../../tools/gmm/make-gmm';

const ROOT = path.resolve(__dirname, '..', '..');

let bundled: string | undefined;
/** Bundles extension/runner/main.ts to out/test-runner/runner.js (once per test process). */
export function runnerBundle(): string {
  if (bundled) return bundled;
  const outfile = path.join(ROOT, 'out', 'test-runner', 'runner.js');
  buildSync({
    entryPoints: [path.join(ROOT, 'extension', 'runner', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node'],
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  return (bundled = outfile);
}

export interface PipelineOptions {
  readonly steps?: number;
  readonly seed?: number;
  readonly batch?: number;
}

/** The pipeline text: model → guider.basic; karras schedule; Euler; seeded noise; sample; image + latent outputs. */
export function pipelineText(o: PipelineOptions = {}): string {
  const doc = {
    dpipe: 1,
    metadata: { title: 'runner test' },
    nodes: [
      { id: 'model', type: 'model.onnx', params: { path: 'gmm.onnx' } },
      { id: 'guide', type: 'guider.basic', params: {} },
      { id: 'sched', type: 'schedule.karras', params: { steps: o.steps ?? 6, sigmaMin: 0.01, sigmaMax: 20 } },
      { id: 'solver', type: 'solver.euler', params: {} },
      { id: 'noise', type: 'noise.seeded', params: { seed: o.seed ?? 1 } },
      { id: 'empty', type: 'latent.empty', params: { batch: o.batch ?? 2 } },
      { id: 'sample', type: 'sample', params: {} },
      { id: 'img', type: 'output.image', params: { name: 'img' } },
      { id: 'lat', type: 'output.latent', params: { name: 'lat', dtype: 'float64' } },
    ],
    edges: [
      { from: 'model.model', to: 'guide.model' },
      { from: 'model.model', to: 'empty.model' },
      { from: 'model.model', to: 'img.model' },
      { from: 'guide.guider', to: 'sample.guider' },
      { from: 'solver.sampler', to: 'sample.sampler' },
      { from: 'sched.sigmas', to: 'sample.sigmas' },
      { from: 'noise.noise', to: 'sample.noise' },
      { from: 'empty.latent', to: 'sample.latent' },
      { from: 'sample.latent', to: 'img.latent' },
      { from: 'sample.latent', to: 'lat.latent' },
    ],
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** A temp folder with gmm.onnx (+ sidecar) and `pipeline.dpipe`; returns its paths. */
export function makeWorkspace(o: PipelineOptions = {}): { dir: string; file: string; text: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-runner-'));
  const spec = specFromArgs({ mixture: 'golden', prediction: 'edm' });
  fs.writeFileSync(path.join(dir, 'gmm.onnx'), buildGmmOnnx(spec.mixture, spec.itf));
  fs.writeFileSync(path.join(dir, 'gmm.onnx.json'), JSON.stringify(spec.sidecar, null, 2));
  const text = pipelineText(o);
  const file = path.join(dir, 'pipeline.dpipe');
  fs.writeFileSync(file, text);
  return { dir, file, text, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
