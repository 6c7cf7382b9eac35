/**
 * The noise other tools feed their samplers, for the same seed: `torch.randn` on the CPU (`torchcpu.ts`) or
 * A1111's NV imitation of CUDA's randn (`nv.ts`), drawn in the order each tool draws it.
 *
 * - `comfyui` (comfy/sample.py `prepare_noise`, comfy/k_diffusion/sampling.py `default_noise_sampler`): the
 *   initial noise is one `torch.randn(latent.size())` of the whole batch from `torch.manual_seed(seed)`, always
 *   on the CPU; a latent that carries batch indices (ComfyUI's "Latent From Batch", `batch_index`) instead gets
 *   item-shaped draws 0, 1, …, max index from that generator, item b taking draw batch_index[b]. The per-step
 *   draws of the ancestral/SDE samplers come from a separate generator on the sampling device, each one x-shaped
 *   (the whole batch): on the CPU seeded seed + 1 (source `cpu`), on a CUDA GPU seeded seed (source `nv`,
 *   imitated by A1111's NV algorithm). The seed reaches the sampler through `extra_args["seed"]` (the KSampler's
 *   or RandomNoise's seed).
 * - `diffusers` (utils/torch_utils.py `randn_tensor` and the schedulers' `step()`): one generator passed to the
 *   pipeline draws the latents, then each step's noise (EulerAncestral, DDPM, DDIM η > 0, DPM-Solver SDE
 *   variants, LCM) from the same generator, batch-shaped. `diffusers-per-item`: a list of generators, one per
 *   batch item seeded seed + b, each drawing item-shaped tensors ([1, ...]) for the latents and every step.
 * - `a1111` (modules/rng.py `ImageRNG`, modules/processing.py): one generator per batch item, item b seeded
 *   seed + b; the first draw of each is the item's initial noise, later draws its per-step noise (from
 *   generators seeded seed + b + ENSD instead when "Eta noise seed delta" is set). With a variation seed
 *   (strength > 0) every item uses the same seed and item b the variation seed + b, and the item's noise is
 *   A1111's slerp of the two first draws (`a1111Slerp`); "resize seed from" draws both at a smaller size and
 *   pastes the result, centred, into the item's full-size first draw.
 *
 * Everything is float32 as the tools draw it; values are returned as float64 holding those float32 values.
 *
 * The variation seed belongs to this block rather than to a block wrapping any NOISE: it changes which seed each
 * item uses (all share the seed, the variation seed counts up) and sits between the first draws and the seed-resize
 * paste inside A1111's first draw, so it cannot be applied to finished noise.
 */
import { DpipeError } from '../core/errors';
import type { NoiseSampler } from '../core/types';
import type { NoiseValue } from '../registry/types';
import { NvGenerator } from './nv';
import { TorchCpuGenerator, type TorchCpuKernel } from './torchcpu';

export type TorchNoiseOrder = 'comfyui' | 'diffusers' | 'diffusers-per-item' | 'a1111';
export const TORCH_NOISE_ORDERS: readonly TorchNoiseOrder[] = ['comfyui', 'diffusers', 'diffusers-per-item', 'a1111'];
export type TorchNoiseSource = 'cpu' | 'nv';

export interface TorchNoiseOptions {
  /** Integer in [0, 2⁶⁴) (a bigint for seeds above 2⁵³). */
  readonly seed: number | bigint;
  readonly order: TorchNoiseOrder;
  readonly source: TorchNoiseSource;
  /** Which CPU build of torch.randn (`source` cpu). */
  readonly kernel: TorchCpuKernel;
  /** A1111 only: variation ("sub") seed and strength in [0, 1]; 0 turns it off. */
  readonly variationSeed?: number | bigint;
  readonly variationStrength?: number;
  /** A1111 only: "resize seed from", as [height, width] of the latent (A1111's pixels ÷ 8); undefined = off. */
  readonly seedResizeFrom?: readonly [number, number];
  /** A1111 only: "Eta noise seed delta" (0 = off). */
  readonly ensd?: number;
  /** ComfyUI only: the latent's `batch_index` list (one entry per batch item); undefined = the whole batch at once. */
  readonly batchIndex?: readonly number[];
}

