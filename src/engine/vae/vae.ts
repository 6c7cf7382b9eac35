/**
 * The VAE of a latent diffusion model (Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion
 * Models", §3), as a model folder exports it: `vae_decoder/model.onnx` (latent_sample → sample) and
 * `vae_encoder/model.onnx` (sample → latent_parameters, the mean and log-variance of the latent's diagonal Gaussian;
 * older exports give a drawn `latent_sample` instead).
 *
 * Scaling as diffusers' pipelines do it: the denoiser works on z·scaling_factor (SD3: (z − shift_factor)·scaling_factor),
 * so decoding feeds latents/scaling_factor + shift_factor and encoding returns (z − shift_factor)·scaling_factor.
 * Images are [B, 3, H, W] in [−1, 1].
 *
 * Tiled decoding follows diffusers' `AutoencoderKL.tiled_decode`: tiles of `tile` latent pixels every
 * ⌊tile·(1 − overlap)⌋, each decoded alone, each tile blended in place with the (already blended) tile above and to
 * its left over ⌊8·tile·overlap⌋ image pixels, linearly, then cropped to 8·tile − blend and joined.
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import { floatToHalf } from '../core/npy';
import type { Latent } from '../core/types';
import { openSession, releaseSession, toFloat64, type SessionOptions, type Tensor } from '../model/onnx';
import type { FolderPart } from '../model/folder';

/** VAE: a folder's VAE decoder and encoder with their scaling. */
export interface VaeValue {
  readonly dir: string;
  readonly decoder?: FolderPart;
  readonly encoder?: FolderPart;
  readonly scalingFactor: number;
  readonly shiftFactor: number;
  readonly latentChannels: number;
  /** Image pixels per latent pixel (2^(len(block_out_channels) − 1), 8 for every Stable Diffusion VAE). */
  readonly scale: number;
  /** Default tile side in latent pixels (config sample_size / scale). */
  readonly tileSize: number;
  readonly session: SessionOptions;
  readonly keepLoaded: boolean;
}

export const TILING_MODES = ['auto', 'on', 'off'] as const;
export type TilingMode = (typeof TILING_MODES)[number];

export interface DecodeOptions {
  readonly tiling?: TilingMode;
  /** Tile side in latent pixels; 0 = the VAE's default. */
  readonly tileSize?: number;
  /** Overlap between tiles as a fraction of the tile (diffusers: 0.25). */
  readonly overlap?: number;
  readonly signal?: AbortSignal;
}

function rel(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join('/');
}

function floatFeed(type: string, data: Float64Array, dims: number[]): Tensor {
  if (type === 'float16') return { type: 'float16', data: Uint16Array.from(data, floatToHalf), dims };
  if (type === 'float32') return { type: 'float32', data: Float32Array.from(data), dims };
  throw new DpipeError('E_MODEL_FOLDER', `the VAE takes ${type}; dpipe feeds float32 or float16`);
}

/** Decodes one item [C, h, w] (already unscaled) → [3, 8h, 8w]. */
async function decodeTile(v: VaeValue, z: Float64Array, C: number, h: number, w: number, signal?: AbortSignal): Promise<{ data: Float64Array; H: number; W: number; ch: number }> {
  const dec = v.decoder!;
  const s = await openSession(dec.onnx, v.session);
  const inp = s.io.inputs.find((t) => t.name === 'latent_sample') ?? (s.io.inputs.length === 1 ? s.io.inputs[0] : undefined);
  if (!inp) throw new DpipeError('E_MODEL_FOLDER', `${rel(v.dir, dec.onnx)} has no "latent_sample" input (inputs: ${s.io.inputs.map((t) => t.name).join(', ')})`);
  const outName = s.io.outputs.find((t) => t.name === 'sample')?.name ?? s.io.outputs[0]?.name;
  const out = (await s.run({ [inp.name]: floatFeed(inp.type, z, [1, C, h, w]) }, [outName], signal))[outName];
  if (out.dims.length !== 4 || out.dims[0] !== 1) throw new DpipeError('E_MODEL_FOLDER', `${rel(v.dir, dec.onnx)}: output "${outName}" has shape [${out.dims.join(',')}]; expected [1, 3, H, W]`);
  const data = toFloat64(out);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DpipeError('E_NAN', `${rel(v.dir, dec.onnx)} returned NaN or infinity (element ${i})${out.type === 'float16' ? ': float16 overflow in the VAE (SDXL\'s VAE is known to overflow in float16; use a float32 VAE export)' : ''}`);
    }
  }
  return { data, ch: out.dims[1], H: out.dims[2], W: out.dims[3] };
}

