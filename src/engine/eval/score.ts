/**
 * FD-MNIST: sample quality of MNIST generators, scored with the committed digit classifier.
 *
 * - FD: Fréchet distance (see `frechet.ts`) between Gaussians fitted to the classifier's penultimate features
 *   of the generated images and of the 1,996 held-out real digits (`models/mnist_heldout.npy`, never seen by
 *   the UNet or the classifier in training) — FID's recipe (Heusel et al. 2017) with an MNIST feature network.
 *   Like FID it is biased upwards at small n: compare numbers only at equal sample counts.
 * - accuracy: the fraction of class-conditional samples that the classifier assigns to the requested class.
 *
 * The floor, `realVsRealFd`, is the FD between the two halves of the held-out split (even vs odd index).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DpipeError } from '../core/errors';
import { parseNpy } from '../core/npy';
import { classify, type ClassifierOptions, type ImageBatch } from './classifier';
import { fitGaussian, frechetDistance, type FeatureSet, type FrechetResult, type Gaussian } from './frechet';

/** Where the classifier and the held-out reference digits are. */
export interface FdMnistFiles {
  readonly classifier: string;
  /** uint8 [N, 28, 28], 0 = background. */
  readonly heldoutImages: string;
  /** uint8 [N] digit labels. */
  readonly heldoutLabels: string;
}

/** The committed files under a repository (or install) root's `models/` folder. */
export function fdMnistFiles(modelsDir: string): FdMnistFiles {
  return {
    classifier: path.join(modelsDir, 'mnist_classifier.onnx'),
    heldoutImages: path.join(modelsDir, 'mnist_heldout.npy'),
    heldoutLabels: path.join(modelsDir, 'mnist_heldout_labels.npy'),
  };
}

export interface Reference {
  readonly images: ImageBatch;
  readonly labels: Int32Array;
  readonly features: FeatureSet;
  readonly predictions: Int32Array;
  readonly gaussian: Gaussian;
}

const refCache = new Map<string, Promise<Reference>>();

/** The held-out digits with their classifier features (computed once per process and file set). */
export function loadReference(files: FdMnistFiles, opts: ClassifierOptions = {}): Promise<Reference> {
  const key = `${path.resolve(files.classifier)}|${path.resolve(files.heldoutImages)}|${path.resolve(files.heldoutLabels)}`;
  let p = refCache.get(key);
  if (!p) {
    p = buildReference(files, opts);
    refCache.set(key, p);
    p.catch(() => refCache.delete(key));
  }
  return p;
}

async function readNpyFile(file: string, what: string) {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch {
    throw new DpipeError('E_FILE_MISSING', `${what} ${path.resolve(file)} does not exist (FD-MNIST needs the files under models/).`);
  }
  return parseNpy(buf, path.basename(file));
}

async function buildReference(files: FdMnistFiles, opts: ClassifierOptions): Promise<Reference> {
  const img = await readNpyFile(files.heldoutImages, 'Held-out digits');
  const lab = await readNpyFile(files.heldoutLabels, 'Held-out labels');
  if (img.shape.length !== 3 || img.shape[1] !== 28 || img.shape[2] !== 28 || lab.shape[0] !== img.shape[0]) {
    throw new DpipeError('E_SHAPE', `Held-out digits must be [N, 28, 28] with N labels; got [${img.shape.join(',')}] and [${lab.shape.join(',')}].`);
  }
  const n = img.shape[0];
  const images: ImageBatch = { n, h: 28, w: 28, data: img.data, valueRange: [0, 255] };
  const out = await classify(files.classifier, images, opts);
  const features: FeatureSet = { n, d: out.featureDim, data: out.features };
  return { images, labels: Int32Array.from(lab.data), features, predictions: out.predictions, gaussian: fitGaussian(features) };
}

export interface ScoreResult extends FrechetResult {
  /** Number of images scored. */
  readonly n: number;
  /** Fraction classified as the requested label; null when no labels were given. */
  readonly accuracy: number | null;
  /** Number of reference (held-out) digits the FD compares against. */
  readonly nReference: number;
}

/**
 * Scores generated images: FD against the held-out digits, and class accuracy when `labels` (one per image,
 * the class each was conditioned on) are given.
 */
export async function scoreImages(
  images: ImageBatch,
  labels: readonly number[] | undefined,
  files: FdMnistFiles,
  opts: ClassifierOptions = {},
): Promise<ScoreResult> {
  if (images.n < 2) throw new DpipeError('E_USAGE', `FD needs at least 2 samples; got ${images.n}.`);
  if (labels && labels.length !== images.n) {
    throw new DpipeError('E_SHAPE', `Got ${labels.length} labels for ${images.n} images; give one label per image.`);
  }
  const ref = await loadReference(files, opts);
  const out = await classify(files.classifier, images, opts);
  const fr = frechetDistance(fitGaussian({ n: out.n, d: out.featureDim, data: out.features }), ref.gaussian);
  let accuracy: number | null = null;
  if (labels) {
    let hit = 0;
    for (let i = 0; i < images.n; i++) if (out.predictions[i] === labels[i]) hit++;
    accuracy = hit / images.n;
  }
  return { ...fr, n: images.n, accuracy, nReference: ref.features.n };
}

/** FD between the even- and odd-indexed halves of the held-out digits: the floor of FD-MNIST at ~1,000 samples. */
export async function realVsRealFd(files: FdMnistFiles, opts: ClassifierOptions = {}): Promise<FrechetResult & { n: number }> {
  const ref = await loadReference(files, opts);
  const { n, d, data } = ref.features;
  const half = (parity: number): FeatureSet => {
    const m = Math.floor((n - parity + 1) / 2);
    const out = new Float64Array(m * d);
    for (let i = 0; i < m; i++) out.set(data.subarray((2 * i + parity) * d, (2 * i + parity + 1) * d), i * d);
    return { n: m, d, data: out };
  };
  const a = half(0);
  return { ...frechetDistance(fitGaussian(a), fitGaussian(half(1))), n: a.n };
}

/**
 * Classifier accuracy on `count` held-out digits spread evenly over the split (index ⌊i·N/count⌋, so every
 * class is represented; the split is stored class by class), or on all of them when `count` is omitted.
 */
export async function heldoutAccuracy(files: FdMnistFiles, count?: number, opts: ClassifierOptions = {}): Promise<number> {
  const ref = await loadReference(files, opts);
  const total = ref.features.n;
  const m = Math.min(count ?? total, total);
  let hit = 0;
  for (let i = 0; i < m; i++) {
    const k = Math.floor((i * total) / m);
    if (ref.predictions[k] === ref.labels[k]) hit++;
  }
  return hit / m;
}
