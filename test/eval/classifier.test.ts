import { strict as assert } from 'assert';
import * as path from 'path';
import { inspect } from '../../src/engine/model/onnx';
import { classify, fdMnistFiles, heldoutAccuracy, loadReference, realVsRealFd, scoreImages, toClassifierInput } from '../../src/engine/eval/index';
import { DpipeError } from '../../src/engine/core/errors';

const files = fdMnistFiles(path.join(__dirname, '..', '..', 'models'));

describe('eval/classifier: the committed FD-MNIST classifier', () => {
  it('loads with input image [batch,1,32,32] and outputs logits [batch,10], features [batch,128]', async () => {
    const io = await inspect(files.classifier);
    assert.deepEqual(io.inputs.map((t) => [t.name, t.type, t.shape.slice(1)]), [['image', 'float32', [1, 32, 32]]]);
    assert.deepEqual(io.outputs.map((t) => [t.name, t.type, t.shape.slice(1)]), [['logits', 'float32', [10]], ['features', 'float32', [128]]]);
    const out = await classify(files.classifier, { n: 3, h: 32, w: 32, data: new Float32Array(3 * 1024).fill(-1) });
    assert.equal(out.logits.length, 30);
    assert.equal(out.featureDim, 128);
    assert.equal(out.features.length, 3 * 128);
  });

  it('classifies ≥ 98% of 500 held-out digits correctly (guards a broken export)', async () => {
    const acc = await heldoutAccuracy(files, 500);
    assert.ok(acc >= 0.98, `accuracy ${acc}`);
  });

  it('held-out digits scored as generated samples: FD ≈ 0 against themselves, accuracy = held-out accuracy', async () => {
    const ref = await loadReference(files);
    const r = await scoreImages(ref.images, Array.from(ref.labels), files);
    assert.ok(Math.abs(r.fd) < 1e-6, `FD(self) = ${r.fd}`);
    assert.equal(r.accuracy, await heldoutAccuracy(files));
    assert.equal(r.n, ref.images.n);
  });

  it('real-vs-real FD (even vs odd halves) is small but positive; blank images are far away', async () => {
    const rr = await realVsRealFd(files);
    assert.ok(rr.fd > 0 && rr.fd < 10, `real-vs-real FD ${rr.fd}`);
    const blank = await scoreImages({ n: 20, h: 28, w: 28, data: new Float64Array(20 * 784), valueRange: [0, 1] }, undefined, files);
    assert.ok(blank.fd > 20 * rr.fd, `blank FD ${blank.fd} vs floor ${rr.fd}`);
    assert.equal(blank.accuracy, null);
  });

  it('maps value ranges and pads 28×28 with background', () => {
    const x = toClassifierInput({ n: 1, h: 28, w: 28, data: Float64Array.from({ length: 784 }, (_, i) => (i === 0 ? 255 : i === 1 ? 300 : 0)), valueRange: [0, 255] });
    assert.equal(x.length, 1024);
    assert.equal(x[0], -1); // border
    assert.equal(x[2 * 32 + 2], 1); // first pixel of the digit, 255 → +1
    assert.equal(x[2 * 32 + 3], 1); // out of range, clipped
    assert.equal(x[2 * 32 + 4], -1);
    assert.throws(() => toClassifierInput({ n: 1, h: 16, w: 16, data: new Float32Array(256) }), (e: unknown) => e instanceof DpipeError && e.code === 'E_SHAPE');
  });
});
