/**
 * Noise read from .npy files, to reproduce another tool's run exactly: an initial-noise array shaped like
 * the batch ([B, ...]) and/or a per-step array [K, B, ...] consumed in order, one slice per draw (the k-th
 * call of the solver's noise sampler returns slice k). Running out is an error (E_NOISE_EXHAUSTED), never
 * a silent wrap-around. Whichever file is absent is replaced by the seeded generator.
 */
import { DpipeError } from '../core/errors';
import type { Latent, NoiseSampler } from '../core/types';
import type { NoiseValue } from '../registry/types';
import { seededNoise } from './seeded';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Takes the first `shape[0]` items of an array whose per-item shape matches `shape`; an array with the
 * per-item shape only (no batch axis) is accepted for batch 1.
 */
function takeBatch(arr: Latent, shape: readonly number[], what: string): Float64Array {
  const per = shape.slice(1);
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape[0] === 1 && sameShape(arr.shape, per)) return arr.data.slice(0, n);
  if (arr.shape.length === shape.length && sameShape(arr.shape.slice(1), per) && arr.shape[0] >= shape[0]) {
    return arr.data.slice(0, n);
  }
  throw new DpipeError('E_SHAPE', `${what} has shape ${fmt(arr.shape)}; the run needs ${fmt(shape)} (or more batch items).`);
}

export interface FileNoiseOptions {
  readonly initial?: Latent;
  readonly initialName?: string;
  readonly steps?: Latent;
  readonly stepsName?: string;
  /** Seed for whichever part has no file. */
  readonly seed: number;
}

export function fileNoise(o: FileNoiseOptions): NoiseValue {
  const fallback = seededNoise(o.seed);
  return {
    initial(shape) {
      if (!o.initial) return fallback.initial(shape);
      return takeBatch(o.initial, shape, `initial noise file ${o.initialName ?? ''}`.trim());
    },
    stepSampler(shape, sigmas): NoiseSampler {
      const steps = o.steps;
      if (!steps) return fallback.stepSampler(shape, sigmas);
      const name = `per-step noise file ${o.stepsName ?? ''}`.trim();
      if (steps.shape.length < 1) throw new DpipeError('E_SHAPE', `${name} needs a leading draw axis [K, ...].`);
      const k = steps.shape[0];
      const slice: Latent = { shape: steps.shape.slice(1), data: steps.data };
      const per = steps.data.length / Math.max(k, 1);
      // Validate the per-draw shape once, up front.
      if (k > 0) takeBatch({ shape: slice.shape, data: steps.data.subarray(0, per) }, shape, name);
      let draw = 0;
      return () => {
        if (draw >= k) {
          throw new DpipeError('E_NOISE_EXHAUSTED', `${name} has ${k} draws; the run asked for draw ${draw + 1}. Provide a file with more draws or use seeded noise.`);
        }
        const d = draw++;
        return takeBatch({ shape: slice.shape, data: steps.data.subarray(d * per, (d + 1) * per) }, shape, name);
      };
    },
    seeds: [],
    describe: `noise from file(s): ${[o.initial ? `initial ${o.initialName ?? ''}` : `initial seeded ${o.seed}`, o.steps ? `steps ${o.stepsName ?? ''}` : `steps seeded ${o.seed}`].join(', ')}`,
  };
}
