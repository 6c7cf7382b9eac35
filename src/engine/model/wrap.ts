/**
 * The model wrapper: turns an ONNX network of any parameterization into the one contract of the engine,
 * x̂0 = D(x, σ, cond) in the variance-exploding coordinates of Karras et al. 2022 ("Elucidating the Design
 * Space of Diffusion-Based Generative Models", EDM), x = x0 + σ·ε — the role of k-diffusion's
 * `external.py` wrappers (`DiscreteEpsDDPMDenoiser`, `DiscreteVDDPMDenoiser`) and of DPM-Solver's
 * `model_wrapper` (Lu et al. 2022, "DPM-Solver", `dpm_solver_pytorch.py`).
 *
 * Derivation used for every prediction type. The network sees x_in = a·x with a = 1/√(σ²+1) (vp),
 * 1/(1+σ) (flow) or 1 (none); then x_in = a·x0 + b·ε with b = a·σ, and
 * - epsilon:       x̂0 = x − σ·ε̂
 * - v_prediction:  v = a·ε − b·x0  ⇒  x̂0 = (x − σ·v̂/a)/(1+σ²)   (vp: x/(σ²+1) − σ·v̂/√(σ²+1), as k-diffusion's VDenoiser)
 * - flow:          v = ε − x0      ⇒  x̂0 = (x − σ·v̂)/(1+σ)     (= x_t − t·v̂ with t = σ/(1+σ))
 * - sample, edm:   x̂0 = network output.
 * Engine math is float64; the network gets float32.
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { Latent, ModelSchedule } from '../core/types';
import type { CondTensor, CondValue, ModelValue, Params, ParamValue } from '../registry/types';
import { floatToHalf } from '../core/npy';
import { listIO, onnxruntimeVersion, openSession, toFloat64, type ExecutionProvider, type ModelIO, type OnnxSession, type Tensor, type TensorInfo } from './onnx';
import { INPUT_SCALINGS, MODEL_ONNX_PARAMS, PREDICTIONS, SIDECAR_EXTRA_KEYS, type InputScaling, type Prediction } from './params';
import {
  BETA_SCHEDULES, DEFAULT_DISCRETE, TIME_INTERPOLATIONS, TIME_KINDS, discreteSigmas, makeModelSchedule, timeFromSigma,
  type BetaSchedule, type DiscreteOptions, type TimeInterpolation, type TimeKind,
} from './schedule';

/** Where a resolved setting came from (shown by `dpipe inspect`). */
export type SettingSource = 'node' | 'sidecar' | 'names' | 'shapes' | 'default';

/** A fully resolved model configuration. */
export interface ModelConfig {
  readonly prediction: Prediction;
  readonly time: TimeKind;
  readonly inputScaling: InputScaling;
  /** Discrete time only. */
  readonly discrete?: DiscreteOptions;
  readonly roundTimesteps: boolean;
  /** Discrete time only: σ → fractional timestep (undefined = log_sigma). */
  readonly timeInterpolation?: TimeInterpolation;
  readonly sampleInput: string;
  readonly timeInput: string;
  readonly output: string;
  readonly classInput?: string;
  readonly numClasses?: number;
  readonly unconditionalClass?: number;
  readonly sigmaMin?: number;
  readonly sigmaMax?: number;
  readonly sampleShape?: readonly number[];
  readonly valueRange?: readonly [number, number];
  readonly threads: number;
}

export interface LoadOptions {
  /** Overrides the node's `threads` (0 = onnxruntime's default). */
  readonly threads?: number;
  /** Execution provider (default: the node's `provider` parameter, else cpu). */
  readonly provider?: ExecutionProvider;
  /** Open on the CPU when the provider is not available (default: the node's `fallbackToCpu`). */
  readonly fallbackToCpu?: boolean;
  /** Use this sidecar object instead of reading `<file>.json` (null: ignore any sidecar). */
  readonly sidecar?: Readonly<Record<string, unknown>> | null;
  /** Routes the model's calls through another view of the session (a grid's batching lane, `batch.ts`). */
  readonly through?: (session: OnnxSession) => OnnxSession;
}

/** What `dpipe inspect` prints. */
export interface ModelDescription {
  readonly path: string;
  readonly sha256: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** The sidecar read, if any. */
  readonly sidecarPath?: string;
  readonly description?: string;
  /** The convention detected (undefined fields could not be determined). */
  readonly convention: Partial<ModelConfig> & { readonly batchable?: boolean };
  /** Where each setting came from. */
  readonly sources: Readonly<Record<string, SettingSource>>;
  /** The model's noise schedule when the convention is complete. */
  readonly schedule?: { readonly kind: ModelSchedule['kind']; readonly sigmaMin: number; readonly sigmaMax: number; readonly timesteps?: number };
  /** Why the convention is incomplete, and notes (unknown sidecar keys, …). */
  readonly problems: readonly string[];
  readonly onnxruntime: string;
}

// ---------------------------------------------------------------------------------------------
// Sidecar

const PARAM_NAMES = MODEL_ONNX_PARAMS.map((p) => p.name).filter((n) => n !== 'path');

