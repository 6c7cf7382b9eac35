/**
 * A Brownian-tree noise source (the virtual Brownian tree of Li et al. 2020, "Scalable Gradients for Stochastic
 * Differential Equations", §4 / torchsde `BrownianTree`, as used by k-diffusion's `BrownianTreeNoiseSampler`):
 * one Brownian path W(t) per batch item over t ∈ [σ_min, σ_max] of the run's schedule (t = σ, k-diffusion's
 * default transform), generated lazily by bisection, so that the noise of an interval depends only on the
 * interval and the seed — not on how many steps the schedule has. The sampler returns the normalized increment
 * (W(σ_next) − W(σ))/√|σ_next − σ| (standard normal for each interval; increments of adjacent intervals sum).
 *
 * The NOISE block `noise.brownian` wraps a seeded noise source so that its per-step draws come from these trees.
 *
 * Algorithm (part of the .dpipe format, like the seeded generator; changing it changes seeded SDE runs):
 * - Values come from `normalDraw` (noise/seeded.ts: Philox4x32-10 + Box–Muller in exact arithmetic) with the
 *   item's seed, stream 2 (`STREAM_BROWNIAN`) and a draw counter per tree node.
 * - Root: W(σ_min) = 0, W(σ_max) = √(σ_max − σ_min)·N[draw 0].
 * - Node k (heap numbering, root interval k = 1, children 2k and 2k + 1) over [a, b] with m = (a + b)/2:
 *   W(m) = (W(a) + W(b))/2 + √((b − a)/4)·N[draw k] (the Brownian bridge at the midpoint).
 * - A query descends to depth 30 (intervals of (σ_max − σ_min)/2³⁰) and interpolates linearly inside the leaf;
 *   queries outside [σ_min, σ_max] are clamped (σ = 0 maps to σ_min). A zero-length clamped interval gives 0.
 */
import { DpipeError } from '../core/errors';
import type { NoiseSampler } from '../core/types';
import { defineBlock } from '../registry/node';
import { defineParams } from '../registry/params';
import type { NoiseValue } from '../registry/types';
import { normalDraw, seededNoise } from './seeded';

export const STREAM_BROWNIAN = 2;
export const BROWNIAN_DEPTH = 30;

/** One item's Brownian path W over [t0, t1] with W(t0) = 0. */
export class BrownianPath {
  private readonly cache = new Map<number, Float64Array>();
  private readonly w1: Float64Array;
  constructor(
    private readonly seed: number,
    private readonly size: number,
    readonly t0: number,
    readonly t1: number,
  ) {
    if (!(t1 > t0)) throw new DpipeError('E_INTERNAL', `Brownian tree over an empty interval [${t0}, ${t1}]`);
    this.w1 = this.draw(0).map((z) => z * Math.sqrt(t1 - t0));
  }

  private draw(k: number): Float64Array {
    return normalDraw(this.seed, STREAM_BROWNIAN, k, new Float64Array(this.size));
  }

  private node(k: number, a: number, b: number, wa: Float64Array, wb: Float64Array): Float64Array {
    let w = this.cache.get(k);
    if (!w) {
      const z = this.draw(k);
      const sd = Math.sqrt((b - a) / 4);
      w = new Float64Array(this.size);
      for (let i = 0; i < this.size; i++) w[i] = 0.5 * (wa[i] + wb[i]) + sd * z[i];
      if (this.cache.size >= 8 * BROWNIAN_DEPTH) this.cache.delete(this.cache.keys().next().value as number); // oldest first
      this.cache.set(k, w);
    }
    return w;
  }

  private last: [number, Float64Array][] = [];

  /** W(t), t clamped to [t0, t1]. */
  at(t: number): Float64Array {
    const tc = Math.min(this.t1, Math.max(this.t0, t));
    const hit = this.last.find(([u]) => u === tc);
    if (hit) return Float64Array.from(hit[1]);
    const w = this.walk(tc);
    this.last = [[tc, w], ...this.last.slice(0, 1)]; // consecutive steps share an end point
    return Float64Array.from(w);
  }