interface Gen {
  randn(numel: number): Float32Array;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * A1111's slerp (modules/rng.py `slerp`, after a PyTorch-forum answer) for one item [C, H, W]: the norms and dot
 * products run over H for each (c, w) column, giving one angle ω per column; when the mean cosine exceeds 0.9995
 * it falls back to `low·val + high·(1 − val)` — weights the other way round from the slerp itself, a quirk kept
 * here. Computed in float64; A1111 computes it in float32 on its device, so results agree to float32 rounding.
 */
export function a1111Slerp(val: number, low: ArrayLike<number>, high: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [C, H, W] = shape;
  const out = new Float64Array(C * H * W);
  const at = (c: number, h: number, w: number) => (c * H + h) * W + w;
  const dot = new Float64Array(C * W);
  let mean = 0;
  for (let c = 0; c < C; c++) {
    for (let w = 0; w < W; w++) {
      let nl = 0;
      let nh = 0;
      for (let h = 0; h < H; h++) {
        nl += low[at(c, h, w)] ** 2;
        nh += high[at(c, h, w)] ** 2;
      }
      nl = Math.sqrt(nl);
      nh = Math.sqrt(nh);
      let d = 0;
      for (let h = 0; h < H; h++) d += (low[at(c, h, w)] / nl) * (high[at(c, h, w)] / nh);
      dot[c * W + w] = d;
      mean += d;
    }
  }
  mean /= C * W;
  if (mean > 0.9995) {
    for (let i = 0; i < out.length; i++) out[i] = low[i] * val + high[i] * (1 - val);
    return out;
  }
  for (let c = 0; c < C; c++) {
    for (let w = 0; w < W; w++) {
      const omega = Math.acos(dot[c * W + w]);
      const so = Math.sin(omega);
      const a = Math.sin((1 - val) * omega) / so;
      const b = Math.sin(val * omega) / so;
      for (let h = 0; h < H; h++) {
        const i = at(c, h, w);
        out[i] = a * low[i] + b * high[i];
      }
    }
  }
  return out;
}

/** A1111's paste of the small "resize seed from" noise into the full-size draw x (both [C, ·, ·]), in place. */
function pasteCentred(x: Float64Array, item: readonly number[], noise: ArrayLike<number>, small: readonly number[]): void {
  const [C, H, W] = item;
  const [, h0, w0] = small;
  // Python's // floors: for an odd negative difference the pasted block is one row/column short, as in A1111.
  let dx = Math.floor((W - w0) / 2);
  let dy = Math.floor((H - h0) / 2);
  const w = dx >= 0 ? w0 : w0 + 2 * dx;
  const h = dy >= 0 ? h0 : h0 + 2 * dy;
  const tx = dx < 0 ? 0 : dx;
  const ty = dy < 0 ? 0 : dy;
  dx = Math.max(-dx, 0);
  dy = Math.max(-dy, 0);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) x[(c * H + ty + r) * W + tx + q] = noise[(c * h0 + dy + r) * w0 + dx + q];
    }
  }
}

const asBig = (s: number | bigint) => (typeof s === 'bigint' ? s : BigInt(s));

