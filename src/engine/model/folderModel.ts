/**
 * Loads a model folder (`folder.ts`) as the three values a pipeline wires: the denoiser as a MODEL in the engine's
 * one contract (x̂0 = D(x, σ, cond), `wrap.ts`), its text encoders as a TEXT_ENCODER (`text/encode.ts`) and its VAE
 * (`vae/vae.ts`). Every convention comes from the folder's configs, as diffusers reads them:
 *
 * - prediction: the scheduler config's `prediction_type` (epsilon, v_prediction, sample); flow velocity for
 *   flow-matching schedulers (SD3).
 * - time: a UNet takes the DDPM timestep (its dtype and rank from the ONNX input: Optimum exports a float scalar);
 *   an SD3 transformer takes 1000·t (diffusers feeds `timestep = sigma · num_train_timesteps`).
 * - training noise schedule: `beta_schedule`, `beta_start`, `beta_end`, `num_train_timesteps`, `trained_betas`,
 *   `rescale_betas_zero_snr` (see `DiscreteOptions.zeroTerminalSnr` for the two ways diffusers' schedulers end it).
 * - schedule hints for blocks left at "auto": `timestep_spacing` and `steps_offset` (discrete), the flow shift
 *   (`shift`, `use_dynamic_shifting`, `base_shift`, `max_shift`, `base_image_seq_len`, `max_image_seq_len`,
 *   `shift_terminal`, `time_shift_type`).
 * - sample shape: the denoiser config's `in_channels` and `sample_size`.
 *
 * The pieces are checked against each other before anything runs: the text encoders' widths against the denoiser's
 * `encoder_hidden_states`, the VAE's latent channels against the denoiser's, and every tensor name the pipeline feeds.
 */
import { stat } from 'fs/promises';
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { FlowShiftConfig, Latent, ModelSchedule } from '../core/types';
import type { CondValue, ModelValue } from '../registry/types';
import { encodePrompt, loadTextEncoders, type TextEncoderValue } from '../text/encode';
import { loadTokenizer } from '../text/tokenizer';
import type { VaeValue } from '../vae/vae';
import { cfgBool, cfgNumber, cfgString, folderError, readModelFolder, type FolderPart, type ModelFolder, type Sourced } from './folder';
import { listIO, openSession, releaseSession, type ExecutionProvider, type SessionOptions, type TensorInfo } from './onnx';
import type { Prediction } from './params';
import { discreteSigmas, flowSigma, makeModelSchedule, shiftFlowT, type BetaSchedule, type DiscreteOptions } from './schedule';
import { fileSha256, wrapSession, type ModelConfig } from './wrap';

export const ZERO_SNR_TERMINALS = ['auto', 'exact', 'clamped'] as const;
export type ZeroSnrTerminal = (typeof ZERO_SNR_TERMINALS)[number];

export interface FolderLoadOptions {
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  readonly fallbackToCpu?: boolean;
  /** Keep the text encoders and the VAE loaded after use (default: released after each use). */
  readonly keepLoaded?: boolean;
  /** Feed the UNet round(t) (diffusers' multistep schedulers with Karras σs); default: the fractional t. */
  readonly roundTimesteps?: boolean;
  /** How a zero-terminal-SNR schedule's last σ is represented; `auto` follows the scheduler class. */
  readonly zeroSnrTerminal?: ZeroSnrTerminal;
}

/** The conventions read from the folder, each with its source, for the model and `dpipe inspect DIR`. */
export interface FolderConventions {
  readonly prediction: Sourced<Prediction>;
  readonly time: Sourced<'discrete' | 'flow1000'>;
  readonly discrete?: DiscreteOptions;
  readonly flowShift?: FlowShiftConfig;
  readonly spacing?: ModelSchedule['spacing'];
  readonly sampleShape: readonly number[];
  /** Setting → where it came from (`scheduler/scheduler_config.json#beta_schedule`, `default`, …). */
  readonly sources: Readonly<Record<string, string>>;
}

export interface LoadedFolder {
  readonly folder: ModelFolder;
  readonly conventions: FolderConventions;
  readonly model: ModelValue;
  readonly text: TextEncoderValue;
  readonly vae: VaeValue;
}