  private walk(tc: number): Float64Array {
    let a = this.t0;
    let b = this.t1;
    let wa: Float64Array = new Float64Array(this.size);
    let wb = this.w1;
    if (tc === a) return wa;
    if (tc === b) return Float64Array.from(wb);
    let k = 1;
    for (let depth = 0; depth < BROWNIAN_DEPTH; depth++) {
      const m = 0.5 * (a + b);
      const wm = this.node(k, a, b, wa, wb);
      if (tc === m) return Float64Array.from(wm);
      if (tc < m) { b = m; wb = wm; k = 2 * k; } else { a = m; wa = wm; k = 2 * k + 1; }
    }
    const f = (tc - a) / (b - a);
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = wa[i] + f * (wb[i] - wa[i]);
    return out;
  }
}

/**
 * A NoiseSampler over one Brownian path per batch item (item b keyed by seeds[b]), spanning the positive
 * σ range of `sigmas`: returns (W(σ_next) − W(σ))/√|σ_next − σ| after clamping both ends to that range.
 */
export function brownianSampler(seeds: readonly number[], shape: readonly number[], sigmas: Float64Array): NoiseSampler {
  const batch = shape[0];
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  if (seeds.length < batch) throw new DpipeError('E_COMPOSE', `noise.brownian has ${seeds.length} seed(s) for a batch of ${batch}.`);
  let lo = Infinity;
  let hi = 0;
  for (const s of sigmas) if (s > 0) { lo = Math.min(lo, s); hi = Math.max(hi, s); }
  if (!(hi > lo)) {
    return () => new Float64Array(batch * per);
  }
  const paths = Array.from({ length: batch }, (_, b) => new BrownianPath(seeds[b], per, lo, hi));
  return (sigma, sigmaNext) => {
    const a = Math.min(hi, Math.max(lo, sigma));
    const c = Math.min(hi, Math.max(lo, sigmaNext));
    const out = new Float64Array(batch * per);
    if (a === c) return out;
    const scale = 1 / Math.sqrt(Math.abs(c - a));
    for (let b = 0; b < batch; b++) {
      const wa = paths[b].at(a);
      const wc = paths[b].at(c);
      for (let i = 0; i < per; i++) out[b * per + i] = (wc[i] - wa[i]) * scale;
    }
    return out;
  };
}

/** Wraps a seeded NOISE value: same initial noise and seeds, per-step draws from Brownian trees. */
export function brownianNoise(base: NoiseValue): NoiseValue {
  return {
    initial: (shape) => base.initial(shape),
    stepSampler(shape, sigmas) {
      const seeds = base.seeds.length >= shape[0] || base.seeds.length === 0 ? base.seeds : Array.from({ length: shape[0] }, (_, b) => base.seeds[0] + b);
      if (seeds.length === 0) {
        throw new DpipeError('E_COMPOSE', `noise.brownian needs seeded noise (its seeds key the Brownian trees); the connected noise (${base.describe}) has no seeds. Connect noise.seeded or leave the input empty.`);
      }
      return brownianSampler(seeds, shape, sigmas);
    },
    get seeds() {
      return base.seeds;
    },
    describe: `${base.describe}; per-step noise from Brownian trees over σ (stream ${STREAM_BROWNIAN})`,
  };
}

const BROWNIAN_PARAMS = defineParams({ name: 'seed', type: 'seed', default: 0, doc: 'Seed of batch item 0 when no noise is connected (item b uses seed + b).' });

export const NOISE_BROWNIAN = defineBlock({
  type: 'noise.brownian',
  category: 'Noise',
  title: 'Brownian-tree noise',
  doc:
    'Per-step noise for SDE solvers from one Brownian path per batch item over σ (a virtual Brownian tree, as ' +
    'k-diffusion\'s BrownianTreeNoiseSampler): the draw for a step depends only on its σ interval and the seed, ' +
    'so a run keeps the same noise path when the step count changes. The initial noise and seeds come from the ' +
    'connected seeded noise, or from `seed` when nothing is connected. A run\'s --seed replaces the seed.',
  paper: 'Li et al. 2020, "Scalable Gradients for Stochastic Differential Equations" (virtual Brownian tree, §4); k-diffusion BrownianTreeNoiseSampler.',
  inputs: [{ name: 'noise', type: 'NOISE', optional: true, doc: 'Seeded noise giving the seeds and the initial noise (default: seeded with `seed`).' }],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and Brownian per-step draws.' }],
  noise: { brownian: true },
  params: BROWNIAN_PARAMS,
  async evaluate(ctx, inputs, o) {
    const base = (inputs.noise as NoiseValue | undefined) ?? seededNoise(ctx.services.seed ?? o.seed, ctx.services.batch ?? 1);
    return { noise: brownianNoise(base) };
  },
});