export function torchNoise(o: TorchNoiseOptions): NoiseValue {
  const seed = asBig(o.seed);
  const strength = o.variationStrength ?? 0;
  const ensd = o.ensd ?? 0;
  if (o.order !== 'a1111') {
    const set = strength !== 0 ? 'variationStrength' : o.seedResizeFrom ? 'seedResizeFrom' : ensd !== 0 ? 'ensd' : undefined;
    if (set) {
      throw new DpipeError('E_PARAM_VALUE', `noise.torch: ${set} is an A1111 option (variation seed, resize seed from, eta noise seed delta); it needs order "a1111", not "${o.order}".`);
    }
  }
  if (o.batchIndex && o.order !== 'comfyui') {
    throw new DpipeError('E_PARAM_VALUE', `noise.torch: batchIndex is a ComfyUI option (a latent's batch_index); it needs order "comfyui", not "${o.order}".`);
  }
  if (o.batchIndex && !o.batchIndex.every((i) => Number.isSafeInteger(i) && i >= 0)) {
    throw new DpipeError('E_PARAM_VALUE', `noise.torch: batchIndex must hold integers ≥ 0; got [${o.batchIndex.join(', ')}].`);
  }
  if (!(strength >= 0 && strength <= 1)) throw new DpipeError('E_PARAM_VALUE', `noise.torch: variationStrength must be in [0, 1]; got ${strength}.`);
  const gen = (s: bigint): Gen => {
    if (o.source === 'nv') return new NvGenerator(s);
    const g = new TorchCpuGenerator(s);
    return { randn: (n) => g.randn(n, o.kernel) };
  };
  const cpu = (s: bigint): Gen => {
    const g = new TorchCpuGenerator(s);
    return { randn: (n) => g.randn(n, o.kernel) };
  };
  const cat = (parts: Float32Array[], total: number): Float64Array => {
    const out = new Float64Array(total);
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    return out;
  };
  const batchOf = (shape: readonly number[]) => {
    if (shape.length < 1 || shape[0] < 1) throw new DpipeError('E_SHAPE', `noise.torch needs a latent shape with a batch dimension; got ${fmt(shape)}.`);
    return shape[0];
  };

  /** A1111's per-item seeds: seed + b, or all the same when a variation strength is set. */
  const itemSeeds = (batch: number) => Array.from({ length: batch }, (_, b) => seed + BigInt(strength === 0 ? b : 0));
  const subSeeds = (batch: number) => Array.from({ length: batch }, (_, b) => asBig(o.variationSeed ?? 0) + BigInt(b));

  const a1111First = (shape: readonly number[]): { initial: Float64Array; gens: Gen[] } => {
    const batch = batchOf(shape);
    const item = shape.slice(1);
    const n = numel(item);
    const seeds = itemSeeds(batch);
    const subs = subSeeds(batch);
    const needs3d = strength !== 0 || o.seedResizeFrom;
    if (needs3d && item.length !== 3) {
      throw new DpipeError('E_SHAPE', `noise.torch: A1111's variation seed and seed resize work on latents [C, H, W] per item; this latent is ${fmt(shape)}.`);
    }
    const small = o.seedResizeFrom ? [item[0], o.seedResizeFrom[0], o.seedResizeFrom[1]] : item;
    const resized = o.seedResizeFrom !== undefined && (small[1] !== item[1] || small[2] !== item[2]);
    const gens = seeds.map(gen);
    const out = new Float64Array(batch * n);
    for (let b = 0; b < batch; b++) {
      const sub = strength !== 0 ? gen(subs[b]).randn(numel(small)) : undefined;
      let noise: ArrayLike<number> = resized ? gen(seeds[b]).randn(numel(small)) : gens[b].randn(n);
      if (sub) noise = a1111Slerp(strength, noise, sub, small);
      if (resized) {
        const x = Float64Array.from(gens[b].randn(n));
        pasteCentred(x, item, noise, small);
        noise = x;
      }
      out.set(noise, b * n);
    }
    return { initial: out, gens: ensd !== 0 ? seeds.map((s) => gen(s + BigInt(ensd))) : gens };
  };

  let lastBatch = 1;
  const describeSource = o.source === 'nv' ? 'A1111 NV (CUDA imitation)' : `torch CPU generator, ${o.kernel} kernel`;
  return {
    initial(shape) {
      const batch = batchOf(shape);
      lastBatch = batch;
      const per = numel(shape.slice(1));
      switch (o.order) {
        case 'comfyui': {
          const inds = o.batchIndex;
          if (!inds) return Float64Array.from(cpu(seed).randn(batch * per));
          if (inds.length !== batch) {
            throw new DpipeError('E_SHAPE', `noise.torch: batchIndex has ${inds.length} entries for a batch of ${batch}; give one index per batch item.`);
          }
          const g = cpu(seed);
          const draws = Array.from({ length: Math.max(...inds) + 1 }, () => g.randn(per));
          return cat(inds.map((i) => draws[i]), batch * per);
        }
        case 'diffusers':
          return Float64Array.from(gen(seed).randn(batch * per));
        case 'diffusers-per-item':
          return cat(Array.from({ length: batch }, (_, b) => gen(seed + BigInt(b)).randn(per)), batch * per);
        case 'a1111':
          return a1111First(shape).initial;
      }
    },
    stepSampler(shape): NoiseSampler {
      const batch = batchOf(shape);
      const per = numel(shape.slice(1));
      switch (o.order) {
        case 'comfyui': {
          const g = o.source === 'cpu' ? cpu(seed + BigInt(1)) : gen(seed);
          return () => Float64Array.from(g.randn(batch * per));
        }
        case 'diffusers': {
          const g = gen(seed);
          g.randn(batch * per); // the latents' draw comes first from the same generator
          return () => Float64Array.from(g.randn(batch * per));
        }
        case 'diffusers-per-item': {
          const gens = Array.from({ length: batch }, (_, b) => gen(seed + BigInt(b)));
          for (const g of gens) g.randn(per);
          return () => cat(gens.map((g) => g.randn(per)), batch * per);
        }
        case 'a1111': {
          const { gens } = a1111First(shape);
          return () => cat(gens.map((g) => g.randn(per)), batch * per);
        }
      }
    },
    get seeds() {
      if (o.order === 'comfyui' || o.order === 'diffusers') return [Number(seed)];
      const seeds = o.order === 'a1111' ? itemSeeds(lastBatch) : Array.from({ length: lastBatch }, (_, b) => seed + BigInt(b));
      return seeds.map(Number);
    },
    describe:
      `torch.randn noise in ${o.order} order, seed ${seed} (${describeSource})` +
      (o.order === 'comfyui' ? `; per-step draws from a ${o.source === 'cpu' ? `CPU generator seeded ${seed + BigInt(1)}` : `CUDA generator seeded ${seed} (NV imitation)`}` : '') +
      (strength !== 0 ? `; variation seed ${o.variationSeed ?? 0} at strength ${strength}` : '') +
      (o.seedResizeFrom ? `; seed resized from ${fmt(o.seedResizeFrom)}` : '') +
      (ensd !== 0 ? `; ENSD ${ensd}` : '') +
      (o.batchIndex ? `; batch indices ${fmt(o.batchIndex)}` : ''),
  };
}
