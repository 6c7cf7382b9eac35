/**
 * Model folders: a latent text-to-image model exported to ONNX in the layout Hugging Face Optimum
 * (`optimum-cli export onnx`, `ORTStableDiffusionPipeline` / `ORTStableDiffusionXLPipeline` /
 * `ORTStableDiffusion3Pipeline`) and diffusers' ONNX pipelines write:
 *
 * ```
 * model_index.json                 the diffusers pipeline config (_class_name, components)
 * scheduler/scheduler_config.json  the training noise schedule and the scheduler's defaults
 * unet/ or transformer/            model.onnx (+ model.onnx_data), config.json
 * text_encoder[_2|_3]/             model.onnx, config.json        tokenizer[_2|_3]/ tokenizer files
 * vae_decoder/, vae_encoder/       model.onnx, config.json (scaling_factor, shift_factor, latent_channels)
 * ```
 *
 * This module reads that layout without opening any ONNX session: which family it is (SD 1.x/2.x, SDXL, SD3),
 * where each part is, and every config value the engine uses, each remembered with the file it came from so errors
 * and `dpipe inspect DIR` can name it. Problems are E_MODEL_FOLDER errors that name the file and what was expected.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DpipeError } from '../core/errors';

/** The pipeline families dpipe runs; each fixes how prompts become model inputs (see `text/encode.ts`). */
export const FOLDER_FAMILIES = ['sd', 'sdxl', 'sd3'] as const;
export type FolderFamily = (typeof FOLDER_FAMILIES)[number];

type Json = Record<string, unknown>;

/** One part of a folder: an ONNX file with its config. */
export interface FolderPart {
  /** Component name as model_index.json and the folder use it (unet, text_encoder_2, vae_decoder, …). */
  readonly name: string;
  /** Absolute path of `model.onnx`. */
  readonly onnx: string;
  /** The part's config.json (empty when the export wrote none). */
  readonly config: Json;
  /** Absolute path of config.json, when it exists. */
  readonly configPath?: string;
}

export interface TokenizerPart {
  readonly name: string;
  readonly dir: string;
  /** Files present: tokenizer.json, vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json, spiece.model. */
  readonly files: readonly string[];
}

export interface TextEncoderPart extends FolderPart {
  readonly tokenizer: TokenizerPart;
}

export interface ModelFolder {
  readonly dir: string;
  readonly family: FolderFamily;
  /** model_index.json `_class_name` (e.g. StableDiffusionXLPipeline). */
  readonly pipelineClass: string;
  readonly index: Json;
  /** The denoising network: `unet` (UNet2DConditionModel) or `transformer` (SD3Transformer2DModel). */
  readonly denoiser: FolderPart;
  /** Text encoders in pipeline order (text_encoder, text_encoder_2, text_encoder_3); the T5 encoder may be absent for SD3. */
  readonly textEncoders: readonly TextEncoderPart[];
  readonly vaeDecoder?: FolderPart;
  readonly vaeEncoder?: FolderPart;
  readonly scheduler: { readonly className: string; readonly config: Json; readonly path: string };
  /** Notes for `dpipe inspect` (parts that are listed but unused, defaults assumed). */
  readonly notes: readonly string[];
}

const CLASS_FAMILY: Readonly<Record<string, FolderFamily>> = {
  StableDiffusionPipeline: 'sd',
  StableDiffusionImg2ImgPipeline: 'sd',
  OnnxStableDiffusionPipeline: 'sd',
  ORTStableDiffusionPipeline: 'sd',
  StableDiffusionXLPipeline: 'sdxl',
  StableDiffusionXLImg2ImgPipeline: 'sdxl',
  ORTStableDiffusionXLPipeline: 'sdxl',
  StableDiffusion3Pipeline: 'sd3',
  StableDiffusion3Img2ImgPipeline: 'sd3',
  ORTStableDiffusion3Pipeline: 'sd3',
};