/** Decodes a [B, C, h, w] denoiser latent to images [B, 3, H, W] in [−1, 1]. */
export async function vaeDecode(v: VaeValue, x: Latent, o: DecodeOptions = {}): Promise<Latent> {
  if (!v.decoder) throw new DpipeError('E_MODEL_FOLDER', `model folder ${v.dir} has no vae_decoder/model.onnx: it cannot decode latents to images`);
  if (x.shape.length !== 4) throw new DpipeError('E_SHAPE', `vae.decode: the latent has shape [${x.shape.join(',')}]; expected [B, C, H, W]`);
  const [B, C, h, w] = x.shape;
  if (C !== v.latentChannels) {
    throw new DpipeError('E_SHAPE', `vae.decode: the latent has ${C} channels; ${rel(v.dir, v.decoder.configPath ?? v.decoder.onnx)} decodes ${v.latentChannels}`);
  }
  const tile = o.tileSize && o.tileSize > 0 ? o.tileSize : v.tileSize;
  const overlap = o.overlap ?? 0.25;
  const mode = o.tiling ?? 'auto';
  const tiled = mode === 'on' ? h > tile || w > tile : mode === 'auto' ? h * w > 4 * tile * tile : false;
  const per = C * h * w;
  const items: Float64Array[] = [];
  let dims: [number, number, number] | undefined;
  try {
    for (let b = 0; b < B; b++) {
      const z = new Float64Array(per);
      for (let i = 0; i < per; i++) z[i] = x.data[b * per + i] / v.scalingFactor + v.shiftFactor;
      const img = tiled ? await tiledDecode(v, z, C, h, w, tile, overlap, o.signal) : await decodeTile(v, z, C, h, w, o.signal);
      dims = [img.ch, img.H, img.W];
      items.push(img.data);
    }
  } finally {
    if (!v.keepLoaded) releaseSession(v.decoder.onnx);
  }
  const [ch, H, W] = dims!;
  const data = new Float64Array(B * ch * H * W);
  items.forEach((it, b) => data.set(it, b * ch * H * W));
  return { shape: [B, ch, H, W], data };
}

async function tiledDecode(v: VaeValue, z: Float64Array, C: number, h: number, w: number, tile: number, overlap: number, signal?: AbortSignal): Promise<{ data: Float64Array; H: number; W: number; ch: number }> {
  const stride = Math.floor(tile * (1 - overlap));
  if (stride < 1) throw new DpipeError('E_PARAM_VALUE', `vae.decode: tile ${tile} with overlap ${overlap} leaves no stride; use a larger tile or a smaller overlap`);
  const sampleTile = tile * v.scale;
  const blend = Math.floor(sampleTile * overlap);
  const limit = sampleTile - blend;
  type Tile = { data: Float64Array; ch: number; H: number; W: number };
  const rows: Tile[][] = [];
  for (let i = 0; i < h; i += stride) {
    const row: Tile[] = [];
    for (let j = 0; j < w; j += stride) {
      const th = Math.min(tile, h - i);
      const tw = Math.min(tile, w - j);
      const part = new Float64Array(C * th * tw);
      for (let c = 0; c < C; c++) for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) part[(c * th + y) * tw + x] = z[(c * h + i + y) * w + j + x];
      row.push(await decodeTile(v, part, C, th, tw, signal));
    }
    rows.push(row);
  }
  // Blend in place, in diffusers' order: each tile with the already-blended tile above, then the one to its left.
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < rows[r].length; c++) {
      const b = rows[r][c];
      if (r > 0) {
        const a = rows[r - 1][c];
        const e = Math.min(a.H, b.H, blend);
        for (let ch = 0; ch < b.ch; ch++) for (let y = 0; y < e; y++) for (let x = 0; x < b.W; x++) {
          const t = y / e;
          b.data[(ch * b.H + y) * b.W + x] = a.data[(ch * a.H + a.H - e + y) * a.W + x] * (1 - t) + b.data[(ch * b.H + y) * b.W + x] * t;
        }
      }
      if (c > 0) {
        const a = rows[r][c - 1];
        const e = Math.min(a.W, b.W, blend);
        for (let ch = 0; ch < b.ch; ch++) for (let y = 0; y < b.H; y++) for (let x = 0; x < e; x++) {
          const t = x / e;
          b.data[(ch * b.H + y) * b.W + x] = a.data[(ch * a.H + y) * a.W + a.W - e + x] * (1 - t) + b.data[(ch * b.H + y) * b.W + x] * t;
        }
      }
    }
  }
  const ch = rows[0][0].ch;
  const H = rows.reduce((acc, row) => acc + Math.min(limit, row[0].H), 0);
  const W = rows[0].reduce((acc, t) => acc + Math.min(limit, t.W), 0);
  const out = new Float64Array(ch * H * W);
  let y0 = 0;
  for (const row of rows) {
    const rh = Math.min(limit, row[0].H);
    let x0 = 0;
    for (const t of row) {
      const tw = Math.min(limit, t.W);
      for (let k = 0; k < ch; k++) for (let y = 0; y < rh; y++) for (let x = 0; x < tw; x++) out[(k * H + y0 + y) * W + x0 + x] = t.data[(k * t.H + y) * t.W + x];
      x0 += tw;
    }
    y0 += rh;
  }
  return { data: out, ch, H, W };
}