/** Reads `<model>.json` beside the model; undefined when there is none. Errors: E_MODEL (bad JSON / values). */
export async function readSidecar(modelPath: string): Promise<{ path: string; data: Record<string, unknown>; notes: string[] } | undefined> {
  const p = `${modelPath}.json`;
  let text: string;
  try {
    text = await fsp.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DpipeError('E_MODEL', `Sidecar ${p} is not valid JSON: ${(e as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new DpipeError('E_MODEL', `Sidecar ${p} must be a JSON object with model.onnx parameter names as keys.`);
  const notes = checkSidecar(data as Record<string, unknown>, p);
  return { path: p, data: data as Record<string, unknown>, notes };
}

/** Validates sidecar values against the parameter specs; returns notes for keys it ignores. */
function checkSidecar(data: Record<string, unknown>, where: string): string[] {
  const notes: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if ((SIDECAR_EXTRA_KEYS as readonly string[]).includes(k)) continue;
    const spec = MODEL_ONNX_PARAMS.find((p) => p.name === k);
    if (!spec || k === 'path') {
      notes.push(`sidecar key "${k}" is not a model.onnx parameter and is ignored (known: ${PARAM_NAMES.join(', ')})`);
      continue;
    }
    const bad = (allowed: string) => new DpipeError('E_MODEL', `Sidecar ${where}: "${k}" must be ${allowed}; got ${JSON.stringify(v)}.`);
    switch (spec.type) {
      case 'enum':
        if (typeof v !== 'string' || !spec.options.includes(v)) throw bad(`one of ${spec.options.join(', ')}`);
        break;
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a number');
        break;
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) throw bad('an integer');
        break;
      case 'boolean':
        if (typeof v !== 'boolean') throw bad('true or false');
        break;
      case 'string':
        if (typeof v !== 'string') throw bad('a string');
        break;
      case 'numberList':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw bad('a list of numbers');
        break;
      default:
        break;
    }
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Name and convention detection

const SAMPLE_NAMES = ['sample', 'x', 'x_t', 'xt', 'noisy', 'noisy_sample', 'noisy_latents', 'latent', 'latents', 'input', 'inputs', 'image', 'images', 'img', 'z', 'z_t'];
const TIME_NAMES = ['timestep', 'timesteps', 't', 'time', 'sigma', 'sigmas', 'sigma_t', 'noise_level', 'noise_levels', 'c_noise', 'noise_labels', 'cnoise', 'tau'];
const CLASS_NAMES = ['class_labels', 'class_label', 'y', 'label', 'labels', 'class', 'classes', 'class_idx', 'class_ids', 'cls'];
const OUTPUT_NAMES = ['out_sample', 'denoised', 'd', 'output', 'out', 'eps', 'epsilon', 'noise_pred', 'eps_pred', 'v', 'v_pred', 'x0', 'pred_x0', 'x0_pred', 'velocity', 'flow', 'sample', 'pred', 'prediction'];

const TIME_BY_NAME: Readonly<Record<string, TimeKind>> = {
  timestep: 'discrete', timesteps: 'discrete',
  sigma: 'sigma', sigmas: 'sigma', sigma_t: 'sigma', noise_level: 'sigma', noise_levels: 'sigma',
  c_noise: 'edm_cnoise', cnoise: 'edm_cnoise', noise_labels: 'edm_cnoise',
};
const PREDICTION_BY_NAME: Readonly<Record<string, Prediction>> = {
  denoised: 'edm', d: 'edm',
  eps: 'epsilon', epsilon: 'epsilon', noise_pred: 'epsilon', eps_pred: 'epsilon', out_sample: 'epsilon',
  v: 'v_prediction', v_pred: 'v_prediction', v_prediction: 'v_prediction',
  x0: 'sample', pred_x0: 'sample', x0_pred: 'sample',
  velocity: 'flow', flow: 'flow',
};

const isFloat = (t: TensorInfo) => t.type === 'float32' || t.type === 'float16' || t.type === 'float64';
const isInt = (t: TensorInfo) => /^u?int(8|16|32|64)$/.test(t.type);
const byName = (list: readonly TensorInfo[], names: readonly string[], ok: (t: TensorInfo) => boolean) => {
  for (const n of names) {
    const hit = list.find((t) => t.name.toLowerCase() === n && ok(t));
    if (hit) return hit;
  }
  return undefined;
};

interface Resolved {
  readonly config: Partial<ModelConfig>;
  readonly sources: Record<string, SettingSource>;
  readonly problems: string[];
  readonly batchable?: boolean;
}

/**
 * Merges node parameters (non-auto values win), the sidecar, and what the ONNX metadata shows
 * (tensor names, then shapes), recording where each setting came from. Never throws for an incomplete
 * convention: `problems` says what is missing.
 */
export function resolveConfig(params: Params, sidecar: Readonly<Record<string, unknown>> | undefined, io: ModelIO): Resolved {
  const sources: Record<string, SettingSource> = {};
  const problems: string[] = [];
  const pick = <T>(name: string, isAuto: (v: unknown) => boolean): T | undefined => {
    const p = params[name];
    if (p !== undefined && !isAuto(p)) {
      sources[name] = 'node';
      return p as T;
    }
    const s = sidecar?.[name];
    if (s !== undefined && !isAuto(s)) {
      sources[name] = 'sidecar';
      return s as T;
    }
    return undefined;
  };
  const autoStr = (v: unknown) => v === '' || v === 'auto';
  const autoZero = (v: unknown) => v === 0;
  const autoList = (v: unknown) => Array.isArray(v) && v.length === 0;

  // Tensor names.
  const inputs = io.inputs;
  const named = (param: string, names: readonly string[], ok: (t: TensorInfo) => boolean, fallback: () => TensorInfo | undefined): string | undefined => {
    const v = pick<string>(param, autoStr);
    if (v !== undefined) {
      const list = param === 'output' ? io.outputs : inputs;
      if (!list.some((t) => t.name === v)) {
        problems.push(`${param} "${v}" (${sources[param]}) is not ${param === 'output' ? 'an output' : 'an input'} of the model; it has ${listIO(list)}`);
        return undefined;
      }
      return v;
    }
    const hit = byName(param === 'output' ? io.outputs : inputs, names, ok);
    if (hit) {
      sources[param] = 'names';
      return hit.name;
    }
    const fb = fallback();
    if (fb) {
      sources[param] = 'shapes';
      return fb.name;
    }
    return undefined;
  };
  const sampleInput = named('sampleInput', SAMPLE_NAMES, (t) => isFloat(t) && t.shape.length >= 2, () => {
    const c = inputs.filter((t) => isFloat(t) && t.shape.length >= 3);
    return c.length === 1 ? c[0] : undefined;
  });
  const classInput = named('classInput', CLASS_NAMES, (t) => isInt(t) && t.shape.length <= 1 && t.name !== sampleInput, () => undefined);
  const timeInput = named('timeInput', TIME_NAMES, (t) => t.shape.length <= 1 && t.name !== sampleInput && t.name !== classInput, () => {
    const c = inputs.filter((t) => t.shape.length <= 1 && t.name !== sampleInput && t.name !== classInput && (isFloat(t) || isInt(t)));
    return c.length === 1 ? c[0] : undefined;
  });
  const output = named('output', OUTPUT_NAMES, isFloat, () => (io.outputs.length === 1 ? io.outputs[0] : undefined));
  if (!sampleInput) problems.push(`cannot tell which input is the noisy sample; set sampleInput (inputs: ${listIO(inputs)})`);
  if (!timeInput) problems.push(`cannot tell which input is the time / noise level; set timeInput (inputs: ${listIO(inputs)})`);
  if (!output) problems.push(`cannot tell which output is the prediction; set output (outputs: ${listIO(io.outputs)})`);

  // Convention.
  let time = pick<TimeKind>('time', autoStr);
  let prediction = pick<Prediction>('prediction', autoStr);
  const timeInfo = inputs.find((t) => t.name === timeInput);
  if (!prediction && output) {
    const g = PREDICTION_BY_NAME[output.toLowerCase()];
    if (g) {
      prediction = g;
      sources.prediction = 'names';
    }
  }
  if (!time && timeInput) {
    const lower = timeInput.toLowerCase();
    let g: TimeKind | undefined = TIME_BY_NAME[lower];
    if (!g && timeInfo && isInt(timeInfo)) g = 'discrete';
    if (!g && (lower === 't' || lower === 'time') && prediction === 'flow') g = 'flow';
    if (g) {
      time = g;
      sources.time = 'names';
    }
  }
  if (!prediction && time) {
    // The usual pairing: σ-conditioned networks are EDM denoisers, DDPM ones predict ε.
    const g: Prediction | undefined = time === 'sigma' || time === 'edm_cnoise' ? 'edm' : time === 'discrete' ? 'epsilon' : time === 'flow' || time === 'flow1000' ? 'flow' : undefined;
    if (g) {
      prediction = g;
      sources.prediction = 'default';
    }
  }
  if (!time && prediction) {
    const g: TimeKind | undefined = prediction === 'edm' ? 'sigma' : prediction === 'flow' ? 'flow' : undefined;
    if (g) {
      time = g;
      sources.time = 'default';
    }
  }
  if (!prediction) problems.push(`cannot tell what the network predicts; set prediction to one of ${PREDICTIONS.join(', ')} (outputs: ${listIO(io.outputs)})`);
  if (!time) problems.push(`cannot tell what the time input "${timeInput ?? '?'}" receives; set time to one of ${TIME_KINDS.join(', ')}`);

  let inputScaling = pick<InputScaling>('inputScaling', autoStr);
  if (!inputScaling && prediction && time) {
    inputScaling = prediction === 'edm' ? 'none' : prediction === 'flow' || time === 'flow' || time === 'flow1000' ? 'flow' : 'vp';
    sources.inputScaling = 'default';
  }

  let discrete: DiscreteOptions | undefined;
  if (time === 'discrete') {
    const src = (n: string, v: unknown) => (v === undefined ? ((sources[n] = 'default'), undefined) : v);
    const betaSchedule = (src('betaSchedule', pick<BetaSchedule>('betaSchedule', autoStr)) as BetaSchedule | undefined) ?? DEFAULT_DISCRETE.betaSchedule;
    const betaStart = (src('betaStart', pick<number>('betaStart', autoZero)) as number | undefined) ?? DEFAULT_DISCRETE.betaStart;
    const betaEnd = (src('betaEnd', pick<number>('betaEnd', autoZero)) as number | undefined) ?? DEFAULT_DISCRETE.betaEnd;
    const alphasCumprod = pick<number[]>('alphasCumprod', autoList);
    const n = pick<number>('numTrainTimesteps', autoZero) ?? (alphasCumprod ? alphasCumprod.length : undefined);
    if (n === undefined) sources.numTrainTimesteps = 'default';
    discrete = { betaSchedule, betaStart, betaEnd, numTrainTimesteps: n ?? DEFAULT_DISCRETE.numTrainTimesteps, alphasCumprod };
    if (!BETA_SCHEDULES.includes(betaSchedule)) problems.push(`betaSchedule "${betaSchedule}" is not one of ${BETA_SCHEDULES.join(', ')}`);
  }
  let timeInterpolation = pick<TimeInterpolation>('timeInterpolation', autoStr);
  if (timeInterpolation !== undefined && !TIME_INTERPOLATIONS.includes(timeInterpolation)) {
    problems.push(`timeInterpolation "${timeInterpolation}" is not one of auto, ${TIME_INTERPOLATIONS.join(', ')}`);
  } else if (timeInterpolation === 'log_alpha' && time !== undefined && time !== 'discrete') {
    problems.push(`timeInterpolation "log_alpha" (${sources.timeInterpolation}) applies only to discrete time; time is "${time}" — set time to discrete or timeInterpolation to auto`);
  }
  if (time === 'discrete' && timeInterpolation === undefined) {
    timeInterpolation = 'log_sigma';
    sources.timeInterpolation = 'default';
  }
  if (time !== 'discrete') timeInterpolation = undefined;
  const roundTimesteps = params.roundTimesteps === true || sidecar?.roundTimesteps === true;
  sources.roundTimesteps = params.roundTimesteps === true ? 'node' : sidecar?.roundTimesteps === true ? 'sidecar' : 'default';

  const numClasses = pick<number>('numClasses', autoZero);
  const unconditionalClass = pick<number>('unconditionalClass', (v) => v === -1);
  const sigmaMin = pick<number>('sigmaMin', autoZero);
  const sigmaMax = pick<number>('sigmaMax', autoZero);
  const threads = pick<number>('threads', autoZero) ?? 0;
  const rangeList = pick<number[]>('valueRange', autoList);
  let valueRange: [number, number] | undefined;
  if (rangeList) {
    if (rangeList.length !== 2 || !(rangeList[0] < rangeList[1])) problems.push(`valueRange must be [lo, hi] with lo < hi; got [${rangeList.join(', ')}]`);
    else valueRange = [rangeList[0], rangeList[1]];
  }
  const sampleInfo = inputs.find((t) => t.name === sampleInput);
  let sampleShape = pick<number[]>('sampleShape', autoList);
  if (!sampleShape && sampleInfo && sampleInfo.shape.length >= 2) {
    const rest = sampleInfo.shape.slice(1);
    if (rest.every((d) => typeof d === 'number' && d > 0)) {
      sampleShape = rest as number[];
      sources.sampleShape = 'shapes';
    }
  }
  const batchDim = sampleInfo?.shape[0];
  const batchable = sampleInfo ? typeof batchDim === 'string' || batchDim === -1 : undefined;

  return {
    config: {
      prediction, time, inputScaling, discrete, roundTimesteps, timeInterpolation, sampleInput, timeInput, output, classInput,
      numClasses, unconditionalClass, sigmaMin, sigmaMax, sampleShape, valueRange, threads,
    },
    sources,
    problems,
    batchable,
  };
}

function scheduleKind(c: Pick<ModelConfig, 'prediction' | 'time'>): ModelSchedule['kind'] {
  if (c.time === 'discrete') return 'discrete';
  if (c.prediction === 'flow' || c.time === 'flow' || c.time === 'flow1000') return 'flow';
  if (c.prediction === 'edm' || c.time === 'edm_cnoise') return 'edm';
  return 'sigma';
}

/** The model's {@link ModelSchedule} for a resolved configuration. */
export function scheduleFor(c: ModelConfig): ModelSchedule {
  const kind = scheduleKind(c);
  return makeModelSchedule({ kind, discreteSigmas: c.discrete ? discreteSigmas(c.discrete) : undefined, sigmaMin: c.sigmaMin, sigmaMax: c.sigmaMax });
}

// ---------------------------------------------------------------------------------------------
// Conversions (exported for tests)

/** a(σ): the factor the network input is x times (x_in = a·x). */
export function inputScale(scaling: InputScaling, sigma: number): number {
  switch (scaling) {
    case 'vp':
      return 1 / Math.sqrt(sigma * sigma + 1);
    case 'flow':
      return 1 / (1 + sigma);
    case 'none':
      return 1;
    default:
      throw new DpipeError('E_MODEL', `inputScaling "${String(scaling)}" is not one of ${INPUT_SCALINGS.join(', ')}.`);
  }
}

/**
 * x̂0 from the network output (see the module comment for the derivation). Writes `n` values of
 * `out` (network output) and `x` (VE state) starting at the given offsets into `dst`.
 */
export function toDenoised(
  prediction: Prediction, scaling: InputScaling, sigma: number,
  x: Float64Array, xOff: number, out: ArrayLike<number>, outOff: number, dst: Float64Array, dstOff: number, n: number,
): void {
  switch (prediction) {
    case 'epsilon':
      for (let i = 0; i < n; i++) dst[dstOff + i] = x[xOff + i] - sigma * out[outOff + i];
      return;
    case 'v_prediction': {
      const a = inputScale(scaling, sigma);
      const c = 1 / (1 + sigma * sigma);
      const cv = sigma / a;
      for (let i = 0; i < n; i++) dst[dstOff + i] = (x[xOff + i] - cv * out[outOff + i]) * c;
      return;
    }
    case 'flow': {
      const c = 1 / (1 + sigma);
      for (let i = 0; i < n; i++) dst[dstOff + i] = (x[xOff + i] - sigma * out[outOff + i]) * c;
      return;
    }
    case 'sample':
    case 'edm':
      for (let i = 0; i < n; i++) dst[dstOff + i] = out[outOff + i];
      return;
    default:
      throw new DpipeError('E_MODEL', `prediction "${String(prediction)}" is not one of ${PREDICTIONS.join(', ')}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

const shaCache = new Map<string, string>();

/** SHA-256 of a file (hex), cached per file version. */
export async function fileSha256(abs: string, stamp?: string): Promise<string> {
  const key = `${abs}|${stamp ?? ''}`;
  const hit = stamp ? shaCache.get(key) : undefined;
  if (hit) return hit;
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(abs).on('data', (c) => h.update(c)).on('end', () => resolve()).on('error', reject);
  });
  const d = h.digest('hex');
  if (stamp) shaCache.set(key, d);
  return d;
}

/**
 * Opens an ONNX model as a {@link ModelValue}. `params` are the `model.onnx` node's parameters (missing or
 * "auto" ones come from the sidecar `<file>.json`, then from the tensor names). Errors: E_FILE_MISSING,
 * E_MODEL (with the model's actual inputs when the configuration does not fit it).
 */
export async function loadModel(params: Params, absPath: string, opts: LoadOptions = {}): Promise<ModelValue> {
  const abs = path.resolve(absPath);
  const side = opts.sidecar === null ? undefined : opts.sidecar ? { path: '(given)', data: { ...opts.sidecar }, notes: [] } : await readSidecar(abs);
  if (opts.sidecar) checkSidecar(side!.data, 'given sidecar');
  // 0 means "auto" at every level: the load option, then the node, then the sidecar, then onnxruntime's default.
  const threadsParam = opts.threads || (params.threads as number | undefined) || (side?.data.threads as number | undefined) || 0;
  const p = params.provider as string | undefined;
  const provider = (opts.provider ?? (p && p !== 'auto' ? (p as ExecutionProvider) : undefined)) || 'cpu';
  const fallbackToCpu = opts.fallbackToCpu ?? params.fallbackToCpu === true;
  const opened = await openSession(abs, { threads: threadsParam, provider, fallbackToCpu });
  const session = opts.through ? opts.through(opened) : opened;
  const r = resolveConfig(params, side?.data, session.io);
  if (r.problems.length) {
    throw new DpipeError('E_MODEL', `${path.basename(abs)}: ${r.problems.join('; ')}. Set these on the model node or in a sidecar ${path.basename(abs)}.json.`);
  }
  const config = { ...r.config, threads: threadsParam } as ModelConfig;
  const sha256 = await fileSha256(abs, session.fileStamp);
  return wrapSession(session, config, sha256);
}

/** What a model wrapper needs beyond its configuration (model folders use these; a single .onnx file needs none). */
export interface WrapOptions {
  /**
   * A value for a model input that the conditioning does not give (e.g. SDXL's `time_ids` from the latent size):
   * one item's data and shape, or undefined when it cannot be derived (then the error asks for a conditioning).
   */
  readonly deriveInput?: (input: TensorInfo, shape: readonly number[], cond: CondValue) => { readonly data: Float32Array; readonly itemShape: readonly number[] } | undefined;
  /**
   * The conditioning that stands for "nothing" (`{ kind: 'none' }`) on a model whose inputs need tensors — a
   * text-to-image model's empty prompt. Computed once, when an evaluation first needs it.
   */
  readonly emptyConditioning?: () => Promise<CondValue>;
  /** The name errors use (default: the file's name). */
  readonly label?: string;
}

const FLOAT_TYPES = ['float32', 'float16'] as const;

/**
 * Wraps an open session with a resolved configuration. Errors: E_MODEL when the tensors do not fit the
 * configuration (wrong element types, class input without an unconditional label, …).
 *
 * float16 models take float16 sample, time and tensor inputs: values are rounded float64 → float32 → float16
 * (nearest-even) at the boundary, as a float32 tensor cast with `.half()` is, and float16 outputs are widened
 * exactly. A float16 output that holds ±∞ or NaN (|value| beyond 65504) fails the evaluation with E_NAN naming the
 * file: it is float16 overflow, not a solver problem.
 */
export function wrapSession(session: OnnxSession, config: ModelConfig, sha256: string, wopts: WrapOptions = {}): ModelValue {
  const io = session.io;
  const name = wopts.label ?? path.basename(session.path);
  const find = (n: string | undefined) => (n ? io.inputs.find((t) => t.name === n) : undefined);
  const sampleInfo = find(config.sampleInput);
  const timeInfo = find(config.timeInput);
  const classInfo = find(config.classInput);
  const outInfo = io.outputs.find((t) => t.name === config.output);
  const fail = (why: string) => new DpipeError('E_MODEL', `${name}: ${why}. Model inputs: ${listIO(io.inputs)}; outputs: ${listIO(io.outputs)}.`);
  if (!sampleInfo) throw fail(`sampleInput "${config.sampleInput}" is not an input`);
  if (!timeInfo) throw fail(`timeInput "${config.timeInput}" is not an input`);
  if (!outInfo) throw fail(`output "${config.output}" is not an output`);
  if (config.classInput && !classInfo) throw fail(`classInput "${config.classInput}" is not an input`);
  if (!(FLOAT_TYPES as readonly string[]).includes(sampleInfo.type)) throw fail(`the sample input "${sampleInfo.name}" is ${sampleInfo.type}; dpipe feeds float32 or float16`);
  if (!['float32', 'float16', 'float64', 'int64', 'int32'].includes(timeInfo.type)) throw fail(`the time input "${timeInfo.name}" is ${timeInfo.type}; dpipe feeds float32, float16, float64, int64 or int32`);
  if (!['float32', 'float16', 'float64'].includes(outInfo.type)) throw fail(`the output "${outInfo.name}" is ${outInfo.type}; dpipe reads float32, float16 or float64`);
  if (classInfo && !['int64', 'int32'].includes(classInfo.type)) throw fail(`the class input "${classInfo.name}" is ${classInfo.type}; class labels are int64 or int32`);
  if (timeInfo.shape.length > 1) throw fail(`the time input "${timeInfo.name}" has rank ${timeInfo.shape.length}; expected a scalar or [batch]`);
  if (config.time === 'discrete' && !config.discrete) throw fail('discrete time without a beta schedule');
  if (config.unconditionalClass !== undefined && config.numClasses !== undefined && config.unconditionalClass > config.numClasses) {
    throw fail(`unconditionalClass ${config.unconditionalClass} is above numClasses ${config.numClasses}`);
  }

  const schedule = scheduleFor(config);
  const timeOpts = {
    kind: config.time, discreteSigmas: schedule.discreteSigmas, round: config.roundTimesteps || isIntType(timeInfo.type), interpolation: config.timeInterpolation,
  };
  const batchDim = sampleInfo.shape[0];
  const batchable = typeof batchDim === 'string' || batchDim === -1;
  const fixedBatch = typeof batchDim === 'number' && batchDim > 0 ? batchDim : undefined;
  const unconditional: CondValue = classInfo && config.unconditionalClass !== undefined ? { kind: 'class', label: config.unconditionalClass } : { kind: 'none' };
  const otherInputs = io.inputs.filter((t) => t !== sampleInfo && t !== timeInfo && t !== classInfo);
  let sampleShape = config.sampleShape;
  if (!sampleShape && sampleInfo.shape.slice(1).every((d) => typeof d === 'number' && d > 0)) sampleShape = sampleInfo.shape.slice(1) as number[];

  /** Per conditioning: the class label of each batch item, and the tensor inputs' per-item data. */
  const plan = (cond: CondValue, B: number) => {
    let labels: number[] | undefined;
    const tensors = new Map<string, { data: Float32Array; perItem: number; itemShape: number[]; byItem: boolean }>();
    if (cond.kind === 'class') {
      if (!classInfo) throw fail('a class conditioning is connected but the model has no class-label input (set classInput if it has one)');
      const list = cond.labels && cond.labels.length ? cond.labels : [cond.label];
      for (const l of list) checkLabel(l);
      labels = Array.from({ length: B }, (_, i) => list[i % list.length]);
    } else if (cond.kind === 'tensor' || cond.kind === 'tensors') {
      for (const t of cond.kind === 'tensor' ? [cond] : cond.tensors) tensors.set(t.input, tensorPlan(t, B));
    }
    if (classInfo && !labels) {
      if (config.unconditionalClass === undefined) throw fail(`input "${classInfo.name}" needs a class label; connect a class conditioning, or set unconditionalClass (node or sidecar) for unconditional evaluations`);
      labels = new Array<number>(B).fill(config.unconditionalClass);
    }
    for (const t of otherInputs) {
      if (tensors.has(t.name)) continue;
      const d = wopts.deriveInput?.(t, shapeNow!, cond);
      if (d) {
        tensors.set(t.name, { data: d.data, perItem: d.data.length, itemShape: [...d.itemShape], byItem: false });
        continue;
      }
      throw fail(`input "${t.name}" needs a value for every evaluation, but this conditioning (${cond.kind}) does not give one; connect a conditioning that feeds it (cond.tensor, or cond.prompt for a text encoder's outputs) and a negative one for guidance`);
    }
    return { labels, tensors };
  };
  /** How one named tensor feeds its input: per item or shared, checked against the input's shape and type. */
  const tensorPlan = (cond: CondTensor, B: number) => {
    const info = io.inputs.find((t) => t.name === cond.input);
    if (!info) throw fail(`a tensor conditioning names input "${cond.input}", which the model does not have`);
    if (info === sampleInfo || info === timeInfo || info === classInfo) throw fail(`a tensor conditioning cannot feed "${cond.input}", the model's ${info === sampleInfo ? 'sample' : info === timeInfo ? 'time' : 'class'} input`);
    if (!(FLOAT_TYPES as readonly string[]).includes(info.type)) throw fail(`input "${cond.input}" is ${info.type}; tensor conditionings are float32 or float16`);
    const r = info.shape.length;
    let byItem = false;
    let itemShape: number[];
    if (cond.shape.length === r - 1) itemShape = [...cond.shape];
    else if (cond.shape.length === r && cond.shape[0] === 1) itemShape = cond.shape.slice(1);
    else if (cond.shape.length === r && cond.shape[0] === B) {
      itemShape = cond.shape.slice(1);
      byItem = true;
    } else {
      throw new DpipeError('E_SHAPE', `${name}: tensor for "${cond.input}" has shape [${cond.shape.join(',')}]; input is [${info.shape.join(',')}] — give one item ([${info.shape.slice(1).join(',')}]) or one per batch item.`);
    }
    info.shape.slice(1).forEach((d, i) => {
      if (typeof d === 'number' && d > 0 && itemShape[i] !== d) {
        throw new DpipeError('E_SHAPE', `${name}: tensor for "${cond.input}" has item shape [${itemShape.join(',')}]; the input needs [${info.shape.slice(1).join(',')}].`);
      }
    });
    return { data: cond.data, perItem: itemShape.reduce((a, b) => a * b, 1), itemShape, byItem };
  };
  let shapeNow: readonly number[] | undefined;
  let emptyCond: Promise<CondValue> | undefined;
  /** `{ kind: 'none' }` on a model that needs tensor inputs means its empty conditioning (the empty prompt). */
  const resolveCond = async (c: CondValue): Promise<CondValue> => {
    if (c.kind !== 'none' || !wopts.emptyConditioning) return c;
    emptyCond ??= wopts.emptyConditioning();
    return emptyCond;
  };
  const checkLabel = (l: number) => {
    const n = config.numClasses;
    if (!Number.isInteger(l) || l < 0 || (n !== undefined && l >= n && l !== config.unconditionalClass)) {
      throw fail(`class label ${l} is not allowed; use 0..${n !== undefined ? n - 1 : 'N−1'}${config.unconditionalClass !== undefined ? ` or ${config.unconditionalClass} (unconditional)` : ''}`);
    }
  };

  const feedTime = (t: number, count: number): Tensor => {
    const dims = timeInfo.shape.length === 0 ? [] : timeInfo.shape[0] === 1 ? [1] : [count];
    const len = dims.length === 0 ? 1 : dims[0];
    switch (timeInfo.type) {
      case 'int64':
        return { type: 'int64', data: new BigInt64Array(len).fill(BigInt(Math.round(t))), dims };
      case 'int32':
        return { type: 'int32', data: new Int32Array(len).fill(Math.round(t)), dims };
      case 'float64':
        return { type: 'float64', data: new Float64Array(len).fill(t), dims };
      case 'float16':
        return { type: 'float16', data: new Uint16Array(len).fill(floatToHalf(t)), dims };
      default:
        return { type: 'float32', data: new Float32Array(len).fill(t), dims };
    }
  };

  /** The checks of an evaluation that need no network call: the latent's shape, the conditionings, the batch split. */
  const preflight = (shape: readonly number[], conds: readonly CondValue[]) => {
    if (shape.length !== sampleInfo.shape.length && sampleInfo.shape.length > 0) {
      throw new DpipeError('E_SHAPE', `${name}: latent has shape [${shape.join(',')}]; the model's "${sampleInfo.name}" is [${sampleInfo.shape.join(',')}].`);
    }
    sampleInfo.shape.slice(1).forEach((d, i) => {
      if (typeof d === 'number' && d > 0 && shape[i + 1] !== d) {
        throw new DpipeError('E_SHAPE', `${name}: latent has shape [${shape.join(',')}]; the model's "${sampleInfo.name}" is [${sampleInfo.shape.join(',')}].`);
      }
    });
    const B = shape[0];
    shapeNow = shape;
    // A model's "nothing" conditioning (the empty prompt) is computed when an evaluation needs it: nothing to check.
    const plans = conds.map((c) => (c.kind === 'none' && wopts.emptyConditioning ? undefined : plan(c, B)));
    const total = conds.length * B;
    const chunk = batchable ? total : fixedBatch ?? 1;
    if (total % chunk !== 0) throw new DpipeError('E_SHAPE', `${name}: the model's batch size is fixed at ${chunk}; a batch of ${B} does not split into it.`);
    return { B, plans, total, chunk };
  };

  const denoise = async (x: Latent, sigma: number, conds: readonly CondValue[], signal?: AbortSignal): Promise<Latent[]> => {
    if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new DpipeError('E_MODEL', `${name}: σ must be finite and ≥ 0; got ${sigma}.`);
    const resolved = await Promise.all(conds.map(resolveCond));
    const { B, plans: maybe, total, chunk } = preflight(x.shape, resolved);
    const plans = maybe.map((p) => p!);
    const per = x.data.length / B;
    if (signal?.aborted) throw new DpipeError('E_ABORTED', 'The run was stopped.');
    // D(x; 0) = x for every denoiser; no network call (and no log 0 in c_noise).
    if (sigma === 0) return conds.map(() => ({ shape: [...x.shape], data: Float64Array.from(x.data) }));

    const a = inputScale(config.inputScaling, sigma);
    const tval = timeFromSigma(sigma, timeOpts);
    if (!Number.isFinite(tval)) throw new DpipeError('E_MODEL', `${name}: at σ = ${sigma} the time input would be ${tval}; σ is outside the model's noise levels.`);
    const results = conds.map(() => new Float64Array(x.data.length));
    for (let start = 0; start < total; start += chunk) {
      const feeds: Record<string, Tensor> = {};
      const half = sampleInfo.type === 'float16';
      const xs = half ? new Uint16Array(chunk * per) : new Float32Array(chunk * per);
      for (let j = 0; j < chunk; j++) {
        const item = (start + j) % B;
        const off = item * per;
        if (half) for (let i = 0; i < per; i++) xs[j * per + i] = floatToHalf(a * x.data[off + i]);
        else for (let i = 0; i < per; i++) xs[j * per + i] = a * x.data[off + i];
      }
      feeds[sampleInfo.name] = { type: sampleInfo.type, data: xs, dims: [chunk, ...x.shape.slice(1)] };
      feeds[timeInfo.name] = feedTime(tval, chunk);
      if (classInfo) {
        const labels = Array.from({ length: chunk }, (_, j) => plans[Math.floor((start + j) / B)].labels![(start + j) % B]);
        const dims = classInfo.shape.length === 0 ? [] : [chunk];
        feeds[classInfo.name] = classInfo.type === 'int32'
          ? { type: 'int32', data: Int32Array.from(labels), dims }
          : { type: 'int64', data: BigInt64Array.from(labels, (l) => BigInt(l)), dims };
      }
      for (const t of otherInputs) {
        const first = plans[Math.floor(start / B)].tensors.get(t.name)!;
        const buf = new Float32Array(chunk * first.perItem);
        for (let j = 0; j < chunk; j++) {
          const p = plans[Math.floor((start + j) / B)].tensors.get(t.name)!;
          if (p.perItem !== first.perItem) throw new DpipeError('E_SHAPE', `${name}: the conditionings for "${t.name}" have different shapes; they go in one batch.`);
          const item = (start + j) % B;
          buf.set(p.data.subarray(p.byItem ? item * p.perItem : 0, (p.byItem ? item * p.perItem : 0) + p.perItem), j * first.perItem);
        }
        feeds[t.name] = t.type === 'float16'
          ? { type: 'float16', data: Uint16Array.from(buf, floatToHalf), dims: [chunk, ...first.itemShape] }
          : { type: 'float32', data: buf, dims: [chunk, ...first.itemShape] };
      }
      const res = await session.run(feeds, [outInfo.name], signal);
      const o = res[outInfo.name];
      if (o.data.length !== chunk * per) {
        throw new DpipeError('E_SHAPE', `${name}: output "${outInfo.name}" has shape [${o.dims.join(',')}]; expected the sample's shape [${[chunk, ...x.shape.slice(1)].join(',')}].`);
      }
      const od = o.type === 'float32' || o.type === 'float64' ? (o.data as ArrayLike<number>) : toFloat64(o);
      if (o.type === 'float16') checkHalfOverflow(od, sigma);
      for (let j = 0; j < chunk; j++) {
        const g = start + j;
        const item = g % B;
        toDenoised(config.prediction, config.inputScaling, sigma, x.data, item * per, od, j * per, results[Math.floor(g / B)], item * per, per);
      }
    }
    return results.map((data) => ({ shape: [...x.shape], data }));
  };

  const checkHalfOverflow = (od: ArrayLike<number>, sigma: number) => {
    for (let i = 0; i < od.length; i++) {
      if (!Number.isFinite(od[i])) {
        throw new DpipeError('E_NAN', `${name}: the float16 output "${outInfo.name}" overflowed at σ = ${+sigma.toPrecision(6)} (element ${i} is ${od[i]}: float16 holds at most ±65504). The network's activations exceed float16's range: use a float32 export of this model, or a lower guidance scale / another solver if the input itself is extreme.`);
      }
    }
  };

  /** The value the time input receives at σ, as the tensor holds it (rounded for integer inputs, float32 for float32). */
  const timeOf = (sigma: number): number | null => {
    // σ-input models (EDM: σ or c_noise = ¼ ln σ) have no separate time; at σ = 0 the network is not called.
    if (config.time === 'sigma' || config.time === 'edm_cnoise' || !(sigma > 0)) return null;
    const t = timeFromSigma(sigma, timeOpts);
    if (isIntType(timeInfo.type)) return Math.round(t);
    return timeInfo.type === 'float32' ? Math.fround(t) : t;
  };

  return {
    schedule,
    sampleShape,
    unconditional,
    batchable,
    denoise,
    check: (shape, conds) => void preflight(shape, conds),
    timeOf,
    numClasses: config.numClasses,
    valueRange: config.valueRange,
    info: { path: session.path, sha256, prediction: config.prediction, time: config.time, provider: session.provider, ...(session.providerNote ? { providerNote: session.providerNote } : {}) },
  };
}

function isIntType(t: string): boolean {
  return t === 'int64' || t === 'int32';
}

// ---------------------------------------------------------------------------------------------
// Inspection

/**
 * What `dpipe inspect MODEL.onnx` shows: inputs and outputs, the sidecar, and the convention detected,
 * with where each setting came from (node / sidecar / names / shapes / default). Never throws for an
 * incomplete convention (only for unreadable files).
 */
export async function describeModel(file: string, params: Params = {}): Promise<ModelDescription> {
  const abs = path.resolve(file);
  const session = await openSession(abs, {});
  const side = await readSidecar(abs);
  const r = resolveConfig(params, side?.data, session.io);
  const problems = [...(side?.notes ?? []), ...r.problems];
  let schedule: ModelDescription['schedule'];
  const c = r.config;
  if (!r.problems.length && c.prediction && c.time) {
    try {
      const s = scheduleFor(c as ModelConfig);
      schedule = { kind: s.kind, sigmaMin: s.sigmaMin, sigmaMax: s.sigmaMax, timesteps: s.discreteSigmas?.length };
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const convention: Record<string, unknown> = { batchable: r.batchable };
  for (const [k, v] of Object.entries(c)) if (v !== undefined) convention[k] = v as ParamValue;
  return {
    path: abs,
    sha256: await fileSha256(abs, session.fileStamp),
    inputs: session.io.inputs,
    outputs: session.io.outputs,
    sidecarPath: side?.path,
    description: typeof side?.data.description === 'string' ? side.data.description : undefined,
    convention: convention as ModelDescription['convention'],
    sources: r.sources,
    schedule,
    problems,
    onnxruntime: onnxruntimeVersion(),
  };
}
