/**
 * Fixtures for the inspector tests: hand-made trajectories written with the engine's own recorder (so the files
 * are exactly what a run writes), and runs of the closed-form Gaussian model (test/run/helpers.ts).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { latent } from '../../src/engine/core/latent';
import { loadPipeline } from '../../src/engine/format/index';
import type { PipelineDoc } from '../../src/engine/format/types';
import { runPipeline, Trajectory, type RunOptions, type RunResult } from '../../src/engine/run/index';
import { gaussModel, gaussPipeline, testTypes } from '../run/helpers';

export const MU = 0.25;
export const S = 0.5;

export function tmpDir(tag = 'inspect'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dpipe-${tag}-`));
}

export interface HandEval {
  readonly sigma: number;
  readonly step: number;
  readonly role?: string;
  readonly x: (k: number) => number;
  readonly denoised: (k: number) => number;
  readonly branches?: Readonly<Record<string, (k: number) => number>>;
}

/** Writes a trajectory folder `dir/trajectory` with one Sample node `node` of `shape` and the given evaluations. */
export function writeHandTrajectory(dir: string, shape: readonly number[], evals: readonly HandEval[], opts: { node?: string; sigmas?: number[]; final?: (k: number) => number } = {}): string {
  const node = opts.node ?? 's';
  const n = shape.reduce((a, b) => a * b, 1);
  const t = new Trajectory({ dir: path.join(dir, 'trajectory'), persist: true });
  t.startSample(node, shape, opts.sigmas ?? [...new Set(evals.map((e) => e.sigma))]);
  const arr = (f: (k: number) => number) => latent(shape, Float64Array.from({ length: n }, (_, k) => f(k)));
  for (const [index, e] of evals.entries()) {
    const branches = e.branches ? Object.fromEntries(Object.entries(e.branches).map(([b, f]) => [b, arr(f)])) : undefined;
    t.add(node, { index, step: e.step, sigma: e.sigma, role: e.role ?? 'predictor', x: arr(e.x), denoised: arr(e.denoised), branches, modelMs: 1 }, 0.5);
  }
  if (opts.final) t.finishSample(node, arr(opts.final));
  t.close();
  return path.join(dir, 'trajectory');
}

export function loadDoc(text: string, baseDir: string): PipelineDoc {
  const r = loadPipeline(text, { registry: testTypes(), baseDir, checkFiles: false });
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
  return r.doc!;
}

export function gaussOptions(dir: string, extra: Partial<RunOptions> = {}): RunOptions {
  return { baseDir: dir, file: path.join(dir, 'p.dpipe'), nodeTypes: testTypes(), loadModel: async () => gaussModel({ mu: MU, s: S }), runtimeVersion: 'test', ...extra };
}

/** Runs the Gaussian test pipeline into `dir/out` (trajectory on disk, run.json). */
export async function gaussRun(dir: string, o: { steps?: number; seed?: number; batch?: number; solver?: string; out?: string } = {}): Promise<RunResult> {
  const doc = loadDoc(gaussPipeline(o), dir);
  return runPipeline(doc, gaussOptions(dir, { outDir: path.join(dir, o.out ?? 'out') }));
}

/** The exact PF-ODE solution for the Gaussian data N(mu, s²): x(σ) = mu + (x_T − mu)·√(s²+σ²)/√(s²+σ_T²). */
export function exactGauss(xT: ArrayLike<number>, sigmaT: number, sigma: number): Float64Array {
  const f = Math.sqrt(S * S + sigma * sigma) / Math.sqrt(S * S + sigmaT * sigmaT);
  return Float64Array.from(xT, (v) => MU + (v - MU) * f);
}

export function rms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

export function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

/** What the reference and sweep need to run the Gaussian pipelines. */
export function gaussServices(dir: string): { baseDir: string; nodeTypes: ReturnType<typeof testTypes>; loadModel: RunOptions['loadModel'] } {
  return { baseDir: dir, nodeTypes: testTypes(), loadModel: async () => gaussModel({ mu: MU, s: S }) };
}
