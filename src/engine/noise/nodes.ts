/**
 * NOISE blocks: the seeded generator (`seeded.ts`, its algorithm is part of the file format) and noise
 * read from .npy files (`file.ts`), for reproducing another tool's run draw for draw.
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { NodeType } from '../registry/node';
import type { NoiseValue, Params } from '../registry/types';
import { fileNoise } from './file';
import { seededNoise } from './seeded';

export { seededNoise, seededBatch, normalDraw, STREAM_INITIAL, STREAM_STEPS } from './seeded';
export { fileNoise } from './file';

function seedParam(params: Params, override: number | undefined): number {
  const s = override ?? (params.seed as number | undefined) ?? 0;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > Number.MAX_SAFE_INTEGER) {
    throw new DpipeError('E_PARAM_VALUE', `seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}; got ${String(s)}.`);
  }
  return s;
}

const SEEDED: NodeType = {
  type: 'noise.seeded',
  category: 'Noise',
  title: 'Seeded noise',
  doc:
    'Standard-normal noise from a seed: Philox4x32-10 counters with a Box–Muller transform in IEEE-exact arithmetic, ' +
    'identical on every OS and Node version. Batch item b uses seed + b; the initial noise and the solver\'s per-step ' +
    'draws come from separate streams, so the initial noise does not depend on the solver. A run\'s --seed replaces the seed.',
  paper: 'Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3" (Philox4x32-10); Box & Muller 1958.',
  inputs: [],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and per-step draws.' }],
  params: [{ name: 'seed', type: 'seed', default: 0, doc: 'Seed of batch item 0 (item b uses seed + b). Integer ≥ 0.' }],
  async evaluate(ctx, _inputs, params) {
    const noise: NoiseValue = seededNoise(seedParam(params, ctx.services.seed), ctx.services.batch ?? 1);
    return { noise };
  },
};

const NPY: NodeType = {
  type: 'noise.npy',
  category: 'Noise',
  title: 'Noise from .npy',
  doc:
    'Noise read from NumPy files, to reproduce another tool\'s run exactly. `initial`: the starting noise [B, ...] ' +
    '(standard normal; the Sample node scales it by the first σ). `steps`: per-step draws [K, B, ...], consumed in ' +
    'order, one slice per draw of the solver; a run that needs more than K draws stops with E_NOISE_EXHAUSTED. ' +
    'A part left empty comes from the seeded generator with `seed`.',
  inputs: [],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and per-step draws.' }],
  params: [
    { name: 'initial', type: 'file', default: '', extensions: ['npy'], mustExist: true, doc: 'Initial noise [B, ...] (empty: seeded).' },
    { name: 'steps', type: 'file', default: '', extensions: ['npy'], mustExist: true, doc: 'Per-step noise [K, B, ...], one slice per draw (empty: seeded).' },
    { name: 'seed', type: 'seed', default: 0, doc: 'Seed for the part that has no file.' },
  ],
  async evaluate(ctx, _inputs, params) {
    const read = async (p: unknown) => {
      if (typeof p !== 'string' || p === '') return undefined;
      const abs = path.resolve(ctx.baseDir, p);
      return { arr: await ctx.services.readNpy(abs), name: p };
    };
    const initial = await read(params.initial);
    const steps = await read(params.steps);
    const noise: NoiseValue = fileNoise({
      initial: initial?.arr,
      initialName: initial?.name,
      steps: steps?.arr,
      stepsName: steps?.name,
      seed: seedParam(params, ctx.services.seed),
    });
    return { noise };
  },
};

export const NOISE_NODES: NodeType[] = [SEEDED, NPY];
