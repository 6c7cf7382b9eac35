/**
 * A cheap latent → RGB view for live previews and the Latent Inspector, fitted on the model's own VAE decoder:
 * rgb ≈ P·c + b per latent pixel, P a 3×C matrix (C = 4 for SD 1.x/2.x/SDXL, 16 for SD3), fitted by least squares
 * between latent pixels and the mean colour of the 8×8 image block each decodes to. The latents fitted on are smooth
 * random fields (seeded, so the fit is deterministic) — the low spatial frequencies of real images, where a linear
 * view of the VAE is most faithful. One small decode per VAE file, cached per file version.
 *
 * Why fitted and not a table of constants: it works for every VAE a user has (fine-tuned VAEs, SD3's 16 channels, a
 * test model) and its quality can be measured (`test/sd/preview.test.ts` compares it with the real decode).
 */
import { DpipeError } from '../core/errors';
import type { Latent } from '../core/types';
import { seededBatch } from '../noise/seeded';
import type { LatentPreview } from '../registry/types';
import { floatToHalf } from '../core/npy';
import { openSession, toFloat64 } from '../model/onnx';
import { vaeDecode, type VaeValue } from './vae';

const cache = new Map<string, LatentPreview>();

/** Smooth fields: N(0,1) noise box-blurred (radius 2, wrapping) and scaled back to unit variance per channel. */
function smoothLatent(seed: number, C: number, h: number, w: number): Latent {
  const z = seededBatch(seed, [1, C, h, w], 7, 0);
  const out = new Float64Array(z.length);
  const r = 2;
  for (let c = 0; c < C; c++) {
    let ss = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) s += z[(c * h + ((y + dy + h) % h)) * w + ((x + dx + w) % w)];
        out[(c * h + y) * w + x] = s;
        ss += s * s;
      }
    }
    const k = 1 / Math.sqrt(ss / (h * w) || 1);
    for (let i = c * h * w; i < (c + 1) * h * w; i++) out[i] *= k;
  }
  return { shape: [1, C, h, w], data: out };
}

/** Solves the symmetric positive system A·x = b (n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i * n + k]) > Math.abs(M[p * n + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [M[k * n + j], M[p * n + j]] = [M[p * n + j], M[k * n + j]];
      [x[k], x[p]] = [x[p], x[k]];
    }
    const d = M[k * n + k];
    if (Math.abs(d) < 1e-300) throw new DpipeError('E_INTERNAL', 'preview fit: singular system');
    for (let i = k + 1; i < n; i++) {
      const f = M[i * n + k] / d;
      if (f === 0) continue;
      for (let j = k; j < n; j++) M[i * n + j] -= f * M[k * n + j];
      x[i] -= f * x[k];
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    let s = x[k];
    for (let j = k + 1; j < n; j++) s -= M[k * n + j] * x[j];
    x[k] = s / M[k * n + k];
  }
  return x;
}

/**
 * Least-squares fit of rgb ≈ P·c + b from latent pixels to image blocks. `pairs`: latents [1, C, h, w] with their
 * decoded images [1, 3, s·h, s·w].
 */
export function fitProjection(pairs: readonly { latent: Latent; image: Latent }[], scale: number): { projection: number[]; bias: number[] } {
  const C = pairs[0].latent.shape[1];
  const n = C + 1;
  const AtA = new Float64Array(n * n);
  const Atb = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const row = new Float64Array(n);
  for (const { latent, image } of pairs) {
    const [, , h, w] = latent.shape;
    const [, , H, W] = image.shape;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < C; c++) row[c] = latent.data[(c * h + y) * w + x];
        row[C] = 1;
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) AtA[i * n + j] += row[i] * row[j];
        for (let k = 0; k < 3; k++) {
          let m = 0;
          for (let yy = 0; yy < scale; yy++) for (let xx = 0; xx < scale; xx++) m += image.data[(k * H + y * scale + yy) * W + x * scale + xx];
          m /= scale * scale;
          for (let i = 0; i < n; i++) Atb[k][i] += row[i] * m;
        }
      }
    }
  }
  // A whisper of ridge keeps the system regular if a channel never varies.
  for (let i = 0; i < C; i++) AtA[i * n + i] += 1e-9 * (AtA[i * n + i] + 1);
  const projection: number[] = [];
  const bias: number[] = [];
  for (let k = 0; k < 3; k++) {
    const sol = solve(AtA, Atb[k], n);
    for (let c = 0; c < C; c++) projection.push(sol[c]);
    bias.push(sol[C]);
  }
  return { projection, bias };
}

