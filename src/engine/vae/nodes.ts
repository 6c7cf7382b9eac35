/**
 * VAE blocks of a model folder (`vae.ts`) and the image source for image-to-image:
 * - `vae.decode`: the Sample block's latent → images in [−1, 1] (then `output.image` writes PNGs);
 * - `vae.encode`: images → latents for image-to-image (a Sample block started part-way, `schedule.strength`);
 * - `image.load`: a PNG → [B, 3, H, W] in [−1, 1].
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { Latent } from '../core/types';
import { decodePngRgb } from '../run/png';
import { LATENT_SPACES, latentInSpace, sigmaEnd } from '../nodes/output';
import { defineBlock, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import type { NoiseValue } from '../registry/types';
import { ENCODE_MODES, TILING_MODES, vaeDecode, vaeEncode, type VaeValue } from './vae';

const DECODE_PARAMS = defineParams(
  {
    name: 'tiling', type: 'enum', default: 'auto', options: TILING_MODES,
    doc: 'Decode in overlapping tiles (diffusers\' tiled VAE decoding), for images too large to decode at once.',
    optionDocs: {
      auto: 'Tiles when the latent has more than four tiles\' worth of pixels.',
      on: 'Tiles whenever the latent is larger than one tile.',
      off: 'Decodes each image at once.',
    },
  },
  { name: 'tileSize', type: 'integer', default: 0, min: 0, max: 1024, advanced: true, doc: 'Tile side in latent pixels; 0 = the VAE\'s sample_size / 8 (64 for SD 1.x, 128 for SDXL).' },
  { name: 'overlap', type: 'number', default: 0.25, min: 0, max: 0.75, step: 0.05, advanced: true, doc: 'Overlap between neighbouring tiles, as a fraction of the tile (diffusers: 0.25); the overlap is blended linearly.' },
  {
    name: 'space', type: 'enum', default: 've', options: [...LATENT_SPACES],
    doc: 'Coordinates of the latent the VAE decodes (they differ only when the run ends above σ = 0).',
    optionDocs: {
      ve: 'As the Sample block holds it, x = x0 + σ·ε: what diffusers\' Euler/Heun/LMS schedulers hand the VAE.',
      vp: 'x/√(1+σ_end²): what diffusers\' VP-space schedulers (DDIM, PNDM, DPM-Solver, UniPC, DEIS) hand the VAE when they end at σ_min. Needs the `sigmas` input.',
    },
  },
);

export const VAE_DECODE = defineBlock({
  type: 'vae.decode',
  category: 'Latent',
  title: 'VAE decode',
  doc:
    'Decodes latents to images with the model folder\'s VAE decoder: latents/scaling_factor + shift_factor → decoder → ' +
    'RGB in [−1, 1], [B, 3, 8h, 8w]. Wire the result to Save images (value range [−1, 1]). Large images decode in tiles.',
  paper: 'Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models", §3 (the autoencoder); tiling as diffusers\' AutoencoderKL.tiled_decode.',
  inputs: [
    { name: 'vae', type: 'VAE', doc: 'The VAE of a model folder.' },
    { name: 'latent', type: 'LATENT', doc: 'Latents as the denoiser makes them, [B, C, h, w].' },
    { name: 'sigmas', type: 'SIGMAS', optional: true, doc: 'The schedule the Sample block ran on; its last σ is σ_end (space "vp").' },
  ],
  outputs: [{ name: 'image', type: 'LATENT', doc: 'The images, [B, 3, H, W] in [−1, 1].' }],
  params: DECODE_PARAMS,
  async check(ctx, inputs, o) {
    // What decoding would meet before it runs the decoder: the decoder, the channels, σ_end for "vp"; a stand-in image.
    const v = inputs.vae as VaeValue;
    const x = inputs.latent as Latent | undefined;
    if (!v.decoder) throw new DpipeError('E_MODEL_FOLDER', `model folder ${v.dir} has no vae_decoder/model.onnx: it cannot decode latents to images`);
    if (o.space === 'vp') sigmaEnd(ctx, inputs.sigmas as Float64Array | undefined);
    if (!x) return {};
    if (x.shape.length !== 4 || x.shape[1] !== v.latentChannels) {
      throw new DpipeError('E_SHAPE', `vae.decode "${ctx.nodeId}": the latent has shape [${x.shape.join(',')}]; the VAE decodes [B, ${v.latentChannels}, h, w]`);
    }
    const [B, , h, w] = x.shape;
    return { image: { shape: [B, 3, h * v.scale, w * v.scale], data: new Float64Array(B * 3 * h * v.scale * w * v.scale) } };
  },
  async evaluate(ctx, inputs, o) {
    const x = inputs.latent as Latent;
    const latent = o.space === 'vp' ? latentInSpace(x, sigmaEnd(ctx, inputs.sigmas as Float64Array | undefined), 'vp') : x;
    const image = await vaeDecode(inputs.vae as VaeValue, latent, { tiling: o.tiling, tileSize: o.tileSize, overlap: o.overlap, signal: ctx.services.signal });
    return { image };
  },
});

const ENCODE_PARAMS = defineParams(
  {
    name: 'mode', type: 'enum', default: 'mean', options: ENCODE_MODES,
    doc: 'Which latent of the encoder\'s distribution to use.',
    optionDocs: {
      mean: 'The distribution\'s mean (diffusers\' retrieve_latents with sample_mode "argmax"): deterministic.',
      sample: 'A draw mean + σ·z, z from the NOISE input (diffusers\' default for image-to-image).',
    },
  },
);

export const VAE_ENCODE = defineBlock({
  type: 'vae.encode',
  category: 'Latent',
  title: 'VAE encode',
  doc:
    'Encodes images [B, 3, H, W] in [−1, 1] to latents with the model folder\'s VAE encoder, scaled as the denoiser sees ' +
    'them ((z − shift_factor)·scaling_factor). For image-to-image, wire it to the Sample block\'s latent input and start ' +
    'the schedule part-way (schedule.strength).',
  paper: 'Rombach et al. 2022, §3; image-to-image as Meng et al. 2022, "SDEdit", and diffusers\' StableDiffusionImg2ImgPipeline.',
  inputs: [
    { name: 'vae', type: 'VAE', doc: 'The VAE of a model folder.' },
    { name: 'image', type: 'LATENT', doc: 'Images [B, 3, H, W] in [−1, 1] (image.load), sides multiples of 8.' },
    { name: 'noise', type: 'NOISE', optional: true, doc: 'For mode "sample": the draw of the latent distribution.' },
  ],
  outputs: [{ name: 'latent', type: 'LATENT', doc: 'Latents [B, C, H/8, W/8] as the denoiser sees them.' }],
  params: ENCODE_PARAMS,
  async evaluate(ctx, inputs, { mode }) {
    const noise = inputs.noise as NoiseValue | undefined;
    const latent = await vaeEncode(inputs.vae as VaeValue, inputs.image as Latent, mode, noise ? (shape) => noise.initial(shape) : undefined, ctx.services.signal);
    return { latent };
  },
});

const IMAGE_PARAMS = defineParams(
  { name: 'file', type: 'file', default: '', extensions: ['.png'], mustExist: true, doc: 'A PNG image, relative to the .dpipe file. Its sides must be multiples of 8 for a VAE.' },
  { name: 'batch', type: 'integer', default: 1, min: 1, max: 4096, doc: 'Copies of the image in the batch (the CLI\'s --batch overrides it).' },
);

export const IMAGE_LOAD = defineBlock({
  type: 'image.load',
  category: 'Latent',
  title: 'Load image',
  doc: 'A PNG image as [B, 3, H, W] values in [−1, 1] (2·v − 1 for v in [0, 1], as diffusers\' image processor normalizes), gray repeated to RGB, alpha dropped.',
  inputs: [],
  outputs: [{ name: 'image', type: 'LATENT', doc: 'The image, [B, 3, H, W] in [−1, 1].' }],
  params: IMAGE_PARAMS,
  async evaluate(ctx, _inputs, o) {
    const file = o.file;
    if (!file) throw new DpipeError('E_PARAM_VALUE', `image.load "${ctx.nodeId}": set "file" to a PNG image`);
    const abs = path.resolve(ctx.baseDir, file);
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(abs);
    } catch (e) {
      throw new DpipeError('E_FILE_MISSING', `image.load "${ctx.nodeId}": ${abs} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const img = decodePngRgb(bytes, abs);
    const batch = ctx.services.batch ?? o.batch;
    const n = img.data.length;
    const data = new Float64Array(n * batch);
    for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) data[b * n + i] = 2 * img.data[i] - 1;
    return { image: { shape: [batch, 3, img.height, img.width], data } };
  },
});

export const VAE_NODES: NodeType[] = [VAE_DECODE, VAE_ENCODE, IMAGE_LOAD];
