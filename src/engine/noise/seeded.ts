/**
 * dpipe's seeded standard-normal noise. THE ALGORITHM BELOW IS PART OF THE FILE FORMAT: a `.dpipe` with a
 * seed must give the same latents on every OS, CPU and Node version, forever. Changing any step is a
 * format change (new format version, migration that pins the old generator).
 *
 * Algorithm (format 1):
 * 1. Per batch item b, the item seed is S_b = seed + b (seed an integer in [0, 2⁵³ − 1 − B]).
 *    Philox key = (S_b mod 2³², ⌊S_b / 2³²⌋).
 * 2. A "draw" is one standard-normal tensor for one item (n = product of the per-item shape). Draw d of
 *    stream σ uses Philox4x32-10 counters (i, d, σ, 0) for block i = 0, 1, …, ⌈n/4⌉−1. Stream 0 is the
 *    initial noise (d = 0); stream 1 holds the per-step draws of the solver, d = 0, 1, 2, … in order of
 *    the solver's requests. The initial noise therefore never depends on the solver.
 * 3. Each block's four uint32 words (w0, w1, w2, w3) become four normals by the Box–Muller transform
 *    (Box & Muller 1958): u = (w + ½)·2⁻³² ∈ (0, 1),
 *      R = √(−2 ln u(w0)),  z0 = R·cos(2π u(w1)),  z1 = R·sin(2π u(w1)),
 *      R' = √(−2 ln u(w2)), z2 = R'·cos(2π u(w3)), z3 = R'·sin(2π u(w3)),
 *    with ln, sin, cos from `exactmath.ts` (IEEE basic operations only, fixed evaluation order).
 *    Element j of the item takes z_(j mod 4) of block ⌊j/4⌋; unused values of the last block are dropped.
 * 4. Values are float64; the engine passes them to models as float32.
 */
import { DpipeError } from '../core/errors';
import type { NoiseSampler } from '../core/types';
import type { NoiseValue } from '../registry/types';
import { exactLog, exactSinCosTurns } from './exactmath';
import { philox4x32 } from './philox';

export const STREAM_INITIAL = 0;
export const STREAM_STEPS = 1;
const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;

/** Fills `out` with standard normals of draw `draw` in stream `stream` for item seed `itemSeed`. */
export function normalDraw(itemSeed: number, stream: number, draw: number, out: Float64Array): Float64Array {
  const k0 = itemSeed % TWO32;
  const k1 = Math.floor(itemSeed / TWO32);
  const w = new Uint32Array(4);
  const z = new Float64Array(4);
  const n = out.length;
  for (let i = 0, j = 0; j < n; i++, j += 4) {
    philox4x32(i, draw, stream, 0, k0, k1, w);
    for (let p = 0; p < 2; p++) {
      const u1 = (w[2 * p] + 0.5) * INV_TWO32;
      const u2 = (w[2 * p + 1] + 0.5) * INV_TWO32;
      const r = Math.sqrt(-2 * exactLog(u1));
      const [s, c] = exactSinCosTurns(u2);
      z[2 * p] = r * c;
      z[2 * p + 1] = r * s;
    }
    const m = Math.min(4, n - j);
    for (let q = 0; q < m; q++) out[j + q] = z[q];
  }
  return out;
}

export function checkSeed(seed: number, batch: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed + batch - 1 > Number.MAX_SAFE_INTEGER) {
    throw new DpipeError('E_PARAM_VALUE', `seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER - batch + 1}; got ${seed}.`);
  }
}

function itemsOf(shape: readonly number[]): [number, number] {
  if (shape.length < 1) throw new DpipeError('E_SHAPE', 'noise needs a shape with a batch dimension.');
  const batch = shape[0];
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return [batch, per];
}

/** A whole batch of draw `draw` of `stream`: item b from seed + b. */
export function seededBatch(seed: number, shape: readonly number[], stream: number, draw: number): Float64Array {
  const [batch, per] = itemsOf(shape);
  checkSeed(seed, batch);
  const out = new Float64Array(batch * per);
  for (let b = 0; b < batch; b++) normalDraw(seed + b, stream, draw, out.subarray(b * per, (b + 1) * per));
  return out;
}

/** The seeded NoiseValue: initial noise from stream 0, per-step draws from stream 1 in request order. */
export function seededNoise(seed: number, batchHint = 1): NoiseValue {
  checkSeed(seed, batchHint);
  let batch = batchHint;
  return {
    initial(shape) {
      batch = shape[0];
      return seededBatch(seed, shape, STREAM_INITIAL, 0);
    },
    stepSampler(shape): NoiseSampler {
      let draw = 0;
      return () => seededBatch(seed, shape, STREAM_STEPS, draw++);
    },
    get seeds() {
      return Array.from({ length: batch }, (_, b) => seed + b);
    },
    describe: `seeded Philox4x32-10/Box–Muller (format 1), seed ${seed}`,
  };
}