export const ENCODE_MODES = ['mean', 'sample'] as const;
export type EncodeMode = (typeof ENCODE_MODES)[number];

/**
 * Encodes images [B, 3, H, W] in [−1, 1] to denoiser latents [B, C, H/8, W/8]: the latent distribution's mean
 * (diffusers' retrieve_latents sample_mode="argmax") or a draw mean + σ·z with z from `noise` (sample_mode="sample"),
 * then (z − shift_factor)·scaling_factor.
 */
export async function vaeEncode(v: VaeValue, img: Latent, mode: EncodeMode, noise?: (shape: readonly number[]) => Float64Array, signal?: AbortSignal): Promise<Latent> {
  if (!v.encoder) throw new DpipeError('E_MODEL_FOLDER', `model folder ${v.dir} has no vae_encoder/model.onnx: it cannot encode images (image-to-image)`);
  if (img.shape.length !== 4 || img.shape[1] !== 3) throw new DpipeError('E_SHAPE', `vae.encode: the image has shape [${img.shape.join(',')}]; expected [B, 3, H, W]`);
  const [B, , H, W] = img.shape;
  if (H % v.scale !== 0 || W % v.scale !== 0) throw new DpipeError('E_SHAPE', `vae.encode: the image is ${W}×${H}; both sides must be multiples of ${v.scale}`);
  const enc = v.encoder;
  const per = 3 * H * W;
  const outs: Float64Array[] = [];
  let lshape: number[] = [];
  try {
    const s = await openSession(enc.onnx, v.session);
    const inp = s.io.inputs.find((t) => t.name === 'sample') ?? (s.io.inputs.length === 1 ? s.io.inputs[0] : undefined);
    if (!inp) throw new DpipeError('E_MODEL_FOLDER', `${rel(v.dir, enc.onnx)} has no "sample" input (inputs: ${s.io.inputs.map((t) => t.name).join(', ')})`);
    const params = s.io.outputs.find((t) => t.name === 'latent_parameters');
    const drawn = s.io.outputs.find((t) => t.name === 'latent_sample');
    const outName = params?.name ?? drawn?.name;
    if (!outName) throw new DpipeError('E_MODEL_FOLDER', `${rel(v.dir, enc.onnx)} has neither a "latent_parameters" nor a "latent_sample" output (outputs: ${s.io.outputs.map((t) => t.name).join(', ')})`);
    for (let b = 0; b < B; b++) {
      const o = (await s.run({ [inp.name]: floatFeed(inp.type, img.data.subarray(b * per, (b + 1) * per), [1, 3, H, W]) }, [outName], signal))[outName];
      const d = toFloat64(o);
      const C = params ? o.dims[1] / 2 : o.dims[1];
      const h = o.dims[2];
      const w = o.dims[3];
      if (params && C !== v.latentChannels) throw new DpipeError('E_MODEL_FOLDER', `${rel(v.dir, enc.onnx)}: latent_parameters has ${o.dims[1]} channels; expected 2 × ${v.latentChannels}`);
      const n = C * h * w;
      const z = d.slice(0, n);
      if (params && mode === 'sample') {
        if (!noise) throw new DpipeError('E_INPUT_MISSING', 'vae.encode: mode "sample" draws from the latent distribution and needs a NOISE input');
        const e = noise([1, C, h, w]);
        for (let i = 0; i < n; i++) {
          const logvar = Math.min(20, Math.max(-30, d[n + i]));
          z[i] += Math.exp(0.5 * logvar) * e[i];
        }
      }
      for (let i = 0; i < n; i++) z[i] = (z[i] - v.shiftFactor) * v.scalingFactor;
      outs.push(z);
      lshape = [C, h, w];
    }
  } finally {
    if (!v.keepLoaded) releaseSession(enc.onnx);
  }
  const n = lshape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(B * n);
  outs.forEach((z, b) => data.set(z, b * n));
  return { shape: [B, ...lshape], data };
}
