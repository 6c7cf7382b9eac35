/**
 * Output blocks: PNG images and .npy latents, written through the run's `writeOutput` service (the runner
 * puts them in the run's output directory and stamps every PNG with the pipeline, see `run/png.ts`).
 *
 * Coordinates: the engine holds every state in VE/EDM coordinates, x = x0 + σ·ε (Karras et al. 2022). Libraries
 * that sample in variance-preserving coordinates (diffusers' DDIM/PNDM/DPM-Solver/UniPC/DEIS/SA-Solver schedulers,
 * LuChengTHU/dpm-solver, wl-zhao/UniPC; Song et al. 2021, "Score-Based Generative Modeling through SDEs", VP SDE)
 * return x_vp = α·x0 + σ_vp·ε = x/√(1+σ²) at the run's last σ (α = 1/√(1+σ²), σ_vp = σ·α). `output.latent` writes
 * either. σ_end comes from an explicit wire: the block's optional SIGMAS input takes the same schedule the Sample
 * block ran on, and its last value is σ_end. A wire rather than a value carried inside the LATENT keeps the graph
 * the whole story (what the file holds is visible in the editor), and works for latents that pass through other
 * blocks on their way to the output.
 */
import { DpipeError } from '../core/errors';
import { checkAllocation } from '../core/budget';
import { encodeNpy } from '../core/npy';
import type { Latent } from '../core/types';
import { encodePng } from '../run/png';
import type { EvalContext, NodeType } from '../registry/node';
import type { ModelValue, Params } from '../registry/types';
import { imageGrid, latentToImages } from './image';

/** Value range used when neither the block nor the model says: the usual [-1, 1] of diffusion training data. */
export const DEFAULT_VALUE_RANGE: readonly [number, number] = [-1, 1];

function checkName(ctx: EvalContext, name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new DpipeError('E_PARAM_VALUE', `${ctx.nodeId}: name "${String(name)}" must be 1–100 letters, digits, '.', '_' or '-' (no path separators), starting with a letter or digit`);
  }
  return name;
}

async function write(ctx: EvalContext, kind: 'png' | 'npy', name: string, data: Uint8Array): Promise<string | undefined> {
  return ctx.services.writeOutput ? ctx.services.writeOutput(ctx.nodeId, kind, name, data) : undefined;
}

/** Resolves the value range: the block's own, else the model's (sidecar), else [-1, 1]. */
export function resolveValueRange(param: unknown, model: ModelValue | undefined): readonly [number, number] {
  const p = (param ?? []) as readonly number[];
  if (p.length === 2) return [p[0], p[1]];
  if (p.length !== 0) throw new DpipeError('E_PARAM_VALUE', `valueRange must be empty (from the model, else [-1, 1]) or two numbers [lo, hi]; got ${p.length} numbers`);
  return model?.valueRange ?? DEFAULT_VALUE_RANGE;
}

export const outputImage: NodeType = {
  type: 'output.image',
  category: 'Output',
  title: 'Save images',
  doc:
    'Writes one PNG per batch item (`NAME.png` for one item; `NAME-0.png`, `NAME-1.png`, … and a grid `NAME-grid.png` ' +
    'for several) from a [B, C, H, W] latent. Values map linearly from the value range to 0–255. One channel gives a ' +
    'grayscale image, three give RGB; other channel counts need a projection matrix to RGB. Every PNG carries the ' +
    'pipeline (text chunk `dpipe`), so the image opens back as its pipeline.',
  inputs: [
    { name: 'latent', type: 'LATENT', doc: 'The samples, [B, C, H, W].' },
    { name: 'model', type: 'MODEL', optional: true, doc: 'The model, for its value range (sidecar `valueRange`).' },
  ],
  outputs: [],
  params: [
    { name: 'name', type: 'string', default: 'image', doc: 'File name stem (letters, digits, . _ -).' },
    { name: 'valueRange', type: 'numberList', default: [], doc: 'Values shown as black and white, [lo, hi]. Empty: the model\'s range (sidecar valueRange), else [-1, 1].' },
    { name: 'projection', type: 'numberList', default: [], advanced: true, doc: 'For latents that are not 1- or 3-channel: a 3×C matrix, row-major (rows R, G, B), applied to each pixel\'s channels before the value range.' },
    { name: 'scale', type: 'integer', default: 1, min: 1, max: 32, doc: 'Nearest-neighbour upscaling factor (small latents are easier to see at 4–8).' },
    { name: 'grid', type: 'boolean', default: true, doc: 'Also write a grid of all items when the batch has more than one.' },
    { name: 'gridColumns', type: 'integer', default: 0, min: 0, max: 1024, advanced: true, doc: 'Grid columns; 0 = ⌈√batch⌉.' },
  ],
  async evaluate(ctx, inputs, params) {
    return { files: await writeImages(ctx, inputs.latent as Latent, inputs.model as ModelValue | undefined, params) };
  },
  async check(ctx, inputs, params) {
    checkName(ctx, params.name);
    const x = inputs.latent as Latent | undefined;
    const range = resolveValueRange(params.valueRange, inputs.model as ModelValue | undefined);
    if (!x) return;
    if (x.shape.length !== 4) latentToImages(x, { valueRange: range });
    const [B, C, H, W] = x.shape;
    const scale = (params.scale as number | undefined) ?? 1;
    // The images' conversion checks (channels, projection, value range, scale) on one pixel of the real channel count.
    latentToImages({ shape: [1, C, 1, 1], data: new Float64Array(C) }, { valueRange: range, projection: params.projection as readonly number[] | undefined, scale: 1 });
    // RGB(A) bytes of every image and the grid, as one allocation each.
    checkAllocation([B + 1, 4, H * scale, W * scale], `output.image "${ctx.nodeId}" (images of ${W * scale}×${H * scale} pixels)`, ctx.services.budget, 1 / 8);
  },
};

