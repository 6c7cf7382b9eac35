/**
 * Latent → 8-bit image conversion and grids, as pure functions (the `output.image` block and the inspector
 * both use them).
 */
import type { Latent } from '../core/types';
import { DpipeError } from '../core/errors';
import type { Image8 } from '../run/png';

export interface ToImageOptions {
  /** Values mapped to black and white: v ↦ clamp((v − lo)/(hi − lo), 0, 1)·255, rounded. */
  readonly valueRange: readonly [number, number];
  /**
   * For C channels: a 3×C matrix, row-major (row r gives output channel r = R, G, B), applied per pixel
   * before the value range. Empty: 1 channel → gray, 3 channels → RGB, anything else is an error.
   */
  readonly projection?: readonly number[];
  /** Nearest-neighbour upscaling factor (≥ 1). */
  readonly scale?: number;
}

/** One image per batch item of a [B, C, H, W] latent. */
export function latentToImages(x: Latent, opts: ToImageOptions): Image8[] {
  if (x.shape.length !== 4) {
    throw new DpipeError('E_SHAPE', `an image needs a latent of shape [batch, channels, height, width]; got [${x.shape.join(', ')}]`);
  }
  const [B, C, H, W] = x.shape;
  const [lo, hi] = opts.valueRange;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new DpipeError('E_PARAM_VALUE', `valueRange must be two finite numbers [lo, hi] with lo < hi; got [${lo}, ${hi}]`);
  }
  const proj = opts.projection ?? [];
  if (proj.length === 0 && C !== 1 && C !== 3) {
    throw new DpipeError('E_PARAM_VALUE', `the latent has ${C} channels: images are made from 1 or 3 channels, or set "projection" to a 3×${C} matrix (${3 * C} numbers, row-major) mapping the channels to RGB`);
  }
  if (proj.length !== 0 && proj.length !== 3 * C) {
    throw new DpipeError('E_PARAM_VALUE', `"projection" must be a 3×${C} matrix (${3 * C} numbers, row-major) for a latent with ${C} channels; got ${proj.length} numbers`);
  }
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new DpipeError('E_PARAM_VALUE', `scale must be an integer ≥ 1; got ${scale}`);
  const outC: 1 | 3 = proj.length === 0 && C === 1 ? 1 : 3;
  const plane = H * W;
  const toByte = (v: number) => {
    const t = (v - lo) / (hi - lo);
    return Number.isNaN(t) ? 0 : Math.round(Math.min(1, Math.max(0, t)) * 255);
  };
  const images: Image8[] = [];
  for (let b = 0; b < B; b++) {
    const base = b * C * plane;
    const small = new Uint8Array(plane * outC);
    for (let p = 0; p < plane; p++) {
      for (let r = 0; r < outC; r++) {
        let v: number;
        if (proj.length === 0) v = x.data[base + r * plane + p];
        else {
          v = 0;
          for (let c = 0; c < C; c++) v += proj[r * C + c] * x.data[base + c * plane + p];
        }
        small[p * outC + r] = toByte(v);
      }
    }
    images.push(upscale({ width: W, height: H, channels: outC, data: small }, scale));
  }
  return images;
}

function upscale(img: Image8, s: number): Image8 {
  if (s === 1) return img;
  const w = img.width * s;
  const h = img.height * s;
  const c = img.channels;
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = (Math.floor(y / s) * img.width + Math.floor(x / s)) * c;
      const dst = (y * w + x) * c;
      for (let k = 0; k < c; k++) data[dst + k] = img.data[src + k];
    }
  }
  return { width: w, height: h, channels: c, data };
}

/**
 * Tiles images of one size into a grid, row by row, `columns` per row (0: ⌈√n⌉), with `pad` pixels of
 * black between and around the tiles.
 */
export function imageGrid(images: readonly Image8[], columns = 0, pad = 2): Image8 {
  if (images.length === 0) throw new DpipeError('E_INTERNAL', 'imageGrid needs at least one image');
  const { width: w, height: h, channels: c } = images[0];
  const cols = Math.min(images.length, columns > 0 ? columns : Math.ceil(Math.sqrt(images.length)));
  const rows = Math.ceil(images.length / cols);
  const W = cols * w + (cols + 1) * pad;
  const H = rows * h + (rows + 1) * pad;
  const data = new Uint8Array(W * H * c);
  images.forEach((img, i) => {
    const x0 = pad + (i % cols) * (w + pad);
    const y0 = pad + Math.floor(i / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      data.set(img.data.subarray(y * w * c, (y + 1) * w * c), ((y0 + y) * W + x0) * c);
    }
  });
  return { width: W, height: H, channels: c, data };
}
