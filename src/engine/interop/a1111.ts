/**
 * AUTOMATIC1111 / Forge "infotext" (the PNG `parameters` text chunk, also what A1111's "Send to txt2img" reads):
 * prompt lines, a "Negative prompt:" line, and a last line of `Key: value` fields (values with commas are JSON-quoted),
 * read the way A1111's `infotext_utils.parse_generation_parameters` reads them; and its sampler and schedule names
 * (modules/sd_samplers_kdiffusion.py, modules/sd_schedulers.py, A1111 1.9+ where "Schedule type" is its own field;
 * older "DPM++ 2M Karras"-style names are split as A1111 splits them).
 *
 * A txt2img (or, with the input image, img2img) infotext becomes: model folder → prompt and negative prompt →
 * classifier-free guidance → the schedule and k-diffusion sampler A1111 runs → Sample with A1111's noise (noise.torch,
 * order "a1111": per-image generators seeded seed + i, the variation seed slerp, "Seed resize from", ENSD; the source
 * from the "RNG" field) scaled by σ₀ (A1111 multiplies the noise by the first σ) → VAE decode → PNG. The model is
 * called with the fractional timestep of k-diffusion's CompVisDenoiser (A1111's default, quantization off).
 */
import type { PipelineDoc, PipelineNode } from '../format/types';
import type { ParamValue } from '../registry/types';
import { betaPpf } from '../schedules/betaDist';
import { loglinearInterp } from '../schedules/comfy';
import { discreteSigmas, DEFAULT_DISCRETE } from '../model/schedule';
import { DocBuilder, feeding, fullParams, type BlockSpec } from './doc';
import { differences, paramDiff } from './signature';
import type { InteropIssue } from './issues';

export interface InfotextField {
  readonly value: string;
  /** Where the value is in the infotext (characters). */
  readonly offset: number;
  readonly length: number;
}

export interface Infotext {
  readonly prompt: string;
  readonly negative: string;
  readonly fields: ReadonlyMap<string, InfotextField>;
}

const PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

/** Reads an infotext as A1111 does (parse_generation_parameters): prompt, negative prompt, the last line's fields. */
export function parseInfotext(text: string): Infotext {
  const trimmed = text.trim();
  const start = text.indexOf(trimmed);
  const lines = trimmed.split('\n');
  let last = lines.pop() ?? '';
  let lastStart = start + trimmed.length - last.length;
  if ([...last.matchAll(PARAM)].length < 3) {
    lines.push(last);
    last = '';
    lastStart = text.length;
  }
  let prompt = '';
  let negative = '';
  let inNegative = false;
  for (let line of lines) {
    line = line.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice(16).trim();
    }
    if (inNegative) negative += (negative ? '\n' : '') + line;
    else prompt += (prompt ? '\n' : '') + line;
  }
  const fields = new Map<string, InfotextField>();
  for (const m of last.matchAll(PARAM)) {
    const key = m[1].trim();
    let value = m[2].trim();
    const offset = lastStart + m.index! + m[0].indexOf(m[2], m[0].indexOf(':') + 1);
    if (value.startsWith('"') && value.endsWith('"')) {
      try {
        value = String(JSON.parse(value));
      } catch {
        // A1111 keeps a value it cannot unquote as it is
      }
    }
    const size = /^(\d+)x(\d+)$/.exec(value);
    if (size) {
      fields.set(`${key}-1`, { value: size[1], offset, length: m[2].length });
      fields.set(`${key}-2`, { value: size[2], offset, length: m[2].length });
    } else {
      fields.set(key, { value, offset, length: m[2].length });
    }
  }
  return { prompt, negative, fields };
}