/** The preview view of a VAE's latents (fitted once per decoder file version). */
export async function fitLatentPreview(v: VaeValue, signal?: AbortSignal): Promise<LatentPreview> {
  if (!v.decoder) throw new DpipeError('E_MODEL_FOLDER', `model folder ${v.dir} has no vae_decoder: no preview projection can be fitted`);
  const s = await openSession(v.decoder.onnx, v.session);
  const key = `${v.decoder.onnx}|${s.fileStamp}|${v.scalingFactor}|${v.shiftFactor}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const C = v.latentChannels;
  const side = 12;
  const pairs = [];
  for (let k = 0; k < 3; k++) {
    const latent = smoothLatent(1000 + k, C, side, side);
    const image = await vaeDecode(v, latent, { tiling: 'off', signal });
    pairs.push({ latent, image });
  }
  const fit = fitProjection(pairs, v.scale);
  const p: LatentPreview = { ...fit, source: `fitted on ${v.decoder.onnx}` };
  cache.set(key, p);
  return p;
}

/** rgb = P·c + b for every pixel of item `b` of a [B, C, H, W] latent → [3, H, W]. */
export function projectLatent(x: Latent, b: number, p: Pick<LatentPreview, 'projection' | 'bias'>): Float32Array {
  const [, C, H, W] = x.shape;
  const hw = H * W;
  const out = new Float32Array(3 * hw);
  const base = b * C * hw;
  for (let k = 0; k < 3; k++) {
    const o = k * hw;
    out.fill(p.bias[k] ?? 0, o, o + hw);
    for (let c = 0; c < C; c++) {
      const wgt = p.projection[k * C + c];
      if (wgt === 0) continue;
      for (let i = 0; i < hw; i++) out[o + i] += wgt * x.data[base + c * hw + i];
    }
  }
  return out;
}

/**
 * The preview of a latent through a small ONNX decoder (TAESD-style: one input taking the denoiser's latent
 * [B, C, h, w] times `inputScale`, one output image [B, 3, H, W] in `range`), mapped to [−1, 1]. For live previews
 * only: it runs between model evaluations when a preview is due.
 */
export async function decodePreview(dec: { path: string; range: readonly [number, number]; inputScale?: number }, x: Latent, signal?: AbortSignal): Promise<Latent> {
  const s = await openSession(dec.path, {});
  if (s.io.inputs.length !== 1 || s.io.outputs.length < 1) {
    throw new DpipeError('E_MODEL', `preview decoder ${dec.path}: expected one input (the latent) and an image output; it has ${s.io.inputs.length} inputs`);
  }
  const inp = s.io.inputs[0];
  const out = s.io.outputs[0];
  const k = dec.inputScale ?? 1;
  const [B, C, h, w] = x.shape;
  const per = C * h * w;
  const items: Float64Array[] = [];
  let dims: number[] = [];
  for (let b = 0; b < B; b++) {
    const src = x.data.subarray(b * per, (b + 1) * per);
    const feed = inp.type === 'float16'
      ? { type: 'float16', data: Uint16Array.from(src, (v) => floatToHalf(v * k)), dims: [1, C, h, w] }
      : { type: 'float32', data: Float32Array.from(src, (v) => v * k), dims: [1, C, h, w] };
    const r = (await s.run({ [inp.name]: feed }, [out.name], signal))[out.name];
    const d = toFloat64(r);
    const [lo, hi] = dec.range;
    for (let i = 0; i < d.length; i++) d[i] = ((d[i] - lo) / (hi - lo)) * 2 - 1;
    items.push(d);
    dims = [...r.dims];
  }
  const n = items[0].length;
  const data = new Float64Array(B * n);
  items.forEach((d, b) => data.set(d, b * n));
  return { shape: [B, dims[1], dims[2], dims[3]], data };
}
