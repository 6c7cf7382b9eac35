/**
 * Test doubles for the runner: a closed-form Gaussian denoiser injected through `RunOptions.loadModel` (no ONNX),
 * and a node-type table = the engine's registry plus a plain Euler solver where the registry has none yet.
 */
import { combine, latent } from '../../src/engine/core/latent';
import type { Latent } from '../../src/engine/core/types';
import { defineSolver, type NodeType } from '../../src/engine/registry/node';
import { nodeTypes } from '../../src/engine/registry/index';
import type { CondValue, ModelValue } from '../../src/engine/registry/types';

/**
 * Data x0 ~ N(mu, s²·I) per element: the exact denoiser is D(x; σ) = mu + s²/(s²+σ²)·(x − mu).
 * A class label c shifts the mean to mu + c (so guidance is visible); `delayMs` makes each call slow.
 */
export interface GaussOptions {
  readonly mu?: number;
  readonly s?: number;
  readonly shape?: readonly number[];
  readonly delayMs?: number;
  readonly valueRange?: readonly [number, number];
  /** Counts ONNX-like calls (one per `denoise`, whatever the number of conds). */
  readonly calls?: { n: number };
}

export function gaussDenoise(x: ArrayLike<number>, sigma: number, mu: number, s: number): Float64Array {
  const k = (s * s) / (s * s + sigma * sigma);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = mu + k * (x[i] - mu);
  return out;
}

export function gaussModel(o: GaussOptions = {}): ModelValue {
  const mu = o.mu ?? 0.25;
  const s = o.s ?? 0.5;
  return {
    schedule: { sigmaMin: 0.002, sigmaMax: 80, kind: 'edm' },
    sampleShape: o.shape ?? [1, 4, 4],
    valueRange: o.valueRange,
    unconditional: { kind: 'none' },
    batchable: true,
    async denoise(x: Latent, sigma: number, conds: readonly CondValue[]): Promise<Latent[]> {
      if (o.calls) o.calls.n++;
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      return conds.map((c) => latent(x.shape, gaussDenoise(x.data, sigma, mu + (c.kind === 'class' ? c.label : 0), s)));
    },
    info: { path: '/models/gauss.onnx', sha256: 'ab'.repeat(32), prediction: 'edm', time: 'sigma' },
  };
}

/**
 * Euler on the probability-flow ODE (Karras et al. 2022, Alg. 1 without the second-order correction): the test's
 * own solver, so runner tests do not depend on the solver library.
 */
export const TEST_EULER: NodeType = defineSolver({
  type: 'test.euler',
  title: 'Euler (test)',
  doc: 'Euler for tests.',
  paper: 'Karras et al. 2022, Alg. 1',
  params: [],
  order: 1,
  nfePerStep: 1,
  stochastic: false,
  tests: { orderTestedElsewhere: 'a test helper, not a registry block' },
  async solve(model, x, sigmas, _o, ctx) {
    for (let i = 0; i < sigmas.length - 1; i++) {
      const d = await model(x, sigmas[i], { step: i, role: 'predictor' });
      const dt = sigmas[i + 1] - sigmas[i];
      const next = combine(x, [[1 + dt / sigmas[i], x], [-dt / sigmas[i], d]]);
      ctx.onStep?.({ step: i, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x: next, denoised: d });
      x = next;
    }
    return x;
  },
});

export function testTypes(): Map<string, NodeType> {
  const m = new Map(nodeTypes());
  m.set(TEST_EULER.type, TEST_EULER);
  return m;
}

/** Euler on the Gaussian: x_{i+1} − mu = (x_i − mu)·(1 + (σ_{i+1} − σ_i)·σ_i/(s² + σ_i²)). */
export function eulerGaussFinal(xT: ArrayLike<number>, sigmas: ArrayLike<number>, mu: number, s: number): Float64Array {
  let f = 1;
  for (let i = 0; i < sigmas.length - 1; i++) f *= 1 + ((sigmas[i + 1] - sigmas[i]) * sigmas[i]) / (s * s + sigmas[i] * sigmas[i]);
  return Float64Array.from(xT, (v) => mu + (v - mu) * f);
}

/** A small pipeline text for the fake model: karras schedule, Euler, seeded noise, image + latent outputs. */
export function gaussPipeline(o: { steps?: number; seed?: number; batch?: number; solver?: string; noise?: object; extraNodes?: object[]; extraEdges?: object[] } = {}): string {
  const doc = {
    dpipe: 1,
    metadata: { title: 'gauss test — σ' },
    nodes: [
      { id: 'model', type: 'model.onnx', params: { path: 'gauss.onnx' } },
      { id: 'guider', type: 'guider.basic', params: {} },
      { id: 'sched', type: 'schedule.karras', params: { steps: o.steps ?? 6, sigmaMin: 0.01, sigmaMax: 10, rho: 7 } },
      { id: 'solver', type: o.solver ?? 'test.euler', params: {} },
      o.noise ?? { id: 'noise', type: 'noise.seeded', params: { seed: o.seed ?? 3 } },
      { id: 'latent', type: 'latent.empty', params: { batch: o.batch ?? 2 } },
      { id: 'sample', type: 'sample', params: {} },
      { id: 'img', type: 'output.image', params: { name: 'img', scale: 2 } },
      { id: 'save', type: 'output.latent', params: { name: 'final' } },
      ...(o.extraNodes ?? []),
    ],
    edges: [
      { from: 'model.model', to: 'guider.model' },
      { from: 'model.model', to: 'latent.model' },
      { from: 'guider.guider', to: 'sample.guider' },
      { from: 'solver.sampler', to: 'sample.sampler' },
      { from: 'sched.sigmas', to: 'sample.sigmas' },
      { from: 'noise.noise', to: 'sample.noise' },
      { from: 'latent.latent', to: 'sample.latent' },
      { from: 'sample.latent', to: 'img.latent' },
      { from: 'sample.latent', to: 'save.latent' },
      ...(o.extraEdges ?? []),
    ],
  };
  return JSON.stringify(doc, null, 2);
}
