/**
 * A runnable text-to-image (or image-to-image) pipeline for a model folder, as `dpipe new --model DIR` and the
 * extension's "New Pipeline from Model Folder…" write it: model folder → prompt(s) → classifier-free guidance →
 * schedule + solver → Sample → VAE decode → images, and the final latent saved as .npy.
 *
 * By default the schedule and solver are the ones that reproduce the folder's own scheduler (its
 * scheduler_config.json class and options, `interop/diffusersScheduler.ts`), so a run with the same noise gives what
 * diffusers' pipeline gives; `solver` / `schedule` choose other blocks.
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { PipelineDoc, PipelineNode } from '../format/types';
import { SCHEDULER_CLASSES, schedulerBlocks } from '../interop/diffusersScheduler';
import type { NodeTypeInfo, Params } from '../registry/types';
import type { ModelFolder } from './folder';

export interface FolderPipelineOptions {
  /** The folder as the pipeline names it (relative to the .dpipe file's folder). */
  readonly modelPath: string;
  readonly prompt?: string;
  /** A negative prompt; undefined = none (the model's own empty conditioning, as diffusers without negative_prompt). */
  readonly negative?: string;
  /**
   * A diffusers scheduler class (e.g. DDIMScheduler) whose sampling loop the schedule and solver reproduce, with the
   * folder's scheduler config (default: the folder's own scheduler class).
   */
  readonly scheduler?: string;
  /** Solver block type (default: the one reproducing the scheduler). */
  readonly solver?: string;
  /** Schedule block type (default: the one reproducing the folder's scheduler). */
  readonly schedule?: string;
  readonly steps?: number;
  /** Guidance scale (default: 7.5 for SD 1.x/2.x, 5 for SDXL, 7 for SD3, as diffusers' pipelines). */
  readonly guidance?: number;
  /** Image size in pixels (default: the denoiser's sample_size × 8). */
  readonly width?: number;
  readonly height?: number;
  readonly batch?: number;
  readonly seed?: number;
  /** Image-to-image: a PNG (relative to the .dpipe file) and how much of the schedule to run. */
  readonly image?: string;
  readonly strength?: number;
}

const DEFAULT_GUIDANCE = { sd: 7.5, sdxl: 5, sd3: 7 } as const;
const DEFAULT_STEPS = { sd: 50, sdxl: 50, sd3: 28 } as const;

