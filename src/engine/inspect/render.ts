/**
 * How the inspector turns one batch item of a [B, C, H, W] plane into pixels — the same function draws the
 * webview's canvases and the exported PNG/GIF frames, so an export looks exactly like the screen. Pure: no DOM,
 * no node imports.
 *
 * Channels (`ViewOptions.channels`):
 * - `auto`: 1 channel → gray, 3 → RGB, any other count → the projection (default: the first three channels as
 *   R, G, B, missing ones 0; a model folder's run gives its fitted latent → RGB view, `vae/preview.ts`);
 * - `project`: RGB = P·c per pixel with P a 3×C matrix, row-major (as `output.image`'s `projection`);
 * - a channel number k: channel k as gray;
 * - `tile`: every channel as gray, side by side (C tiles, one pixel of gap).
 *
 * Range (`ViewOptions.range`): `fixed` maps [lo, hi] linearly to 0–255 (clamped); `channel` normalizes each
 * displayed channel (each of R, G, B after projection) to its own min–max over the item.
 */

export type ChannelMode = 'auto' | 'project' | 'tile' | number;

export interface ViewOptions {
  readonly channels: ChannelMode;
  /** 3×C row-major projection for `project` (and `auto` with C ∉ {1, 3}); empty: first three channels. */
  readonly projection?: readonly number[];
  /** Added to R, G, B after the projection (a model's fitted latent → RGB view, `LatentPreview`); empty: 0. */
  readonly bias?: readonly number[];
  readonly range: { readonly mode: 'fixed'; readonly lo: number; readonly hi: number } | { readonly mode: 'channel' };
}

export const DEFAULT_VIEW: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } };

/** An RGBA image (canvas ImageData layout). */
export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** The default projection for C channels: identity on the first min(C, 3) channels. */
export function defaultProjection(C: number): number[] {
  const p = new Array<number>(3 * C).fill(0);
  for (let r = 0; r < Math.min(3, C); r++) p[r * C + r] = 1;
  return p;
}

/** The float values behind each displayed channel of item b: `out[k]` is an H·W array (k = 0..K−1). */
export function displayChannels(data: ArrayLike<number>, shape: readonly number[], b: number, view: ViewOptions): { planes: Float32Array[]; gray: boolean; tiles: number } {
  const [, C, H, W] = shape;
  const hw = H * W;
  const base = b * C * hw;
  const chan = (c: number) => {
    const out = new Float32Array(hw);
    for (let p = 0; p < hw; p++) out[p] = data[base + c * hw + p];
    return out;
  };
  const mode = view.channels;
  if (typeof mode === 'number') return { planes: [chan(Math.max(0, Math.min(C - 1, mode)))], gray: true, tiles: 1 };
  if (mode === 'tile') return { planes: Array.from({ length: C }, (_, c) => chan(c)), gray: true, tiles: C };
  if (mode === 'auto' && C === 1) return { planes: [chan(0)], gray: true, tiles: 1 };
  if (mode === 'auto' && C === 3) return { planes: [chan(0), chan(1), chan(2)], gray: false, tiles: 1 };
  const fits = view.projection && view.projection.length === 3 * C;
  const P = fits ? view.projection! : defaultProjection(C);
  const planes = [0, 1, 2].map((r) => {
    const out = new Float32Array(hw);
    if (fits && view.bias?.[r]) out.fill(view.bias[r]);
    for (let c = 0; c < C; c++) {
      const w = P[r * C + c];
      if (w === 0) continue;
      for (let p = 0; p < hw; p++) out[p] += w * data[base + c * hw + p];
    }
    return out;
  });
  return { planes, gray: false, tiles: 1 };
}

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function toByte(v: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 128;
  const t = (v - lo) / (hi - lo);
  return t !== t ? 0 : Math.round(Math.min(1, Math.max(0, t)) * 255);
}

/** Renders item b of a [B, C, H, W] plane (see the module comment). */
export function renderItem(data: ArrayLike<number>, shape: readonly number[], b: number, view: ViewOptions): Rgba {
  const [, , H, W] = shape;
  const { planes, gray, tiles } = displayChannels(data, shape, b, view);
  const gap = tiles > 1 ? 1 : 0;
  const width = tiles * W + (tiles - 1) * gap;
  const out = new Uint8ClampedArray(width * H * 4);
  if (gap) for (let k = 3; k < out.length; k += 4) out[k] = 255; // gaps between tiles: opaque black
  const ranges = planes.map((p) => (view.range.mode === 'fixed' ? [view.range.lo, view.range.hi] : minMax(p)));
  if (gray) {
    planes.forEach((p, t) => {
      const [lo, hi] = ranges[t];
      const x0 = t * (W + gap);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const v = toByte(p[y * W + x], lo, hi);
          const o = (y * width + x0 + x) * 4;
          out[o] = out[o + 1] = out[o + 2] = v;
          out[o + 3] = 255;
        }
      }
    });
  } else {
    for (let q = 0; q < H * W; q++) {
      const o = q * 4;
      for (let r = 0; r < 3; r++) out[o + r] = toByte(planes[r][q], ranges[r][0], ranges[r][1]);
      out[o + 3] = 255;
    }
  }
  return { width, height: H, data: out };
}

/** Nearest-neighbour upscaling by an integer factor. */
export function zoomRgba(img: Rgba, s: number): Rgba {
  if (s <= 1) return img;
  const w = img.width * s;
  const h = img.height * s;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.floor(y / s) * img.width;
    for (let x = 0; x < w; x++) {
      const src = (sy + Math.floor(x / s)) * 4;
      const dst = (y * w + x) * 4;
      out[dst] = img.data[src];
      out[dst + 1] = img.data[src + 1];
      out[dst + 2] = img.data[src + 2];
      out[dst + 3] = img.data[src + 3];
    }
  }
  return { width: w, height: h, data: out };
}

/** Tiles RGBA images of one size in a grid (`cols` 0 = ⌈√n⌉) with `pad` pixels of `bg` between and around. */
export function gridRgba(images: readonly Rgba[], cols = 0, pad = 2, bg = 0): Rgba {
  const { width: w, height: h } = images[0];
  const c = Math.min(images.length, cols > 0 ? cols : Math.ceil(Math.sqrt(images.length)));
  const rows = Math.ceil(images.length / c);
  const W = c * w + (c + 1) * pad;
  const H = rows * h + (rows + 1) * pad;
  const out = new Uint8ClampedArray(W * H * 4).fill(bg);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  images.forEach((img, k) => {
    const x0 = pad + (k % c) * (w + pad);
    const y0 = pad + Math.floor(k / c) * (h + pad);
    for (let y = 0; y < h; y++) out.set(img.data.subarray(y * w * 4, (y + 1) * w * 4), ((y0 + y) * W + x0) * 4);
  });
  return { width: W, height: H, data: out };
}

/** Item b of every batch item as one grid (`b` = 'grid'), or the single item. */
export function renderView(data: ArrayLike<number>, shape: readonly number[], item: number | 'grid', view: ViewOptions): Rgba {
  if (item !== 'grid') return renderItem(data, shape, item, view);
  const B = shape[0];
  return gridRgba(Array.from({ length: B }, (_, b) => renderItem(data, shape, b, view)));
}

/** RGBA → packed RGB bytes (for PNG). */
export function rgbaToRgb(img: Rgba): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 3);
  for (let p = 0, q = 0; p < img.data.length; p += 4, q += 3) {
    out[q] = img.data[p];
    out[q + 1] = img.data[p + 1];
    out[q + 2] = img.data[p + 2];
  }
  return out;
}
