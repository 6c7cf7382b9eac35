/**
 * The FD-MNIST feature network: a small CNN digit classifier (`models/mnist_classifier.onnx`, trained by
 * `tools/train/train_classifier.py` on the training split only).
 *
 * Input `image` float32 [B, 1, 32, 32] in [-1, 1] (background −1, ink +1, the 28×28 digit centred with 2 pixels
 * of border) — the demo UNet's convention. Outputs `logits` [B, 10] and `features` [B, F] (F = 128), the
 * penultimate layer after its ReLU, the analogue of Inception's pool3 features in FID (Heusel et al. 2017).
 * The model runs through the engine's onnxruntime adapter (`model/onnx.ts`).
 */
import { DpipeError } from '../core/errors';
import { float32, openSession, toFloat64 } from '../model/onnx';

/** Side of the square images the classifier takes. */
export const CLASSIFIER_SIZE = 32;

/** A batch of single-channel images, row-major [n, 1, h, w]. */
export interface ImageBatch {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly data: ArrayLike<number>;
  /** Data range [lo, hi] of `data`; mapped linearly to the classifier's [−1, 1]. Default [−1, 1]. */
  readonly valueRange?: readonly [number, number];
}

export interface ClassifierOutput {
  readonly n: number;
  /** [n, 10] row-major. */
  readonly logits: Float64Array;
  /** [n, featureDim] row-major. */
  readonly features: Float64Array;
  readonly featureDim: number;
  /** argmax of the logits per image. */
  readonly predictions: Int32Array;
}

export interface ClassifierOptions {
  /** Images per onnxruntime call. Default 250. */
  readonly batch?: number;
  /** onnxruntime intra-op threads; 0 = its default. */
  readonly threads?: number;
  readonly signal?: AbortSignal;
}

/**
 * Converts images to the classifier's input: values mapped from `valueRange` to [−1, 1] and clipped there;
 * 32×32 images pass through, 28×28 ones are padded with 2 pixels of background. Other sizes are an error.
 */
export function toClassifierInput(images: ImageBatch): Float32Array {
  const { n, h, w, data } = images;
  const S = CLASSIFIER_SIZE;
  if (!((h === S && w === S) || (h === 28 && w === 28))) {
    throw new DpipeError('E_SHAPE', `FD-MNIST scores single-channel 32×32 (or 28×28) images; got ${h}×${w}.`);
  }
  if (data.length !== n * h * w) {
    throw new DpipeError('E_SHAPE', `Expected ${n}×1×${h}×${w} = ${n * h * w} values, got ${data.length}; FD-MNIST scores single-channel images.`);
  }
  const [lo, hi] = images.valueRange ?? [-1, 1];
  if (!(hi > lo)) throw new DpipeError('E_SHAPE', `valueRange must have hi > lo; got [${lo}, ${hi}].`);
  const out = new Float32Array(n * S * S).fill(-1);
  const pad = (S - h) / 2;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = ((data[(b * h + y) * w + x] - lo) / (hi - lo)) * 2 - 1;
        out[b * S * S + (y + pad) * S + (x + pad)] = Number.isNaN(v) ? -1 : Math.min(1, Math.max(-1, v));
      }
    }
  }
  return out;
}

/** Runs the classifier on a batch of images. Errors: E_FILE_MISSING / E_MODEL (model), E_SHAPE (images). */
export async function classify(modelPath: string, images: ImageBatch, opts: ClassifierOptions = {}): Promise<ClassifierOutput> {
  const input = toClassifierInput(images);
  const session = await openSession(modelPath, { threads: opts.threads });
  for (const name of ['image']) {
    if (!session.io.inputs.some((i) => i.name === name)) throw new DpipeError('E_MODEL', `${modelPath} is not the FD-MNIST classifier: it has no input "${name}".`);
  }
  for (const name of ['logits', 'features']) {
    if (!session.io.outputs.some((o) => o.name === name)) throw new DpipeError('E_MODEL', `${modelPath} is not the FD-MNIST classifier: it has no output "${name}".`);
  }
  const S = CLASSIFIER_SIZE;
  const n = images.n;
  const step = Math.max(1, Math.floor(opts.batch ?? 250));
  const logits = new Float64Array(n * 10);
  let features = new Float64Array(0);
  let featureDim = 0;
  for (let start = 0; start < n; start += step) {
    const m = Math.min(step, n - start);
    const out = await session.run({ image: float32(input.subarray(start * S * S, (start + m) * S * S), [m, 1, S, S]) }, ['logits', 'features'], opts.signal);
    const f = toFloat64(out.features);
    if (featureDim === 0) {
      featureDim = f.length / m;
      features = new Float64Array(n * featureDim);
    }
    logits.set(toFloat64(out.logits), start * 10);
    features.set(f, start * featureDim);
  }
  const predictions = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (logits[b * 10 + k] > logits[b * 10 + best]) best = k;
    predictions[b] = best;
  }
  return { n, logits, features, featureDim, predictions };
}