/** Builds the pipeline document. `types` is the block registry (to check the chosen block types and their params). */
export function folderPipeline(f: ModelFolder, o: FolderPipelineOptions, types: ReadonlyMap<string, NodeTypeInfo>): PipelineDoc {
  const steps = o.steps ?? DEFAULT_STEPS[f.family];
  const mapped = schedulerBlocks(o.scheduler ?? f.scheduler.className, f.scheduler.config, steps);
  if (o.scheduler && !mapped.reproduces) throw new DpipeError('E_USAGE', `scheduler "${o.scheduler}" is not a diffusers scheduler dpipe reproduces (${SCHEDULER_CLASSES.join(', ')})`);
  const scale = 2 ** (Array.isArray(f.vaeDecoder?.config.block_out_channels) ? (f.vaeDecoder!.config.block_out_channels as unknown[]).length - 1 : 3);
  const sampleSize = typeof f.denoiser.config.sample_size === 'number' ? (f.denoiser.config.sample_size as number) : f.family === 'sdxl' ? 128 : 64;
  const width = o.width ?? sampleSize * scale;
  const height = o.height ?? sampleSize * scale;
  for (const [k, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % scale !== 0) throw new DpipeError('E_USAGE', `--${k} ${v}: must be a positive multiple of ${scale} (the VAE's scale)`);
  }
  const check = (kind: string, type: string, category: string) => {
    const info = types.get(type);
    if (!info) throw new DpipeError('E_NODE_TYPE', `${kind} "${type}" is not a block type; \`dpipe blocks\` lists them`);
    if (info.category !== category) throw new DpipeError('E_NODE_TYPE', `${kind} "${type}" is a ${info.category} block, not a ${category} block`);
    return info;
  };
  const pick = (kind: 'solver' | 'schedule', type: string | undefined, fallback: { type: string; params: Params }, category: string) => {
    if (!type || type === fallback.type) return { info: check(kind, fallback.type, category), params: fallback.params };
    const info = check(kind, type, category);
    const params: Record<string, unknown> = {};
    if (info.params.some((p) => p.name === 'steps')) params.steps = steps;
    if (kind === 'solver' && info.params.some((p) => p.name === 'preset' && p.type === 'enum' && p.options.includes('diffusers'))) params.preset = 'diffusers';
    return { info, params: params as Params };
  };
  const solver = pick('solver', o.solver, mapped.solver, 'Solver');
  const schedule = pick('schedule', o.schedule, mapped.schedule, 'Schedule');

  const nodes: PipelineNode[] = [];
  const edges: { from: string; to: string }[] = [];
  const add = (id: string, type: string, params: Record<string, unknown> = {}) => nodes.push({ id, type, params: params as Params } as PipelineNode);
  const wire = (from: string, to: string) => edges.push({ from, to });

  add('model', 'model.folder', { path: o.modelPath, ...(mapped.roundTimesteps && (!o.solver || o.solver === mapped.solver.type) ? { roundTimesteps: true } : {}) });
  add('prompt', 'cond.prompt', { text: o.prompt ?? '' });
  wire('model.text', 'prompt.text');
  if (o.negative !== undefined) {
    add('negative', 'cond.prompt', { text: o.negative });
    wire('model.text', 'negative.text');
  }
  add('guider', 'guider.cfg', { scale: o.guidance ?? DEFAULT_GUIDANCE[f.family] });
  wire('model.model', 'guider.model');
  wire('prompt.conditioning', 'guider.positive');
  if (o.negative !== undefined) wire('negative.conditioning', 'guider.negative');

  add('sched', schedule.info.type, schedule.params);
  if (schedule.info.inputs.some((p) => p.name === 'model')) wire('model.model', 'sched.model');
  let sigmas = 'sched.sigmas';
  if (o.image) {
    add('strength', 'schedule.strength', { strength: o.strength ?? 0.8 });
    wire('sched.sigmas', 'strength.sigmas');
    sigmas = 'strength.sigmas';
  }
  add('solver', solver.info.type, solver.params);
  add('noise', 'noise.seeded', { seed: o.seed ?? 0 });
  if (o.image) {
    add('image_in', 'image.load', { file: o.image, batch: o.batch ?? 1 });
    add('encode', 'vae.encode', { mode: 'mean' });
    wire('model.vae', 'encode.vae');
    wire('image_in.image', 'encode.image');
  } else {
    add('latent', 'latent.empty', { batch: o.batch ?? 1, channels: 0, height: height / scale, width: width / scale });
    wire('model.model', 'latent.model');
  }
  const latentOut = o.image ? 'encode.latent' : 'latent.latent';
  if (schedule.info.inputs.some((p) => p.name === 'latent')) wire(latentOut, 'sched.latent');
  add('sample', 'sample', { noiseScale: o.image ? 'sigma' : mapped.noiseScale });
  wire('guider.guider', 'sample.guider');
  wire('solver.sampler', 'sample.sampler');
  wire(sigmas, 'sample.sigmas');
  wire('noise.noise', 'sample.noise');
  wire(latentOut, 'sample.latent');
  // A VP-space scheduler that ends at σ_min hands the VAE x/√(1+σ_end²) (its own coordinates); say so explicitly.
  const vpEnd = mapped.noiseScale === 'vp' && schedule.params.final === 'sigma_min';
  add('decode', 'vae.decode', vpEnd ? { space: 'vp' } : {});
  wire('model.vae', 'decode.vae');
  wire('sample.latent', 'decode.latent');
  if (vpEnd) wire(sigmas, 'decode.sigmas');
  add('image', 'output.image', { name: 'image' });
  wire('decode.image', 'image.latent');
  add('save', 'output.latent', vpEnd ? { name: 'latent', space: 'vp' } : { name: 'latent' });
  wire('sample.latent', 'save.latent');
  if (vpEnd) wire(sigmas, 'save.sigmas');

  const what = o.image ? 'image-to-image' : 'text-to-image';
  const reproduces = !o.solver && !o.schedule && mapped.reproduces ? ` The schedule and solver reproduce the folder's ${mapped.reproduces}.` : '';
  return {
    dpipe: 1,
    metadata: {
      title: `${path.basename(f.dir)}: ${what}, ${solver.info.title}, ${steps} steps`,
      description: `${what[0].toUpperCase()}${what.slice(1)} with the ${f.pipelineClass || f.family} model folder ${o.modelPath}: prompt → classifier-free guidance → ${schedule.info.title} + ${solver.info.title} → VAE decode → PNG; the final latent is saved as latent.npy.${reproduces}${mapped.notes.length ? ` Note: ${mapped.notes.join('; ')}.` : ''}`,
    },
    nodes,
    edges,
  } as PipelineDoc;
}