async function writeImages(ctx: EvalContext, x: Latent, model: ModelValue | undefined, params: Params): Promise<string[]> {
  const name = checkName(ctx, params.name);
  const images = latentToImages(x, {
    valueRange: resolveValueRange(params.valueRange, model),
    projection: params.projection as readonly number[] | undefined,
    scale: (params.scale as number | undefined) ?? 1,
  });
  const files: string[] = [];
  const put = async (stem: string, png: Uint8Array) => {
    const f = await write(ctx, 'png', stem, png);
    if (f) files.push(f);
  };
  if (images.length === 1) await put(name, encodePng(images[0]));
  else {
    for (let i = 0; i < images.length; i++) await put(`${name}-${i}`, encodePng(images[i]));
    if (params.grid !== false) await put(`${name}-grid`, encodePng(imageGrid(images, (params.gridColumns as number | undefined) ?? 0)));
  }
  return files;
}

/** The coordinates a saved latent is written in; see the module doc. */
export const LATENT_SPACES = ['ve', 'vp'] as const;
export type LatentSpace = (typeof LATENT_SPACES)[number];

/** A VE-coordinate state x at noise level σ in `space` coordinates: as is for `ve`, x/√(1+σ²) for `vp`. */
export function latentInSpace(x: Latent, sigma: number, space: LatentSpace): Latent {
  if (space === 've') return x;
  const c = 1 / Math.sqrt(1 + sigma * sigma);
  return { shape: x.shape, data: x.data.map((v) => v * c) };
}

/** σ_end of the run that produced the latent: the last value of the connected schedule. */
export function sigmaEnd(ctx: EvalContext, sigmas: Float64Array | undefined): number {
  const block = `${ctx.nodeId}`;
  if (!sigmas) {
    throw new DpipeError('E_INPUT_MISSING', `"${block}": space "vp" divides by √(1+σ_end²) and needs σ_end: connect the SIGMAS the Sample block ran on to its "sigmas" input, or use space "ve"`);
  }
  const s = sigmas[sigmas.length - 1];
  if (sigmas.length === 0 || !Number.isFinite(s) || s < 0) {
    throw new DpipeError('E_PARAM_VALUE', `"${block}": the connected schedule's last σ is ${sigmas.length === 0 ? 'missing (empty schedule)' : s}; σ_end must be a finite value ≥ 0`);
  }
  return s;
}

export const outputLatent: NodeType = {
  type: 'output.latent',
  category: 'Output',
  title: 'Save latent',
  doc:
    'Writes the latent as a NumPy .npy file `NAME.npy` (C order, little-endian), shape [B, C, H, W], in VE ' +
    'coordinates x = x0 + σ·ε (default) or in the VP coordinates x/√(1+σ_end²) that diffusers\' VP-space schedulers, ' +
    'DPM-Solver and UniPC return; σ_end is the last σ of the schedule connected to `sigmas` (the one the Sample ' +
    'block ran on). The two agree when the run ends at σ = 0.',
  inputs: [
    { name: 'latent', type: 'LATENT', doc: 'The array to save (as the Sample block outputs it: VE coordinates).' },
    { name: 'sigmas', type: 'SIGMAS', optional: true, doc: 'The schedule the Sample block that produced the latent ran on (connect the same wire); its last σ is σ_end. Needed by space "vp".' },
  ],
  outputs: [],
  params: [
    { name: 'name', type: 'string', default: 'latent', doc: 'File name stem (letters, digits, . _ -).' },
    { name: 'dtype', type: 'enum', default: 'float32', options: ['float32', 'float64'], doc: 'Stored precision (the engine computes in float64).' },
    {
      name: 'space',
      type: 'enum',
      default: 've',
      options: [...LATENT_SPACES],
      optionDocs: {
        ve: 'x = x0 + σ·ε, as the engine holds it: what k-diffusion, EDM and diffusers\' Euler/Heun/LMS/Euler-ancestral schedulers return.',
        vp: 'x/√(1+σ_end²) = α·x0 + σ_vp·ε: what diffusers\' DDIM/PNDM/DPM-Solver(++)/UniPC/DEIS/SA-Solver schedulers and the LuChengTHU/dpm-solver and wl-zhao/UniPC samplers return. Needs the `sigmas` input.',
      },
      doc: 'Coordinates of the saved array (they differ unless the run ends at σ = 0).',
    },
  ],
  async evaluate(ctx, inputs, params) {
    const space: LatentSpace = params.space === 'vp' ? 'vp' : 've';
    const v = inputs.latent as Latent;
    const x = space === 've' ? v : latentInSpace(v, sigmaEnd(ctx, inputs.sigmas as Float64Array | undefined), space);
    const name = checkName(ctx, params.name);
    const f = await write(ctx, 'npy', name, encodeNpy(x.shape, x.data, params.dtype === 'float64' ? '<f8' : '<f4'));
    return { files: f ? [f] : [] };
  },
  async check(ctx, inputs, params) {
    checkName(ctx, params.name);
    if (params.space === 'vp') sigmaEnd(ctx, inputs.sigmas as Float64Array | undefined);
  },
};