const BETA_SCHEDULES_DIFFUSERS: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];
/** Scheduler classes that keep ᾱ_T = 0 for zero terminal SNR (the others clamp it to 2⁻²⁴). */
const EXACT_ZERO_SNR = ['DDIMScheduler', 'DDPMScheduler', 'DDIMInverseScheduler', 'DDIMParallelScheduler', 'DDPMParallelScheduler', 'LCMScheduler', 'TCDScheduler'];

/** Reads the conventions of a folder from its configs (no ONNX session). */
export function folderConventions(f: ModelFolder, o: { zeroSnrTerminal?: ZeroSnrTerminal } = {}): FolderConventions {
  const dir = f.dir;
  const sources: Record<string, string> = {};
  const sc = { config: f.scheduler.config, path: f.scheduler.path };
  const note = <T>(key: string, s: Sourced<T>): T => {
    sources[key] = s.from;
    return s.value;
  };
  const isFlow = f.family === 'sd3' || /FlowMatch/.test(f.scheduler.className);
  const den = f.denoiser;
  const inCh = note('in_channels', cfgNumber(den, 'in_channels', f.family === 'sd3' ? 16 : 4, dir));
  const sampleSize = note('sample_size', cfgNumber(den, 'sample_size', f.family === 'sdxl' ? 128 : 64, dir));
  const sampleShape = [inCh, sampleSize, sampleSize];
  const numTrain = note('num_train_timesteps', cfgNumber(sc, 'num_train_timesteps', 1000, dir));
  if (isFlow) {
    sources.prediction = `scheduler/scheduler_config.json#_class_name (${f.scheduler.className || 'flow matching'})`;
    sources.time = `${f.denoiser.name}: timestep = t·${numTrain}`;
    if (numTrain !== 1000) throw folderError(dir, `scheduler/scheduler_config.json: num_train_timesteps ${numTrain}; dpipe feeds flow transformers t·1000 (diffusers' default) and supports only 1000 here`);
    const flowShift: FlowShiftConfig = {
      shift: note('shift', cfgNumber(sc, 'shift', 1, dir)),
      dynamic: note('use_dynamic_shifting', cfgBool(sc, 'use_dynamic_shifting', false, dir)),
      baseShift: note('base_shift', cfgNumber(sc, 'base_shift', 0.5, dir)),
      maxShift: note('max_shift', cfgNumber(sc, 'max_shift', 1.15, dir)),
      baseImageSeqLen: note('base_image_seq_len', cfgNumber(sc, 'base_image_seq_len', 256, dir)),
      maxImageSeqLen: note('max_image_seq_len', cfgNumber(sc, 'max_image_seq_len', 4096, dir)),
      timeShiftType: note('time_shift_type', cfgString(sc, 'time_shift_type', 'exponential', ['exponential', 'linear'] as const, dir)),
      shiftTerminal: note('shift_terminal', cfgNumber(sc, 'shift_terminal', 0, dir)),
      numTrainTimesteps: numTrain,
      patchSize: note('patch_size', cfgNumber(den, 'patch_size', 2, dir)),
    };
    if (!(flowShift.shift > 0)) throw folderError(dir, `scheduler/scheduler_config.json: "shift" must be > 0; got ${flowShift.shift}`);
    return { prediction: { value: 'flow', from: sources.prediction }, time: { value: 'flow1000', from: sources.time }, flowShift, sampleShape, sources };
  }
  const prediction = cfgString(sc, 'prediction_type', 'epsilon', ['epsilon', 'v_prediction', 'sample'] as const, dir);
  sources.prediction = prediction.from;
  sources.time = `${f.denoiser.name}: DDPM timestep`;
  let betaSchedule = note('beta_schedule', cfgString(sc, 'beta_schedule', 'linear', [...BETA_SCHEDULES_DIFFUSERS] as BetaSchedule[], dir));
  const betaStart = note('beta_start', cfgNumber(sc, 'beta_start', 0.0001, dir));
  const betaEnd = note('beta_end', cfgNumber(sc, 'beta_end', 0.02, dir));
  let alphas: number[] | undefined;
  const trained = sc.config.trained_betas;
  if (Array.isArray(trained) && trained.length > 0) {
    if (trained.some((b) => typeof b !== 'number' || !(b > 0 && b < 1))) throw folderError(dir, 'scheduler/scheduler_config.json: trained_betas must be numbers in (0, 1)');
    let p = 1;
    alphas = (trained as number[]).map((b) => (p *= 1 - b));
    betaSchedule = 'explicit';
    sources.beta_schedule = 'scheduler/scheduler_config.json#trained_betas';
  }
  const zero = note('rescale_betas_zero_snr', cfgBool(sc, 'rescale_betas_zero_snr', false, dir));
  const terminal = o.zeroSnrTerminal ?? 'auto';
  const zeroTerminalSnr = zero ? (terminal === 'auto' ? (EXACT_ZERO_SNR.includes(f.scheduler.className) ? 'exact' : 'clamped') : terminal) : undefined;
  if (zero && alphas) throw folderError(dir, 'scheduler/scheduler_config.json: rescale_betas_zero_snr with trained_betas is not supported');
  const discrete: DiscreteOptions = { betaSchedule, betaStart, betaEnd, numTrainTimesteps: numTrain, alphasCumprod: alphas, zeroTerminalSnr };
  const spacing = {
    timestepSpacing: note('timestep_spacing', cfgString(sc, 'timestep_spacing', 'leading', ['linspace', 'leading', 'trailing'] as const, dir)),
    stepsOffset: note('steps_offset', cfgNumber(sc, 'steps_offset', 0, dir)),
  };
  return { prediction, time: { value: 'discrete', from: sources.time }, discrete, spacing, sampleShape, sources };
}