/** The A1111 version an infotext's "Version" field names ("v1.10.1", Forge's "f2.0.1v1.10.1-…"), as [major, minor]. */
export function a1111Version(version: string | undefined): [number, number] | undefined {
  const m = version ? /v(\d+)\.(\d+)(?!.*v\d+\.\d+)/.exec(version) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Names

interface A1111Sampler {
  /** The solver block; eta is A1111's η (the Eta field, else 1) for samplers that take one. */
  readonly solver: (eta: number, churn: Churn) => BlockSpec;
  /** The scheduler "Automatic" means for this sampler (A1111 1.9+); undefined: Uniform. */
  readonly scheduler?: 'karras' | 'exponential';
  /** Computes one step more and drops the next-to-last σ. */
  readonly discard?: boolean;
  /** The k-diffusion function takes η (A1111 passes its Eta). */
  readonly eta?: boolean;
  /** Euler/Heun/DPM2 take A1111's Sigma churn / tmin / tmax / noise. */
  readonly churn?: boolean;
  /** Per-step noise from a torchsde Brownian tree (not reproducible). */
  readonly brownian?: boolean;
  /** Uses only σ_max, σ_min and the step count (DPM fast / adaptive). */
  readonly ends?: 'fast' | 'adaptive';
}

interface Churn {
  readonly sChurn: number;
  readonly sTmin: number;
  readonly sTmax: number;
  readonly sNoise: number;
}

const KD = { preset: 'k-diffusion' } as const;
const churnParams = (c: Churn) => ({ sChurn: c.sChurn, sTmin: c.sTmin, sTmax: c.sTmax, sNoise: c.sNoise });

/** A1111's k-diffusion samplers (label → what it runs), and why the others are not imported. */
export const A1111_SAMPLERS: Readonly<Record<string, A1111Sampler | { readonly unsupported: string }>> = {
  'DPM++ 2M': { solver: () => ({ type: 'solver.dpmpp_2m', params: { ...KD, lowerOrderFinal: 'off', solverType: 'midpoint' } }), scheduler: 'karras' },
  'DPM++ SDE': { solver: (eta) => ({ type: 'solver.dpmpp_sde', params: { eta, sNoise: 1, r: 0.5 } }), scheduler: 'karras', eta: true, brownian: true },
  'DPM++ 2M SDE': { solver: (eta) => ({ type: 'solver.dpmpp_2m_sde', params: { ...KD, eta, sNoise: 1, solverType: 'midpoint' } }), scheduler: 'exponential', eta: true, brownian: true },
  'DPM++ 2M SDE Heun': { solver: (eta) => ({ type: 'solver.dpmpp_2m_sde', params: { eta, sNoise: 1, solverType: 'heun', lowerOrderFinal: 'off' } }), scheduler: 'exponential', eta: true, brownian: true },
  'DPM++ 2S a': { solver: (eta) => ({ type: 'solver.dpmpp_2s_ancestral', params: { eta, sNoise: 1 } }), scheduler: 'karras', eta: true },
  'DPM++ 3M SDE': { solver: (eta) => ({ type: 'solver.dpmpp_3m_sde', params: { eta, sNoise: 1 } }), scheduler: 'exponential', discard: true, eta: true, brownian: true },
  'Euler a': { solver: (eta) => ({ type: 'solver.euler_ancestral', params: { ...KD, eta, sNoise: 1 } }), eta: true },
  Euler: { solver: (_e, c) => ({ type: 'solver.euler', params: { ...KD, ...churnParams(c) } }), churn: true },
  LMS: { solver: () => ({ type: 'solver.lms', params: { ...KD, order: 4 } }) },
  Heun: { solver: (_e, c) => ({ type: 'solver.heun', params: { ...KD, ...churnParams(c) } }), churn: true },
  DPM2: { solver: () => ({ type: 'solver.dpm_2', params: { r1: 0.5 } }), scheduler: 'karras', discard: true, churn: true },
  'DPM2 a': { unsupported: 'DPM-Solver-2 with ancestral noise (sample_dpm_2_ancestral) has no dpipe block' },
  'DPM fast': { solver: () => ({ type: 'solver.dpm_fast', params: {} }), eta: true, ends: 'fast' },
  'DPM adaptive': { solver: () => ({ type: 'solver.dpm_adaptive', params: { order: 3, rtol: 0.05, atol: 0.0078, hInit: 0.05, acceptSafety: 0.81 } }), eta: true, ends: 'adaptive' },
  Restart: { unsupported: 'A1111\'s Restart sampler (its own restart list and main schedule) is not verified against dpipe\'s solver.restart, so it is not mapped' },
  DDIM: { unsupported: 'A1111\'s DDIM runs on its own timestep grid (a timestep sampler, not k-diffusion); not mapped' },
  'DDIM CFG++': { unsupported: 'A1111\'s DDIM CFG++ is a timestep sampler; not mapped' },
  PLMS: { unsupported: 'A1111\'s PLMS is a timestep sampler; not mapped' },
  UniPC: { unsupported: 'A1111\'s UniPC runs on its own timestep grid (a timestep sampler, not k-diffusion); not mapped' },
  LCM: { unsupported: 'A1111\'s LCM sampler has no dpipe block' },
};

/** A1111's schedule labels (modules/sd_schedulers.py) with their aliases. */
export const A1111_SCHEDULES = ['Automatic', 'Uniform', 'Karras', 'Exponential', 'Polyexponential', 'SGM Uniform', 'KL Optimal', 'Align Your Steps', 'Simple', 'Normal', 'DDIM', 'Beta'] as const;
const SCHEDULE_ALIASES: Readonly<Record<string, string>> = {
  SGMUniform: 'SGM Uniform', automatic: 'Automatic', uniform: 'Uniform', karras: 'Karras', exponential: 'Exponential', polyexponential: 'Polyexponential',
  sgm_uniform: 'SGM Uniform', kl_optimal: 'KL Optimal', align_your_steps: 'Align Your Steps', simple: 'Simple', normal: 'Normal', ddim: 'DDIM', beta: 'Beta',
};

/** Old names such as "DPM++ 2M Karras": the sampler and the schedule, as A1111's get_sampler_and_scheduler splits them. */
export function splitSamplerName(sampler: string, schedule: string | undefined): { sampler: string; schedule: string } {
  let name = sampler;
  let found = schedule ? SCHEDULE_ALIASES[schedule] ?? schedule : 'Automatic';
  for (const label of [...A1111_SCHEDULES, ...Object.keys(SCHEDULE_ALIASES)]) {
    if (name.endsWith(` ${label}`)) {
      found = SCHEDULE_ALIASES[label] ?? label;
      name = name.slice(0, -label.length - 1);
      break;
    }
  }
  return { sampler: name, schedule: found };
}

/** A1111's Align Your Steps levels (rounded to 3 decimals, unlike NVIDIA's and ComfyUI's). */
const A1111_AYS = {
  sd: [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
  sdxl: [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.38, 0.234, 0.113, 0.029],
};

/** Fields this importer reads, fields that only describe the image, and fields whose effect dpipe does not have. */
const READ = new Set([
  'Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size-1', 'Size-2', 'Denoising strength', 'Variation seed', 'Variation seed strength',
  'Seed resize from-1', 'Seed resize from-2', 'Eta', 'ENSD', 'RNG', 'Schedule min sigma', 'Schedule max sigma', 'Schedule rho', 'Discard penultimate sigma',
  'Beta schedule alpha', 'Beta schedule beta', 'Sigma churn', 'Sigma tmin', 'Sigma tmax', 'Sigma noise', 'Clip skip', 'Model', 'Model hash', 'VAE', 'Version',
]);
const INFORMATIONAL = new Set(['VAE hash', 'Hashes', 'Batch size', 'Batch pos', 'Template', 'Negative Template', 'Emphasis', 'Pad conds', 'Lora hashes', 'TI hashes', 'Downcast alphas_cumprod']);
const NOT_REPRODUCED: Readonly<Record<string, string>> = {
  'Hires upscale': 'the hires. fix (a second pass on an upscaled image)',
  'Hires resize-1': 'the hires. fix (a second pass on an upscaled image)',
  'Hires steps': 'the hires. fix (a second pass on an upscaled image)',
  'Hires upscaler': 'the hires. fix (a second pass on an upscaled image)',
  Refiner: 'the SDXL refiner switch (a second model)',
  'Face restoration': 'face restoration',
  'Token merging ratio': 'token merging (ToMe), which changes the model',
  NGMS: 'negative guidance minimum sigma (skipping the negative prompt at low σ)',
  'Mask blur': 'inpainting',
  'Image CFG scale': 'InstructPix2Pix image guidance',
  'Tiling': 'seamless tiling',
};

export interface A1111ImportOptions {
  readonly modelPath?: string;
  /** The model folder's family when known (Align Your Steps uses SDXL levels for SDXL). */
  readonly family?: 'sd' | 'sdxl' | 'sd3';
  /** img2img: the input image, as the pipeline names it. */
  readonly image?: string;
  readonly sourceName?: string;
}

export interface A1111ImportResult {
  readonly doc?: PipelineDoc;
  readonly issues: InteropIssue[];
  readonly infotext: Infotext;
  /** The infotext is from img2img and needs the input image. */
  readonly needsImage: boolean;
}

/** SD 1.x/2.x/SDXL noise levels (A1111's CompVisDenoiser on the 0.00085 … 0.012 β schedule). */
const SD_TABLE = discreteSigmas(DEFAULT_DISCRETE);

export function importInfotext(text: string, opts: A1111ImportOptions = {}): A1111ImportResult {
  const info = parseInfotext(text);
  const issues: InteropIssue[] = [];
  const f = info.fields;
  const at = (key: string) => {
    const v = f.get(key);
    return v ? { field: key, offset: v.offset, length: v.length } : { field: key };
  };
  const error = (key: string, message: string): undefined => {
    issues.push({ severity: 'error', message, ...at(key) });
    return undefined;
  };
  const warn = (key: string, message: string) => issues.push({ severity: 'warning', message, ...at(key) });
  const num = (key: string, def?: number, opts2: { integer?: boolean; min?: number } = {}): number | undefined => {
    const v = f.get(key);
    if (!v) return def === undefined ? error(key, `the infotext has no "${key}" field`) : def;
    const n = Number(v.value);
    if (v.value === '' || !Number.isFinite(n) || (opts2.integer && !Number.isInteger(n)) || (opts2.min !== undefined && n < opts2.min)) return error(key, `"${key}: ${v.value}" is not ${opts2.integer ? 'an integer' : 'a number'}${opts2.min !== undefined ? ` ≥ ${opts2.min}` : ''}`);
    return n;
  };

  if (!f.has('Steps') && !f.has('Sampler')) {
    error('', 'this text is not an A1111/Forge infotext: its last line has no "Steps: …, Sampler: …" fields');
    return { issues, infotext: info, needsImage: false };
  }
  for (const [key, why] of Object.entries(NOT_REPRODUCED)) if (f.has(key)) error(key, `"${key}": ${why} has no dpipe equivalent`);
  for (const key of f.keys()) {
    if (READ.has(key) || INFORMATIONAL.has(key) || key in NOT_REPRODUCED) continue;
    warn(key, `"${key}: ${f.get(key)!.value}" is not imported (dpipe has no such setting); check that it does not change the image`);
  }
  for (const [where, p] of [['prompt', info.prompt], ['negative prompt', info.negative]] as const) {
    const lora = /<(lora|lyco|hypernet):[^>]*>/i.exec(p);
    if (lora) error('', `the ${where} loads ${lora[0]}; dpipe has no LoRA / hypernetwork loading`);
    else if (/[()[\]]/.test(p)) warn('', `the ${where} uses A1111's emphasis "(text:1.2)" or brackets; dpipe encodes it as plain text, so the conditioning differs`);
  }
  const clipSkip = num('Clip skip', 1, { integer: true, min: 1 });
  if (clipSkip !== undefined && clipSkip > 1) error('Clip skip', `Clip skip ${clipSkip}: dpipe encodes prompts with the layer the model's pipeline uses and cannot take an earlier layer of an ONNX text encoder`);
  if (f.has('VAE')) warn('VAE', `A1111 used the VAE "${f.get('VAE')!.value}"; the pipeline uses the model folder's VAE`);

  const steps = num('Steps', undefined, { integer: true, min: 1 });
  const cfg = num('CFG scale', 7, { min: 0 });
  const seed = num('Seed', undefined, { integer: true, min: 0 });
  const width = num('Size-1', 512, { integer: true, min: 8 });
  const height = num('Size-2', 512, { integer: true, min: 8 });
  const eta = num('Eta', 1, { min: 0 });
  const names = splitSamplerName(f.get('Sampler')?.value ?? 'DPM++ 2M', f.get('Schedule type')?.value);
  const entry = A1111_SAMPLERS[names.sampler];
  if (!entry) error('Sampler', `sampler "${names.sampler}" is not one of A1111's samplers dpipe knows (${Object.keys(A1111_SAMPLERS).join(', ')})`);
  else if ('unsupported' in entry) error('Sampler', `sampler "${names.sampler}": ${entry.unsupported}`);
  const denoise = f.has('Denoising strength') && !f.has('Hires upscale') && !f.has('Hires steps') ? num('Denoising strength', undefined, { min: 0 }) : undefined;
  const needsImage = denoise !== undefined;
  if (needsImage && !opts.image) error('Denoising strength', `the infotext is from img2img (Denoising strength ${denoise}): the import needs the input image (dpipe import --image FILE)`);
  if (width !== undefined && height !== undefined && (width % 8 || height % 8)) error('Size-1', `Size ${width}x${height} is not a multiple of 8`);
  if (seed !== undefined && seed > Number.MAX_SAFE_INTEGER) error('Seed', `Seed ${seed} is above 2⁵³`);

  const rngValue = f.get('RNG')?.value ?? 'GPU';
  let source: 'cpu' | 'nv' = 'nv';
  if (rngValue === 'CPU') source = 'cpu';
  else if (rngValue === 'GPU') warn('RNG', 'A1111 drew the noise on the GPU (its default; the infotext has no "RNG: CPU" or "RNG: NV"): CUDA\'s generator is not reproducible bit for bit; the pipeline uses A1111\'s NV generator, its CPU imitation of CUDA, which comes within a few float32 ulps');
  else if (rngValue !== 'NV') error('RNG', `RNG "${rngValue}" must be GPU, CPU or NV`);

  if (!steps || !entry || 'unsupported' in entry || issues.some((i) => i.severity === 'error')) return { issues, infotext: info, needsImage };

  const s = entry;
  if (!s.eta && f.has('Eta')) warn('Eta', `Eta ${eta} does not apply to ${names.sampler}`);
  if (s.ends && eta !== 0) {
    error('Eta', `${names.sampler} runs with A1111's Eta ${eta} (its default is 1: stochastic); dpipe's solver.${s.ends === 'fast' ? 'dpm_fast' : 'dpm_adaptive'} is the deterministic (Eta 0) solver`);
    return { issues, infotext: info, needsImage };
  }
  const churn: Churn = { sChurn: num('Sigma churn', 0, { min: 0 })!, sTmin: num('Sigma tmin', 0, { min: 0 })!, sTmax: num('Sigma tmax', 0, { min: 0 })! || 1e30, sNoise: num('Sigma noise', 1, { min: 0 })! };
  if (names.sampler === 'DPM2' && churn.sChurn > 0) return { issues: [...issues, { severity: 'error', message: 'DPM2 with Sigma churn: dpipe\'s solver.dpm_2 has no churn', ...at('Sigma churn') }], infotext: info, needsImage };
  if (s.brownian) warn('Sampler', `${names.sampler}: its per-step noise comes from a Brownian tree (torchsde), which dpipe does not reproduce; the initial noise is the same, the image is not`);

  const b = new DocBuilder();
  const model = b.add('model', 'model.folder', { path: opts.modelPath ?? '' });
  const prompt = b.add('prompt', 'cond.prompt', { text: info.prompt });
  const negative = b.add('negative', 'cond.prompt', { text: info.negative });
  b.wire(`${model}.text`, `${prompt}.text`);
  b.wire(`${model}.text`, `${negative}.text`);
  const guider = b.add('guider', 'guider.cfg', { scale: cfg! });
  b.wire(`${model}.model`, `${guider}.model`);
  b.wire(`${prompt}.conditioning`, `${guider}.positive`);
  b.wire(`${negative}.conditioning`, `${guider}.negative`);

  // KDiffusionSampler.get_sigmas
  const discard = s.discard === true || f.get('Discard penultimate sigma')?.value === 'True';
  const n = steps + (discard ? 1 : 0);
  // "Automatic" is the sampler's own schedule since A1111 1.9; before, it was always the uniform one.
  const version = a1111Version(f.get('Version')?.value);
  const automatic = version && (version[0] > 1 || version[1] >= 9) ? (s.scheduler === 'karras' ? 'Karras' : s.scheduler === 'exponential' ? 'Exponential' : 'Uniform') : 'Uniform';
  if (names.schedule === 'Automatic' && s.scheduler && !version) warn('Sampler', `no "Version" field: the infotext is taken as written by A1111 before 1.9, where ${names.sampler} without a schedule name ran on the uniform schedule (1.9 and later: ${s.scheduler})`);
  const label = names.schedule === 'Automatic' ? automatic : names.schedule;
  const sigmaMin = num('Schedule min sigma', 0, { min: 0 })!;
  const sigmaMax = num('Schedule max sigma', 0, { min: 0 })!;
  const range = { sigmaMin, sigmaMax };
  const lo = sigmaMin || SD_TABLE[0];
  const hi = sigmaMax || SD_TABLE[SD_TABLE.length - 1];
  let sched: string;
  const fromModel = (type: string, params: Record<string, ParamValue>) => {
    const id = b.add('sched', type, params);
    b.wire(`${model}.model`, `${id}.model`);
    return `${id}.sigmas`;
  };
  const op = (from: string, base: string, type: string, params: Record<string, ParamValue> = {}, port = 'sigmas') => {
    const id = b.add(base, type, params);
    b.wire(from, `${id}.sigmas`);
    return `${id}.${port}`;
  };
  if (s.ends) {
    // sample_dpm_fast/adaptive get the model's σ_min and σ_max (and, for fast, the step count).
    sched = fromModel('schedule.exponential', { steps: 2, sigmaMin: 0, sigmaMax: 0, final: 'none' });
  } else {
    switch (label) {
      case 'Uniform':
      case 'Normal':
        sched = fromModel('schedule.normal', { steps: n });
        break;
      case 'Karras':
        sched = fromModel('schedule.karras', { steps: n, ...range, rho: num('Schedule rho', 0, { min: 0 }) || 7, final: 'zero' });
        break;
      case 'Exponential':
        sched = fromModel('schedule.exponential', { steps: n, ...range, final: 'zero' });
        break;
      case 'Polyexponential':
        sched = fromModel('schedule.polyexponential', { steps: n, ...range, rho: num('Schedule rho', 0, { min: 0 }) || 1, final: 'zero' });
        break;
      case 'SGM Uniform':
        sched = fromModel('schedule.sgm_uniform', { steps: n });
        break;
      case 'Simple':
        sched = fromModel('schedule.simple', { steps: n });
        break;
      case 'DDIM':
        sched = fromModel('schedule.ddim_uniform', { steps: n });
        break;
      case 'KL Optimal':
        // n + 1 values from σ_max to σ_min, without a final 0.
        sched = op(fromModel('schedule.kl_optimal', { steps: n + 1, ...range }), 'to_sigma_min', 'schedule.split', { step: n }, 'high');
        break;
      case 'Align Your Steps': {
        const levels = A1111_AYS[opts.family === 'sdxl' ? 'sdxl' : 'sd'];
        if (!opts.family) warn('Schedule type', 'Align Your Steps: A1111 picks the SD 1.5 or SDXL levels by the model; without --model the SD 1.5 levels are used');
        const values = n === levels.length ? levels : [...loglinearInterp(levels, n)];
        sched = `${b.add('sched', 'schedule.explicit', { values: values.map((v) => +v.toPrecision(17)), final: 'zero' })}.sigmas`;
        break;
      }
      case 'Beta': {
        const a = num('Beta schedule alpha', 0.6, { min: 0 })!;
        const bb = num('Beta schedule beta', 0.6, { min: 0 })!;
        const values = Array.from({ length: n }, (_, i) => lo + betaPpf(1 - (n === 1 ? 0 : i / (n - 1)), a, bb) * (hi - lo));
        sched = `${b.add('sched', 'schedule.explicit', { values, final: 'zero' })}.sigmas`;
        warn('Schedule type', `A1111's Beta schedule is spread between σ_min and σ_max of the model; the pipeline lists its values for SD 1.x/2.x/SDXL (σ ${+lo.toPrecision(6)} … ${+hi.toPrecision(6)})`);
        break;
      }
      default:
        return { issues: [...issues, { severity: 'error', message: `Schedule type "${names.schedule}" is not one of A1111's (${A1111_SCHEDULES.join(', ')})`, ...at('Schedule type') }], infotext: info, needsImage };
    }
    if (discard) sched = op(sched, 'discard', 'schedule.discard_penultimate');
  }
  // img2img: of the schedule's steps, the last int(min(strength, 0.999)·steps) + 1.
  if (denoise !== undefined && !s.ends) {
    const tEnc = Math.trunc(Math.min(denoise, 0.999) * steps);
    sched = op(sched, 'strength', 'schedule.last_steps', { steps: tEnc + 1 });
  } else if (denoise !== undefined) {
    return { issues: [...issues, { severity: 'error', message: `img2img with ${names.sampler} is not imported`, ...at('Sampler') }], infotext: info, needsImage };
  }
  const solverSpec = s.solver(eta!, churn);
  const solver = b.add('solver', solverSpec.type, s.ends === 'fast' ? { nfe: steps } : solverSpec.params);

  const vs = num('Variation seed', 0, { integer: true, min: 0 })!;
  const vstr = num('Variation seed strength', 0, { min: 0 })!;
  const rw = num('Seed resize from-1', 0, { integer: true, min: 0 })!;
  const rh = num('Seed resize from-2', 0, { integer: true, min: 0 })!;
  const ensd = num('ENSD', 0, { integer: true, min: 0 })!;
  if ((rw || rh) && (rw % 8 || rh % 8)) warn('Seed resize from-1', `Seed resize from ${rw}x${rh}: the noise is resized in latent pixels (÷ 8)`);
  const noise = b.add('noise', 'noise.torch', {
    seed: seed!, order: 'a1111', source, kernel: 'avx2',
    ...(vstr > 0 ? { variationSeed: vs, variationStrength: Math.min(vstr, 1) } : {}),
    ...(rw > 0 && rh > 0 ? { seedResizeFrom: [Math.round(rh / 8), Math.round(rw / 8)] } : {}),
    ...(ensd > 0 ? { ensd } : {}),
  });
  let latent: string;
  if (needsImage) {
    const image = b.add('image_in', 'image.load', { file: opts.image! });
    const encode = b.add('encode', 'vae.encode', { mode: 'mean' });
    b.wire(`${model}.vae`, `${encode}.vae`);
    b.wire(`${image}.image`, `${encode}.image`);
    latent = `${encode}.latent`;
    warn('Denoising strength', 'img2img: A1111 encodes the image with a draw from the VAE\'s latent distribution (its global generator); dpipe encodes to the distribution\'s mean, so the start latent differs slightly');
  } else {
    latent = `${b.add('latent', 'latent.empty', { batch: 1, channels: 0, height: height! / 8, width: width! / 8 })}.latent`;
    b.wire(`${model}.model`, `${latent.split('.')[0]}.model`);
  }
  const sample = b.add('sample', 'sample', { noiseScale: 'sigma' });
  b.wire(`${guider}.guider`, `${sample}.guider`);
  b.wire(`${solver}.sampler`, `${sample}.sampler`);
  b.wire(sched, `${sample}.sigmas`);
  b.wire(`${noise}.noise`, `${sample}.noise`);
  b.wire(latent, `${sample}.latent`);
  const decode = b.add('decode', 'vae.decode');
  b.wire(`${model}.vae`, `${decode}.vae`);
  b.wire(`${sample}.latent`, `${decode}.latent`);
  const image = b.add('image', 'output.image', { name: 'image' });
  b.wire(`${decode}.image`, `${image}.latent`);

  const model1 = f.get('Model')?.value;
  const doc = b.doc({
    title: `A1111: ${names.sampler}${label !== 'Uniform' ? ` ${label}` : ''}, ${steps} steps, CFG ${cfg}, seed ${seed}`,
    description: `Imported from ${opts.sourceName ?? 'an A1111/Forge infotext'} by dpipe import${model1 ? `; A1111 used the model "${model1}"${f.has('Model hash') ? ` (hash ${f.get('Model hash')!.value})` : ''}, of which the model folder must be the ONNX export` : ''}. Same schedule and sampler, same initial noise (A1111's per-image generators, RNG ${rngValue}), the model called with fractional timesteps as A1111's CompVisDenoiser.`,
    imported: { from: 'a1111', ...(model1 ? { model: model1 } : {}), ...(f.has('Model hash') ? { modelHash: f.get('Model hash')!.value } : {}) },
  });
  if (!opts.modelPath) issues.push({ severity: 'warning', message: `the model folder path is empty: set model.folder's path to the ONNX export of ${model1 ? `"${model1}"` : 'the model'} before running (dpipe import --model DIR, or the folder picker of "Import Pipeline…")` });
  return { doc, issues, infotext: info, needsImage };
}

// ---------------------------------------------------------------------------------------------
// Export: a pipeline as an infotext, verified by importing it back.

export interface InfotextExport {
  readonly text?: string;
  readonly issues: InteropIssue[];
}

function exportFail(doc: PipelineDoc, node: PipelineNode | undefined, message: string): InfotextExport {
  return { issues: [{ severity: 'error', message, nodeId: node?.id, pointer: node ? `/nodes/${doc.nodes.indexOf(node)}` : undefined }] };
}

const fmt = (v: number) => String(+v.toPrecision(12));

/**
 * The infotext A1111 would write for the run this pipeline makes, when A1111 makes the same run: one Sample block
 * with classifier-free guidance on two prompts, a k-diffusion sampler and schedule A1111 has, A1111's noise
 * (noise.torch, order "a1111"), one image from an empty latent. The text is imported back and compared with the
 * pipeline block by block; blocks with no A1111 equivalent are named.
 */
export function exportInfotext(doc: PipelineDoc): InfotextExport {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const src = (to: string) => {
    const from = feeding(doc, to);
    return from ? byId.get(from.split('.')[0]) : undefined;
  };
  const samples = doc.nodes.filter((n) => n.type === 'sample');
  if (samples.length !== 1) return exportFail(doc, samples[1], `an A1111 infotext describes one sampling run; the pipeline has ${samples.length} Sample blocks`);
  const sample = samples[0];
  const guider = src(`${sample.id}.guider`);
  const solver = src(`${sample.id}.sampler`);
  const noise = src(`${sample.id}.noise`);
  const latent = src(`${sample.id}.latent`);
  if (!guider || guider.type !== 'guider.cfg') return exportFail(doc, guider, `${guider?.type ?? 'no guider'}: A1111 guides with classifier-free guidance (guider.cfg)`);
  const g = fullParams(guider);
  const positive = src(`${guider.id}.positive`);
  const negative = src(`${guider.id}.negative`);
  if (positive?.type !== 'cond.prompt') return exportFail(doc, positive ?? guider, 'A1111\'s prompt is a cond.prompt block');
  if (negative && negative.type !== 'cond.prompt') return exportFail(doc, negative, 'A1111\'s negative prompt is a cond.prompt block');
  if (!noise || noise.type !== 'noise.torch' || fullParams(noise).order !== 'a1111') return exportFail(doc, noise, `${noise ? `${noise.type} "${noise.id}"` : 'no noise'}: A1111's noise is noise.torch with order "a1111"`);
  if (!solver) return exportFail(doc, sample, 'the Sample block has no solver');
  if (!latent || latent.type !== 'latent.empty') return exportFail(doc, latent ?? sample, 'the export writes txt2img infotexts: the Sample block starts from latent.empty');
  const lp = fullParams(latent);
  if (!lp.height || !lp.width) return exportFail(doc, latent, 'latent.empty: set its height and width (the infotext\'s Size)');
  if (lp.batch !== 1) return exportFail(doc, latent, `an infotext describes one image; latent.empty has batch ${lp.batch}`);
  const np = fullParams(noise);
  const sp = fullParams(solver);
  const model = doc.nodes.find((n) => n.type === 'model.folder');
  const imported = doc.metadata.imported as { from?: string; model?: string; modelHash?: string } | undefined;
  const modelName = imported?.from === 'a1111' && imported.model ? imported.model : model ? String(model.params.path ?? '').split('/').filter(Boolean).pop() ?? '' : '';

  const fields = (sampler: string, schedule: string, steps: number, extra: Record<string, string>) => {
    const out: Record<string, string> = { Steps: String(steps), Sampler: sampler };
    if (schedule !== 'Automatic') out['Schedule type'] = schedule;
    out['CFG scale'] = fmt(g.scale as number);
    out.Seed = String(np.seed);
    out.Size = `${(lp.width as number) * 8}x${(lp.height as number) * 8}`;
    if (imported?.modelHash) out['Model hash'] = imported.modelHash;
    if (modelName) out.Model = modelName;
    if ((np.variationStrength as number) > 0) {
      out['Variation seed'] = String(np.variationSeed);
      out['Variation seed strength'] = fmt(np.variationStrength as number);
    }
    const resize = np.seedResizeFrom as number[];
    if (resize.length === 2) out['Seed resize from'] = `${resize[1] * 8}x${resize[0] * 8}`;
    Object.assign(out, extra);
    if ((np.ensd as number) > 0) out.ENSD = String(np.ensd);
    if (np.source === 'cpu') out.RNG = 'CPU';
    else out.RNG = 'NV';
    out.Version = 'v1.10.1';
    const q = (v: string) => (/[,:"\n]/.test(v) ? JSON.stringify(v) : v);
    const lines = [String(positive.params.text ?? '')];
    if (negative && String(negative.params.text ?? '') !== '') lines.push(`Negative prompt: ${String(negative.params.text)}`);
    lines.push(Object.entries(out).map(([k, v]) => `${k}: ${q(v)}`).join(', '));
    return lines.join('\n');
  };

  // The candidates: each A1111 sampler with the solver's η / churn, each schedule label, with the step count the
  // chain has; the first whose import computes the same blocks wins.
  const roots = [sample.id, ...doc.nodes.filter((n) => n.type === 'vae.decode').map((n) => n.id)];
  const modelPath = typeof model?.params.path === 'string' ? model.params.path : '';
  const eta = typeof sp.eta === 'number' ? sp.eta : 1;
  const extras: Record<string, string> = {};
  if (eta !== 1) extras.Eta = fmt(eta);
  if (solver.type === 'solver.euler' || solver.type === 'solver.heun') {
    if (sp.sChurn) extras['Sigma churn'] = fmt(sp.sChurn as number);
    if (sp.sTmin) extras['Sigma tmin'] = fmt(sp.sTmin as number);
    if ((sp.sTmax as number) < 1e30) extras['Sigma tmax'] = fmt(sp.sTmax as number);
    if (sp.sNoise !== 1) extras['Sigma noise'] = fmt(sp.sNoise as number);
  }
  const gen = (() => {
    let at = feeding(doc, `${sample.id}.sigmas`);
    let last: PipelineNode | undefined;
    while (at) {
      last = byId.get(at.split('.')[0]);
      at = last?.type.startsWith('schedule.') ? feeding(doc, `${last.id}.sigmas`) : undefined;
    }
    return last;
  })();
  const gp = gen ? fullParams(gen) : {};
  if (typeof gp.sigmaMin === 'number' && gp.sigmaMin > 0 && gen?.type !== 'schedule.explicit') extras['Schedule min sigma'] = fmt(gp.sigmaMin);
  if (typeof gp.sigmaMax === 'number' && gp.sigmaMax > 0) extras['Schedule max sigma'] = fmt(gp.sigmaMax);
  if (gen?.type === 'schedule.karras' && gp.rho !== 7) extras['Schedule rho'] = fmt(gp.rho as number);
  if (gen?.type === 'schedule.polyexponential' && gp.rho !== 1) extras['Schedule rho'] = fmt(gp.rho as number);
  const stepsOf = (n: number) => [n, n - 1, n - 2];
  const genSteps = typeof gp.steps === 'number' ? gp.steps : Array.isArray(gp.values) ? (gp.values as number[]).length : 0;
  const nfe = typeof sp.nfe === 'number' ? sp.nfe : 0;
  const family = undefined;
  let firstDiff: { node: PipelineNode; closest?: PipelineNode }[] | undefined;
  for (const [name, entry] of Object.entries(A1111_SAMPLERS)) {
    if ('unsupported' in entry) continue;
    const probe = entry.solver(eta, { sChurn: 0, sTmin: 0, sTmax: 1e30, sNoise: 1 });
    if (probe.type !== solver.type) continue;
    for (const schedule of A1111_SCHEDULES) {
      for (const steps of entry.ends === 'fast' ? [nfe] : entry.ends ? [10] : stepsOf(genSteps)) {
        if (steps < 1) continue;
        for (const discard of [false, true]) {
          const extra = discard && !entry.discard ? { ...extras, 'Discard penultimate sigma': 'True' } : extras;
          const text = fields(name, schedule, steps, extra);
          const back = importInfotext(text, { modelPath, family });
          if (!back.doc) continue;
          const diffs = differences(doc, roots, back.doc);
          if (!diffs.length) {
            const issues: InteropIssue[] = [];
            if (np.source !== 'cpu') issues.push({ severity: 'warning', message: `noise.torch "${noise.id}" draws from A1111's NV generator: the infotext says "RNG: NV" (A1111's setting "Random number generator source: NV")`, nodeId: noise.id });
            return { text, issues };
          }
          if (!firstDiff || diffs.length < firstDiff.length) firstDiff = diffs;
        }
        if (entry.ends) break;
      }
      if (entry.ends) break;
    }
  }
  if (!firstDiff) return exportFail(doc, solver, `${solver.type} "${solver.id}": no A1111 sampler runs this solver with these options`);
  return {
    issues: firstDiff.map((d) => {
      const diff = paramDiff(d.node, d.closest);
      return { severity: 'error' as const, message: `${d.node.type} "${d.node.id}" has no A1111 equivalent${diff ? `: ${diff}` : ''}`, nodeId: d.node.id, pointer: `/nodes/${doc.nodes.indexOf(d.node)}` };
    }),
  };
}