function folderError(dir: string, why: string): DpipeError {
  return new DpipeError('E_MODEL_FOLDER', `model folder ${dir}: ${why}`);
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a JSON object file; E_MODEL_FOLDER naming the file when it is not valid JSON or not an object. */
export async function readJsonObject(file: string, dir: string): Promise<Json> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw folderError(dir, `cannot read ${path.relative(dir, file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw folderError(dir, `${path.relative(dir, file)} is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw folderError(dir, `${path.relative(dir, file)} must hold a JSON object`);
  return v as Json;
}

/** Whether a directory looks like a model folder (has model_index.json). */
export async function isModelFolder(dir: string): Promise<boolean> {
  return isFile(path.join(dir, 'model_index.json'));
}

/** model_index.json lists a component as [library, class] or [null, null] when absent. */
function listed(index: Json, name: string): boolean {
  const v = index[name];
  return Array.isArray(v) && v.length === 2 && v[0] !== null && v[1] !== null;
}

async function part(dir: string, name: string): Promise<FolderPart | undefined> {
  const sub = path.join(dir, name);
  const onnx = path.join(sub, 'model.onnx');
  if (!(await isFile(onnx))) return undefined;
  const configPath = path.join(sub, 'config.json');
  const hasConfig = await isFile(configPath);
  return { name, onnx, config: hasConfig ? await readJsonObject(configPath, dir) : {}, configPath: hasConfig ? configPath : undefined };
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'spiece.model'];

async function tokenizerPart(dir: string, name: string): Promise<TokenizerPart | undefined> {
  const sub = path.join(dir, name);
  if (!(await isDir(sub))) return undefined;
  const files: string[] = [];
  for (const f of TOKENIZER_FILES) if (await isFile(path.join(sub, f))) files.push(f);
  return { name, dir: sub, files };
}

/**
 * Reads a model folder's layout and configs. Errors (E_MODEL_FOLDER, naming the file): no model_index.json, an
 * unknown pipeline class, a listed part whose model.onnx is missing, a text encoder without its tokenizer, no
 * scheduler config.
 */
export async function readModelFolder(folder: string): Promise<ModelFolder> {
  const dir = path.resolve(folder);
  if (!(await isDir(dir))) throw new DpipeError('E_FILE_MISSING', `model folder ${dir} does not exist or is not a folder.`);
  const indexPath = path.join(dir, 'model_index.json');
  if (!(await isFile(indexPath))) {
    throw folderError(dir, 'no model_index.json: this is not a diffusers / Optimum model folder (export one with `optimum-cli export onnx --model MODEL_ID OUT_DIR`); for a single .onnx denoiser use the model.onnx block');
  }
  const index = await readJsonObject(indexPath, dir);
  const pipelineClass = typeof index._class_name === 'string' ? index._class_name : '';
  const notes: string[] = [];
  let family = CLASS_FAMILY[pipelineClass];
  if (!family) {
    // Guess from the parts when the class is one we do not know by name (e.g. a fine-tune's own pipeline class).
    if (await isFile(path.join(dir, 'transformer', 'model.onnx'))) family = 'sd3';
    else if (listed(index, 'text_encoder_2') || (await isDir(path.join(dir, 'text_encoder_2')))) family = 'sdxl';
    else if (await isFile(path.join(dir, 'unet', 'model.onnx'))) family = 'sd';
    if (!family) {
      throw folderError(dir, `model_index.json: _class_name "${pipelineClass}" is not a pipeline dpipe runs (known: ${Object.keys(CLASS_FAMILY).join(', ')}), and the folder has neither unet/model.onnx nor transformer/model.onnx`);
    }
    notes.push(`model_index.json: _class_name "${pipelineClass}" is not known by name; treated as ${family} from its parts`);
  }

  const denoiserName = family === 'sd3' ? 'transformer' : 'unet';
  const denoiser = await part(dir, denoiserName);
  if (!denoiser) throw folderError(dir, `${denoiserName}/model.onnx is missing (a ${pipelineClass || family} folder needs its ${denoiserName === 'unet' ? 'UNet' : 'transformer'})`);

  const encoderNames = family === 'sd' ? ['text_encoder'] : family === 'sdxl' ? ['text_encoder', 'text_encoder_2'] : ['text_encoder', 'text_encoder_2', 'text_encoder_3'];
  const textEncoders: TextEncoderPart[] = [];
  for (const name of encoderNames) {
    const tokName = name.replace('text_encoder', 'tokenizer');
    const p = await part(dir, name);
    const optional = family === 'sd3' && name === 'text_encoder_3';
    if (!p) {
      if (optional) {
        notes.push('text_encoder_3 (T5) is absent: its prompt embeddings are zeros, as diffusers does without it');
        continue;
      }
      if (listed(index, name) || !optional) throw folderError(dir, `${name}/model.onnx is missing (model_index.json lists ${name}; the ${family} pipeline encodes prompts with it)`);
      continue;
    }
    const tok = await tokenizerPart(dir, tokName);
    if (!tok || tok.files.length === 0) throw folderError(dir, `${tokName}/ is missing or empty: ${name} needs its tokenizer (tokenizer.json, or vocab.json + merges.txt)`);
    textEncoders.push({ ...p, tokenizer: tok });
  }

  const vaeDecoder = await part(dir, 'vae_decoder');
  const vaeEncoder = await part(dir, 'vae_encoder');
  if (!vaeDecoder) notes.push('vae_decoder/model.onnx is absent: the folder can sample latents but not decode them to images');
  if (!vaeEncoder) notes.push('vae_encoder/model.onnx is absent: image-to-image (VAE encode) is not available');

  const schedPath = path.join(dir, 'scheduler', 'scheduler_config.json');
  if (!(await isFile(schedPath))) throw folderError(dir, 'scheduler/scheduler_config.json is missing: it holds the training noise schedule the denoiser needs');
  const schedConfig = await readJsonObject(schedPath, dir);
  const schedClass = typeof schedConfig._class_name === 'string' ? schedConfig._class_name : '';
  if (family === 'sd3' && schedClass && !/FlowMatch/.test(schedClass)) {
    notes.push(`scheduler ${schedClass} is not a flow-matching scheduler, but ${pipelineClass} is a flow model; treated as flow matching`);
  }
  return { dir, family, pipelineClass, index, denoiser, textEncoders, vaeDecoder, vaeEncoder, scheduler: { className: schedClass, config: schedConfig, path: schedPath }, notes };
}

// ---------------------------------------------------------------------------------------------
// Typed config access: every value the engine takes from a config, with the file it came from.

/** A config value with where it came from (`file#key`, or `default` when the file does not set it). */
export interface Sourced<T> {
  readonly value: T;
  readonly from: string;
}

export function cfgNumber(p: { config: Json; configPath?: string; path?: string }, key: string, dflt: number, dir: string): Sourced<number> {
  const file = p.configPath ?? p.path ?? '';
  const v = p.config[key];
  if (v === undefined || v === null) return { value: dflt, from: 'default' };
  if (typeof v !== 'number' || !Number.isFinite(v)) throw folderError(dir, `${path.relative(dir, file)}: "${key}" must be a number; got ${JSON.stringify(v)}`);
  return { value: v, from: `${path.relative(dir, file)}#${key}` };
}

export function cfgString<T extends string>(p: { config: Json; configPath?: string; path?: string }, key: string, dflt: T, allowed: readonly T[] | undefined, dir: string): Sourced<T> {
  const file = p.configPath ?? p.path ?? '';
  const v = p.config[key];
  if (v === undefined || v === null) return { value: dflt, from: 'default' };
  if (typeof v !== 'string' || (allowed && !allowed.includes(v as T))) {
    throw folderError(dir, `${path.relative(dir, file)}: "${key}" must be ${allowed ? `one of ${allowed.join(', ')}` : 'a string'}; got ${JSON.stringify(v)}`);
  }
  return { value: v as T, from: `${path.relative(dir, file)}#${key}` };
}

export function cfgBool(p: { config: Json; configPath?: string; path?: string }, key: string, dflt: boolean, dir: string): Sourced<boolean> {
  const file = p.configPath ?? p.path ?? '';
  const v = p.config[key];
  if (v === undefined || v === null) return { value: dflt, from: 'default' };
  if (typeof v !== 'boolean') throw folderError(dir, `${path.relative(dir, file)}: "${key}" must be true or false; got ${JSON.stringify(v)}`);
  return { value: v, from: `${path.relative(dir, file)}#${key}` };
}

export { folderError };