/** The last dimension of an input when the ONNX file fixes it. */
function lastDim(t: TensorInfo | undefined): number | undefined {
  const d = t?.shape[t.shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function rel(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join('/');
}

/** Feature widths the text encoders give (from their configs), for the check against the denoiser. */
function textWidths(f: ModelFolder): { hidden: number; pooled?: number; what: string } | undefined {
  const w = (p: FolderPart, key: string) => (typeof p.config[key] === 'number' ? (p.config[key] as number) : undefined);
  const te = f.textEncoders;
  if (f.family === 'sd') {
    const h = w(te[0], 'hidden_size');
    return h ? { hidden: h, what: `${rel(f.dir, te[0].configPath ?? te[0].onnx)} hidden_size ${h}` } : undefined;
  }
  if (f.family === 'sdxl') {
    const hs = te.map((p) => w(p, 'hidden_size'));
    if (hs.some((h) => h === undefined)) return undefined;
    const last = te[te.length - 1];
    return { hidden: hs.reduce((a, b) => a! + b!, 0)!, pooled: w(last, 'projection_dim'), what: te.map((p, i) => `${rel(f.dir, p.configPath ?? p.onnx)} hidden_size ${hs[i]}`).join(' + ') };
  }
  return undefined;
}

/**
 * Opens a model folder. The denoiser's session is opened now (its inputs are checked against the folder); text
 * encoders and the VAE are opened when a prompt is encoded or a latent decoded. Errors: E_MODEL_FOLDER naming the
 * file and what does not fit, E_PROVIDER.
 */
export async function loadModelFolder(folderPath: string, o: FolderLoadOptions = {}): Promise<LoadedFolder> {
  const folder = await readModelFolder(folderPath);
  const dir = folder.dir;
  const conv = folderConventions(folder, o);
  const session: SessionOptions = { threads: o.threads, provider: o.provider, fallbackToCpu: o.fallbackToCpu };
  const den = await openSession(folder.denoiser.onnx, session);
  const denName = rel(dir, folder.denoiser.onnx);
  const io = den.io;
  const find = (n: string) => io.inputs.find((t) => t.name === n);
  const sampleInput = folder.family === 'sd3' ? 'hidden_states' : 'sample';
  const outputName = folder.family === 'sd3' ? 'out_hidden_states' : 'out_sample';
  const need = (n: string, what: string) => {
    if (!find(n)) throw folderError(dir, `${denName} has no input "${n}" (${what}); its inputs are ${listIO(io.inputs)}. Is this an Optimum export of a ${folder.pipelineClass || folder.family} ${folder.denoiser.name}?`);
  };
  need(sampleInput, 'the noisy latent');
  need('timestep', 'the time');
  need('encoder_hidden_states', 'the prompt embeddings');
  if (folder.family === 'sdxl') {
    need('text_embeds', 'SDXL\'s pooled prompt embedding');
    need('time_ids', 'SDXL\'s size and crop conditioning');
  }
  if (folder.family === 'sd3') need('pooled_projections', 'SD3\'s pooled prompt embedding');
  if (!io.outputs.some((t) => t.name === outputName)) {
    throw folderError(dir, `${denName} has no output "${outputName}"; its outputs are ${listIO(io.outputs)}`);
  }

  // The text encoders must give what the denoiser takes.
  const ehs = find('encoder_hidden_states');
  const crossDim = lastDim(ehs) ?? (typeof folder.denoiser.config.cross_attention_dim === 'number' ? (folder.denoiser.config.cross_attention_dim as number) : undefined);
  const widths = textWidths(folder);
  if (widths && crossDim !== undefined && widths.hidden !== crossDim) {
    throw folderError(dir, `the text encoders give prompt embeddings of width ${widths.hidden} (${widths.what}), but ${denName} takes encoder_hidden_states of width ${crossDim}${lastDim(ehs) ? ' (its ONNX input shape)' : ` (${rel(dir, folder.denoiser.configPath ?? folder.denoiser.onnx)} cross_attention_dim)`}: the parts come from different models`);
  }
  if (folder.family === 'sdxl' && widths?.pooled !== undefined) {
    const te = lastDim(find('text_embeds'));
    if (te !== undefined && te !== widths.pooled) throw folderError(dir, `text_encoder_2 gives a pooled embedding of width ${widths.pooled} (projection_dim), but ${denName} takes text_embeds of width ${te}`);
  }
  const jointDim = typeof folder.denoiser.config.joint_attention_dim === 'number' ? (folder.denoiser.config.joint_attention_dim as number) : lastDim(ehs);

  // The VAE must decode what the denoiser makes.
  const vaeCfgPart = folder.vaeDecoder ?? folder.vaeEncoder;
  const vaeCh = vaeCfgPart ? cfgNumber(vaeCfgPart, 'latent_channels', conv.sampleShape[0], dir).value : conv.sampleShape[0];
  if (vaeCfgPart && vaeCh !== conv.sampleShape[0]) {
    throw folderError(dir, `${rel(dir, vaeCfgPart.configPath ?? vaeCfgPart.onnx)} has latent_channels ${vaeCh}, but ${denName} works on ${conv.sampleShape[0]} channels (in_channels)`);
  }
  const blocks = vaeCfgPart?.config.block_out_channels;
  const vaeScale = Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
  const vaeSample = vaeCfgPart ? cfgNumber(vaeCfgPart, 'sample_size', conv.sampleShape[1] * vaeScale, dir).value : conv.sampleShape[1] * vaeScale;
  const vae: VaeValue = {
    dir,
    decoder: folder.vaeDecoder,
    encoder: folder.vaeEncoder,
    scalingFactor: vaeCfgPart ? cfgNumber(vaeCfgPart, 'scaling_factor', 0.18215, dir).value : 0.18215,
    shiftFactor: vaeCfgPart ? cfgNumber(vaeCfgPart, 'shift_factor', 0, dir).value : 0,
    latentChannels: vaeCh,
    scale: vaeScale,
    tileSize: Math.max(1, Math.floor(vaeSample / vaeScale)),
    session,
    keepLoaded: o.keepLoaded === true,
  };

  const text = await loadTextEncoders(dir, folder.family, folder.textEncoders, { jointDim, session, keepLoaded: o.keepLoaded === true });

  const schedule = makeModelSchedule(
    conv.time.value === 'discrete'
      ? { kind: 'discrete', discreteSigmas: discreteSigmas(conv.discrete!), spacing: conv.spacing }
      : {
          kind: 'flow',
          // The σ range schedule blocks see: the scheduler's own shifted grid, t from 1/N to 1 − 1/N shifted (t = 1 is
          // pure noise, σ = ∞; flow schedules that start there use SIGMA_INFINITY themselves).
          sigmaMin: flowSigma(shiftFlowT(1 / conv.flowShift!.numTrainTimesteps, { shift: conv.flowShift!.dynamic ? 1 : conv.flowShift!.shift })),
          sigmaMax: flowSigma(shiftFlowT(1 - 1 / conv.flowShift!.numTrainTimesteps, { shift: conv.flowShift!.dynamic ? 1 : conv.flowShift!.shift })),
          flowShift: conv.flowShift,
        },
  );
  const config: ModelConfig = {
    prediction: conv.prediction.value,
    time: conv.time.value,
    inputScaling: conv.time.value === 'discrete' ? 'vp' : 'flow',
    discrete: conv.discrete,
    roundTimesteps: o.roundTimesteps === true,
    timeInterpolation: conv.time.value === 'discrete' ? 'log_sigma' : undefined,
    sampleInput,
    timeInput: 'timestep',
    output: outputName,
    sampleShape: conv.sampleShape,
    threads: o.threads ?? 0,
  };
  const sha256 = await fileSha256(folder.denoiser.onnx, den.fileStamp);
  const forceZeros = folder.family === 'sdxl' && folder.index.force_zeros_for_empty_prompt !== false;
  const emptyConditioning = async (): Promise<CondValue> => (await encodePrompt(text, '', { zeros: forceZeros })).cond;
  const deriveInput = folder.family === 'sdxl'
    ? (input: TensorInfo, shape: readonly number[], cond: CondValue) => {
        if (input.name !== 'time_ids') return undefined;
        const H = shape[2] * vaeScale;
        const W = shape[3] * vaeScale;
        // diffusers' defaults: original_size = target_size = (height, width), crops_coords_top_left = (0, 0).
        const sz = cond.kind === 'tensors' ? cond.sizes : undefined;
        const [oh, ow] = sz?.originalSize ?? [H, W];
        const [ct, cl] = sz?.cropTopLeft ?? [0, 0];
        const [th, tw] = sz?.targetSize ?? [H, W];
        return { data: Float32Array.from([oh, ow, ct, cl, th, tw]), itemShape: [6] };
      }
    : undefined;
  const wrapped = wrapSession(den, { ...config, discrete: conv.discrete }, sha256, { label: denName, emptyConditioning, deriveInput });
  const model: ModelValue = {
    ...wrapped,
    schedule,
    info: { ...wrapped.info, path: folder.denoiser.onnx, prediction: conv.prediction.value, time: conv.time.value, provider: den.provider, providerNote: den.providerNote, folder: dir },
  };
  return { folder, conventions: conv, model, text, vae };
}

/** For `dpipe inspect DIR` and errors: checks only, no sessions (see {@link loadModelFolder} for the full load). */
export async function describeModelFolder(folderPath: string): Promise<{ folder: ModelFolder; conventions: FolderConventions }> {
  const folder = await readModelFolder(folderPath);
  return { folder, conventions: folderConventions(folder) };
}


/** What `dpipe inspect DIR` shows of a model folder. */
export interface FolderDescription {
  readonly dir: string;
  readonly family: string;
  readonly pipelineClass: string;
  readonly scheduler: { readonly className: string; readonly path: string };
  readonly parts: readonly {
    readonly name: string;
    readonly onnx: string;
    readonly config?: string;
    readonly bytes: number;
    readonly inputs: readonly TensorInfo[];
    readonly outputs: readonly TensorInfo[];
    /** Tokenizer of a text encoder: its folder, format and length. */
    readonly tokenizer?: { readonly dir: string; readonly format: string; readonly maxLength: number; readonly padId: number };
  }[];
  /** The conventions dpipe derived, each with the file (and key) it came from. */
  readonly conventions: readonly { readonly setting: string; readonly value: string; readonly from: string }[];
  readonly vae?: { readonly scalingFactor: number; readonly shiftFactor: number; readonly latentChannels: number; readonly scale: number };
  readonly notes: readonly string[];
}

/** Describes a model folder: every part's tensors (sessions are opened and released), tokenizers, conventions. */
export async function inspectModelFolder(folderPath: string): Promise<FolderDescription> {
  const folder = await readModelFolder(folderPath);
  const conv = folderConventions(folder);
  const dir = folder.dir;
  const parts: FolderDescription['parts'][number][] = [];
  const all: FolderPart[] = [folder.denoiser, ...folder.textEncoders, ...(folder.vaeDecoder ? [folder.vaeDecoder] : []), ...(folder.vaeEncoder ? [folder.vaeEncoder] : [])];
  for (const p of all) {
    const s = await openSession(p.onnx, {});
    let bytes = (await stat(p.onnx)).size;
    const data = `${p.onnx}_data`;
    bytes += await stat(data).then((x) => x.size, () => 0);
    let tokenizer: FolderDescription['parts'][number]['tokenizer'];
    const te = folder.textEncoders.find((t) => t === p);
    if (te) {
      const tok = await loadTokenizer(te.tokenizer.dir);
      tokenizer = { dir: rel(dir, te.tokenizer.dir), format: te.tokenizer.files.includes('tokenizer.json') ? 'tokenizer.json' : 'vocab.json + merges.txt (CLIP)', maxLength: tok.maxLength, padId: tok.padId };
    }
    parts.push({ name: p.name, onnx: rel(dir, p.onnx), config: p.configPath ? rel(dir, p.configPath) : undefined, bytes, inputs: s.io.inputs, outputs: s.io.outputs, tokenizer });
    releaseSession(p.onnx);
  }
  const show = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const conventions: { setting: string; value: string; from: string }[] = [
    { setting: 'prediction', value: conv.prediction.value, from: conv.prediction.from },
    { setting: 'time input', value: conv.time.value === 'discrete' ? 'DDPM timestep' : 'flow time × 1000', from: conv.time.from },
    { setting: 'sample shape', value: `[${conv.sampleShape.join(', ')}]`, from: `${conv.sources.in_channels}, ${conv.sources.sample_size}` },
  ];
  if (conv.discrete) {
    const d = conv.discrete;
    conventions.push({ setting: 'beta schedule', value: d.betaSchedule === 'explicit' ? 'trained_betas' : `${d.betaSchedule} ${d.betaStart}–${d.betaEnd}`, from: conv.sources.beta_schedule });
    conventions.push({ setting: 'training timesteps', value: String(d.numTrainTimesteps), from: conv.sources.num_train_timesteps });
    conventions.push({ setting: 'zero terminal SNR', value: d.zeroTerminalSnr ?? 'no', from: conv.sources.rescale_betas_zero_snr });
    if (conv.spacing) conventions.push({ setting: 'timestep spacing', value: `${conv.spacing.timestepSpacing}, steps_offset ${conv.spacing.stepsOffset}`, from: `${conv.sources.timestep_spacing}, ${conv.sources.steps_offset}` });
  }
  if (conv.flowShift) {
    const f = conv.flowShift;
    conventions.push({ setting: 'flow shift', value: f.dynamic ? `dynamic (μ from ${f.baseImageSeqLen}→${f.baseShift} to ${f.maxImageSeqLen}→${f.maxShift}, ${f.timeShiftType})` : show(f.shift), from: f.dynamic ? conv.sources.use_dynamic_shifting : conv.sources.shift });
    if (f.shiftTerminal) conventions.push({ setting: 'shift terminal', value: show(f.shiftTerminal), from: conv.sources.shift_terminal });
  }
  const vp = folder.vaeDecoder ?? folder.vaeEncoder;
  let vae: FolderDescription['vae'];
  if (vp) {
    const scaling = cfgNumber(vp, 'scaling_factor', 0.18215, dir);
    const shift = cfgNumber(vp, 'shift_factor', 0, dir);
    const blocks = vp.config.block_out_channels;
    vae = { scalingFactor: scaling.value, shiftFactor: shift.value, latentChannels: cfgNumber(vp, 'latent_channels', conv.sampleShape[0], dir).value, scale: Array.isArray(blocks) && blocks.length ? 2 ** (blocks.length - 1) : 8 };
    conventions.push({ setting: 'VAE scaling', value: `latents × ${scaling.value}${shift.value ? ` after − ${shift.value}` : ''}`, from: `${scaling.from}${shift.value ? `, ${shift.from}` : ''}` });
  }
  return { dir, family: folder.family, pipelineClass: folder.pipelineClass, scheduler: { className: folder.scheduler.className, path: rel(dir, folder.scheduler.path) }, parts, conventions, vae, notes: folder.notes };
}
