/**
 * A ComfyUI graph (API prompt or UI workflow, `comfyGraph.ts`) as a dpipe pipeline.
 *
 * Translated: the samplers KSampler, KSamplerAdvanced, SamplerCustom and SamplerCustomAdvanced; the SIGMAS nodes
 * BasicScheduler, KarrasScheduler, ExponentialScheduler, PolyexponentialScheduler, VPScheduler,
 * AlignYourStepsScheduler, BetaSamplingScheduler, SplitSigmas, FlipSigmas, SetFirstSigma and ManualSigmas;
 * KSamplerSelect and the Sampler* nodes; CFGGuider and BasicGuider; RandomNoise and DisableNoise; EmptyLatentImage;
 * CLIPTextEncode; VAEDecode / VAEEncode / LoadImage; SaveImage / PreviewImage; and the model loaders, which all become
 * one `model.folder` block whose path the user gives (ComfyUI loads .safetensors checkpoints, dpipe runs ONNX model
 * folders). Each sampler and scheduler name maps through `comfyNames.ts`; anything else ComfyUI computes that dpipe
 * does not reproduce is an error naming it, located at its JSON pointer, and nothing is written.
 *
 * What makes the run the same as ComfyUI's, besides the names:
 * - the model gets ComfyUI's nearest training timestep (ModelSamplingDiscrete.timestep is an argmin over log σ:
 *   model.folder roundTimesteps);
 * - the initial noise is ComfyUI's (noise.torch, order "comfyui": torch.randn of the batch on the CPU), scaled by
 *   √(1 + σ₀²) when the schedule starts at the model's σ_max ("max_denoise", Sample noiseScale "vp") and by σ₀
 *   otherwise; per-step noise of ancestral samplers comes from ComfyUI's second generator (seed + 1 on a CPU run);
 * - the σ values are ComfyUI's: every schedule is built from blocks that compute ComfyUI's formulas (verified
 *   against tools/interop/comfy_sigmas.py), including KSampler's quirks — the extra step and dropped next-to-last σ
 *   of dpm_2/uni_pc, the longer schedule cut to its tail for denoise < 1, KSamplerAdvanced's start/end steps and
 *   forced final 0, uni_pc's stop at σ = 0.001, FlipSigmas' 0.0001.
 * The import assumes a Stable Diffusion 1.x / 2.x / SDXL model (ComfyUI's ModelSamplingDiscrete with the 0.00085 …
 * 0.012 β schedule): that is where it decides from the σ values whether a run starts at σ_max.
 */
import { makeModelSchedule, discreteSigmas, DEFAULT_DISCRETE, roundHalfEven } from '../model/schedule';
import type { PipelineDoc } from '../format/types';
import type { ParamValue } from '../registry/types';
import { DocBuilder, evaluateSigmas, type BlockSpec } from './doc';
import { COMFY_SAMPLERS, COMFY_SCHEDULERS, isSupported, type ComfySampler } from './comfyNames';
import type { ComfyGraph, ComfyInput, ComfyNode } from './comfyGraph';
import type { InteropIssue } from './issues';

export interface ComfyImportOptions {
  /** The model folder as the pipeline names it (relative to the .dpipe file); '' leaves it to the user. */
  readonly modelPath?: string;
  /** The model folder's kind when known: ComfyUI import reproduces discrete (SD 1.x/2.x/SDXL) models only. */
  readonly modelKind?: 'discrete' | 'flow';
  /** LoadImage: the image file image.load reads (relative to the .dpipe file), instead of the name in ComfyUI's input folder. */
  readonly image?: string;
  /** Shown in the pipeline's description ("workflow.json"). */
  readonly sourceName?: string;
}

export interface ComfyImportResult {
  readonly doc?: PipelineDoc;
  readonly issues: InteropIssue[];
  /** Checkpoint (or diffusion model) names the workflow loads: what the user's model folder stands for. */
  readonly checkpoints: string[];
  /** Image names LoadImage reads. */
  readonly images: string[];
}

/** ComfyUI's SD 1.x/2.x/SDXL noise levels (ModelSamplingDiscrete, 1000 steps, β 0.00085 … 0.012). */
const SD_MODEL = makeModelSchedule({ kind: 'discrete', discreteSigmas: discreteSigmas(DEFAULT_DISCRETE) });

const OUTPUT_TYPES: Readonly<Record<string, readonly string[]>> = {
  CheckpointLoaderSimple: ['MODEL', 'CLIP', 'VAE'],
  CheckpointLoader: ['MODEL', 'CLIP', 'VAE'],
  UNETLoader: ['MODEL'],
  CLIPLoader: ['CLIP'],
  DualCLIPLoader: ['CLIP'],
  TripleCLIPLoader: ['CLIP'],
  VAELoader: ['VAE'],
  CLIPSetLastLayer: ['CLIP'],
};

const SAMPLER_NODES = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);

/** KSamplerAdvanced's start_at_step, end_at_step and return_with_leftover_noise. */
interface Cut {
  readonly start: number;
  readonly end: number;
  readonly leftover: boolean;
}

/** A sampler as the SAMPLER input (or KSampler's sampler_name) describes it. */
interface SamplerUse {
  readonly name: string;
  readonly spec: ComfySampler;
}

class Translator {
  readonly b = new DocBuilder();
  readonly issues: InteropIssue[] = [];
  readonly checkpoints: string[] = [];
  readonly images: string[] = [];
  private modelId?: string;
  private readonly memo = new Map<string, string | undefined>();
  private readonly samplerMemo = new Map<string, SamplerUse | undefined>();
  /** Settings of the last sampler translated, for the title. */
  summary: { sampler?: string; scheduler?: string; steps?: number; cfg?: number; seed?: string } = {};

  constructor(readonly graph: ComfyGraph, readonly opts: ComfyImportOptions) {}

  error(message: string, pointer?: string): undefined {
    this.issues.push({ severity: 'error', message, pointer });
    return undefined;
  }

  warn(message: string, pointer?: string): void {
    if (!this.issues.some((i) => i.message === message)) this.issues.push({ severity: 'warning', message, pointer });
  }

  name(n: ComfyNode): string {
    return `${n.classType} (node ${n.id}${n.title && n.title !== n.classType ? `, "${n.title}"` : ''})`;
  }

  classPointer(n: ComfyNode): string {
    return `${n.pointer}/${this.graph.format === 'api' ? 'class_type' : 'type'}`;
  }

  unsupported(n: ComfyNode, why = 'dpipe has no block for it'): undefined {
    return this.error(`${this.name(n)}: ${why}`, this.classPointer(n));
  }

  // ---------------------------------------------------------------- inputs

  input(n: ComfyNode, key: string): ComfyInput | undefined {
    const v = n.inputs[key];
    if (!v) this.error(`${this.name(n)}: input "${key}" is missing`, n.pointer);
    return v;
  }

  num(n: ComfyNode, key: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.input(n, key);
    if (!v) return undefined;
    if (v.kind !== 'value' || typeof v.value !== 'number' || !Number.isFinite(v.value) || (opts.integer && !Number.isInteger(v.value))) {
      return this.error(`${this.name(n)}: "${key}" must be ${opts.integer ? 'an integer' : 'a number'}${v.kind === 'link' ? ' written on the node (dpipe does not import values computed by other nodes)' : `; got ${JSON.stringify(v.value)}`}`, v.pointer);
    }
    if ((opts.min !== undefined && v.value < opts.min) || (opts.max !== undefined && v.value > opts.max)) {
      return this.error(`${this.name(n)}: "${key}" ${v.value} is outside ${opts.min ?? '−∞'} … ${opts.max ?? '∞'}`, v.pointer);
    }
    return v.value;
  }

  str(n: ComfyNode, key: string): string | undefined {
    const v = this.input(n, key);
    if (!v) return undefined;
    if (v.kind !== 'value' || typeof v.value !== 'string') {
      return this.error(`${this.name(n)}: "${key}" must be text written on the node${v.kind === 'link' ? ' (dpipe does not import text computed by other nodes)' : `; got ${JSON.stringify(v.value)}`}`, v.pointer);
    }
    return v.value;
  }

  bool(n: ComfyNode, key: string, yes: string | boolean = true, no: string | boolean = false): boolean | undefined {
    const v = this.input(n, key);
    if (!v) return undefined;
    if (v.kind === 'value' && (v.value === yes || v.value === true)) return true;
    if (v.kind === 'value' && (v.value === no || v.value === false)) return false;
    return this.error(`${this.name(n)}: "${key}" must be ${JSON.stringify(yes)} or ${JSON.stringify(no)}; got ${JSON.stringify(v.kind === 'value' ? v.value : 'a link')}`, v.pointer);
  }

  /** A seed as noise.torch takes it: torch's CPU generator keeps seed mod 2³² (and larger seeds lose digits in JSON). */
  seed(n: ComfyNode, key: string): number | undefined {
    const v = this.input(n, key);
    if (!v) return undefined;
    if (v.kind !== 'value' || typeof v.value !== 'number' || v.value < 0) return this.error(`${this.name(n)}: "${key}" must be a seed (an integer ≥ 0) written on the node`, v.pointer);
    const exact = v.raw !== undefined && /^\d+$/.test(v.raw) ? BigInt(v.raw) : Number.isSafeInteger(v.value) ? BigInt(v.value) : undefined;
    if (exact === undefined) return this.error(`${this.name(n)}: seed ${v.raw ?? v.value} is not an integer`, v.pointer);
    if (exact > BigInt('18446744073709551615')) return this.error(`${this.name(n)}: seed ${exact} is above 2⁶⁴ − 1, ComfyUI's largest`, v.pointer);
    if (exact <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(exact);
    const reduced = Number(exact % BigInt(2 ** 32));
    this.warn(`${this.name(n)}: seed ${exact} is above 2⁵³; torch's CPU generator uses seed mod 2³² = ${reduced}, which the pipeline writes (the same noise)`, v.pointer);
    return reduced;
  }

  source(n: ComfyNode, key: string): ComfyNode | undefined {
    const v = this.input(n, key);
    if (!v) return undefined;
    if (v.kind !== 'link') return this.error(`${this.name(n)}: "${key}" must be connected`, v.pointer);
    const src = this.graph.nodes.get(v.node);
    if (!src) return this.error(`${this.name(n)}: "${key}" comes from node ${v.node}, which is not in the graph (muted or missing)`, v.pointer);
    return src;
  }

  slot(n: ComfyNode, key: string): number {
    const v = n.inputs[key];
    return v?.kind === 'link' ? v.slot : 0;
  }

  // ---------------------------------------------------------------- model, text, VAE

  model(): string {
    if (!this.modelId) {
      this.modelId = this.b.add('model', 'model.folder', { path: this.opts.modelPath ?? '', roundTimesteps: true });
    }
    return this.modelId;
  }

  /** MODEL, CLIP or VAE output of a loader → the model folder's port. */
  loader(n: ComfyNode | undefined, slot: number, want: 'MODEL' | 'CLIP' | 'VAE'): string | undefined {
    if (!n) return undefined;
    const types = OUTPUT_TYPES[n.classType];
    if (!types) return this.unsupported(n, `dpipe has no block for it (a ${want} input can come from a checkpoint loader only)`);
    if (types[slot] !== want) return this.error(`${this.name(n)}: output ${slot} is not a ${want}`, n.pointer);
    const port = { MODEL: 'model', CLIP: 'text', VAE: 'vae' }[want];
    switch (n.classType) {
      case 'CheckpointLoaderSimple':
      case 'CheckpointLoader': {
        const ckpt = this.str(n, 'ckpt_name');
        if (ckpt !== undefined && !this.checkpoints.includes(ckpt)) {
          if (this.checkpoints.length) return this.error(`${this.name(n)}: a second checkpoint "${ckpt}" (after "${this.checkpoints[0]}"); dpipe imports workflows with one model`, n.inputs.ckpt_name?.pointer);
          this.checkpoints.push(ckpt);
        }
        return `${this.model()}.${port}`;
      }
      case 'UNETLoader':
      case 'CLIPLoader':
      case 'DualCLIPLoader':
      case 'TripleCLIPLoader':
      case 'VAELoader': {
        const key = { UNETLoader: 'unet_name', CLIPLoader: 'clip_name', DualCLIPLoader: 'clip_name1', TripleCLIPLoader: 'clip_name1', VAELoader: 'vae_name' }[n.classType]!;
        const file = this.str(n, key);
        this.warn(`${this.name(n)} loads "${file}" separately; the pipeline uses the ${{ MODEL: 'denoiser', CLIP: 'text encoders', VAE: 'VAE' }[want]} of the model folder, which must be the same weights for the same image`, n.pointer);
        if (n.classType === 'UNETLoader' && file !== undefined && !this.checkpoints.includes(file)) this.checkpoints.push(file);
        return `${this.model()}.${port}`;
      }
      case 'CLIPSetLastLayer': {
        const layer = this.num(n, 'stop_at_clip_layer', { integer: true });
        if (layer === undefined) return undefined;
        if (layer !== -1) return this.error(`${this.name(n)}: stop_at_clip_layer ${layer} (CLIP skip ${-layer - 1}); dpipe encodes prompts with the layer the model's pipeline uses and cannot take an earlier layer of an ONNX text encoder`, n.inputs.stop_at_clip_layer?.pointer);
        return this.loader(this.source(n, 'clip'), this.slot(n, 'clip'), 'CLIP');
      }
    }
    return undefined;
  }

  conditioning(n: ComfyNode | undefined, base: string): string | undefined {
    if (!n) return undefined;
    const key = `cond:${n.id}`;
    if (this.memo.has(key)) return this.memo.get(key);
    let out: string | undefined;
    if (n.classType === 'CLIPTextEncode') {
      const text = this.str(n, 'text');
      const clip = this.loader(this.source(n, 'clip'), this.slot(n, 'clip'), 'CLIP');
      if (text !== undefined && clip) {
        const id = this.b.add(base, 'cond.prompt', { text });
        this.b.wire(clip, `${id}.text`);
        out = `${id}.conditioning`;
        if (/[()[\]]|embedding:/.test(text)) this.warn(`${this.name(n)}: the prompt uses ComfyUI's emphasis "(text:1.2)", brackets or embeddings; dpipe encodes it as plain text, so the conditioning differs`, n.inputs.text?.pointer);
      }
    } else {
      out = this.unsupported(n, 'dpipe has no block for it (conditioning must come from CLIPTextEncode)');
    }
    this.memo.set(key, out);
    return out;
  }

  // ---------------------------------------------------------------- latents and images

  latent(n: ComfyNode | undefined, slot: number): string | undefined {
    if (!n) return undefined;
    const key = `latent:${n.id}:${slot}`;
    if (this.memo.has(key)) return this.memo.get(key);
    let out: string | undefined;
    switch (n.classType) {
      case 'EmptyLatentImage':
      case 'EmptySD3LatentImage': {
        const width = this.num(n, 'width', { integer: true, min: 8 });
        const height = this.num(n, 'height', { integer: true, min: 8 });
        const batch = this.num(n, 'batch_size', { integer: true, min: 1, max: 4096 });
        if (width === undefined || height === undefined || batch === undefined) break;
        if (width % 8 || height % 8) {
          out = this.error(`${this.name(n)}: ${width}×${height} is not a multiple of 8`, n.pointer);
          break;
        }
        const id = this.b.add('latent', 'latent.empty', { batch, channels: 0, height: height / 8, width: width / 8 });
        this.b.wire(`${this.model()}.model`, `${id}.model`);
        out = `${id}.latent`;
        break;
      }
      case 'VAEEncode': {
        const image = this.image(this.source(n, 'pixels'), this.slot(n, 'pixels'));
        const vae = this.loader(this.source(n, 'vae'), this.slot(n, 'vae'), 'VAE');
        if (!image || !vae) break;
        const id = this.b.add('encode', 'vae.encode', { mode: 'mean' });
        this.b.wire(vae, `${id}.vae`);
        this.b.wire(image, `${id}.image`);
        this.warn(`${this.name(n)}: dpipe encodes the image to the mean of the VAE's latent distribution; check that it matches what your ComfyUI version takes`, n.pointer);
        out = `${id}.latent`;
        break;
      }
      default:
        if (SAMPLER_NODES.has(n.classType)) {
          const sample = this.sampler(n);
          out = sample ? `${sample}.${slot === 1 ? 'denoised' : 'latent'}` : undefined;
        } else {
          out = this.unsupported(n, 'dpipe has no block for it (a latent must come from EmptyLatentImage, VAEEncode or a sampler)');
        }
    }
    this.memo.set(key, out);
    return out;
  }

  image(n: ComfyNode | undefined, slot: number): string | undefined {
    if (!n) return undefined;
    const key = `image:${n.id}:${slot}`;
    if (this.memo.has(key)) return this.memo.get(key);
    let out: string | undefined;
    if (n.classType === 'VAEDecode') {
      const latent = this.latent(this.source(n, 'samples'), this.slot(n, 'samples'));
      const vae = this.loader(this.source(n, 'vae'), this.slot(n, 'vae'), 'VAE');
      if (latent && vae) {
        const id = this.b.add('decode', 'vae.decode');
        this.b.wire(vae, `${id}.vae`);
        this.b.wire(latent, `${id}.latent`);
        out = `${id}.image`;
      }
    } else if (n.classType === 'LoadImage' && slot === 0) {
      const name = this.str(n, 'image');
      if (name !== undefined) {
        this.images.push(name);
        const file = this.opts.image ?? name;
        if (!this.opts.image) this.warn(`${this.name(n)} reads "${name}" from ComfyUI's input folder; the pipeline reads ${file} beside the .dpipe file (copy the image there or change the path)`, n.inputs.image?.pointer);
        const id = this.b.add('image_in', 'image.load', { file });
        out = `${id}.image`;
      }
    } else {
      out = this.unsupported(n, 'dpipe has no block for it (an image must come from VAEDecode or LoadImage)');
    }
    this.memo.set(key, out);
    return out;
  }

  // ---------------------------------------------------------------- samplers (SAMPLER inputs)

  samplerName(name: string, pointer: string): SamplerUse | undefined {
    const entry = COMFY_SAMPLERS[name];
    if (!entry) return this.error(`sampler "${name}" is not one of ComfyUI's samplers (a custom node's sampler?); dpipe has no block for it`, pointer);
    if (!isSupported(entry)) return this.error(`sampler "${name}": ${entry.unsupported}`, pointer);
    return { name, spec: entry };
  }

  samplerNode(n: ComfyNode | undefined): SamplerUse | undefined {
    if (!n) return undefined;
    if (this.samplerMemo.has(n.id)) return this.samplerMemo.get(n.id);
    const use = this.samplerNodeUncached(n);
    this.samplerMemo.set(n.id, use);
    return use;
  }

  private samplerNodeUncached(n: ComfyNode): SamplerUse | undefined {
    const spec = (solver: BlockSpec, extra: Partial<ComfySampler> = {}): SamplerUse => ({ name: n.classType, spec: { solver: () => solver, ...extra } });
    const device = (key = 'noise_device'): 'cpu' | 'gpu' | undefined => {
      const d = this.str(n, key);
      return d === 'cpu' || d === 'gpu' ? d : (this.error(`${this.name(n)}: noise_device must be "gpu" or "cpu"`, n.inputs[key]?.pointer) as undefined);
    };
    switch (n.classType) {
      case 'KSamplerSelect': {
        const name = this.str(n, 'sampler_name');
        return name === undefined ? undefined : this.samplerName(name, n.inputs.sampler_name.pointer);
      }
      case 'SamplerEulerAncestral': {
        const eta = this.num(n, 'eta', { min: 0 });
        const sNoise = this.num(n, 's_noise', { min: 0 });
        if (eta === undefined || sNoise === undefined) return undefined;
        return spec({ type: 'solver.euler_ancestral', params: { preset: 'k-diffusion', eta, sNoise } }, { stochastic: true });
      }
      case 'SamplerLMS': {
        const order = this.num(n, 'order', { integer: true, min: 1 });
        if (order === undefined) return undefined;
        if (order > 6) return this.error(`${this.name(n)}: order ${order}; dpipe's solver.lms goes up to order 6`, n.inputs.order.pointer);
        return spec({ type: 'solver.lms', params: { preset: 'k-diffusion', order } });
      }
      case 'SamplerDPMPP_2S_Ancestral': {
        const eta = this.num(n, 'eta', { min: 0, max: 10 });
        const sNoise = this.num(n, 's_noise', { min: 0, max: 2 });
        if (eta === undefined || sNoise === undefined) return undefined;
        return spec({ type: 'solver.dpmpp_2s_ancestral', params: { eta, sNoise } }, { stochastic: true });
      }
      case 'SamplerDPMPP_SDE': {
        const eta = this.num(n, 'eta', { min: 0, max: 10 });
        const sNoise = this.num(n, 's_noise', { min: 0, max: 2 });
        const r = this.num(n, 'r', { min: 0.01, max: 1 });
        const dev = device();
        if (eta === undefined || sNoise === undefined || r === undefined || !dev) return undefined;
        return spec({ type: 'solver.dpmpp_sde', params: { eta, sNoise, r } }, { brownian: dev });
      }
      case 'SamplerDPMPP_2M_SDE': {
        const solverType = this.str(n, 'solver_type');
        const eta = this.num(n, 'eta', { min: 0, max: 10 });
        const sNoise = this.num(n, 's_noise', { min: 0, max: 2 });
        const dev = device();
        if (solverType !== 'midpoint' && solverType !== 'heun') return this.error(`${this.name(n)}: solver_type must be "midpoint" or "heun"`, n.inputs.solver_type?.pointer);
        if (eta === undefined || sNoise === undefined || !dev) return undefined;
        return spec({ type: 'solver.dpmpp_2m_sde', params: { eta, sNoise, solverType, lowerOrderFinal: 'off' } }, { brownian: dev });
      }
      case 'SamplerDPMPP_3M_SDE': {
        const eta = this.num(n, 'eta', { min: 0, max: 10 });
        const sNoise = this.num(n, 's_noise', { min: 0, max: 2 });
        const dev = device();
        if (eta === undefined || sNoise === undefined || !dev) return undefined;
        return spec({ type: 'solver.dpmpp_3m_sde', params: { eta, sNoise } }, { brownian: dev });
      }
      case 'SamplerDPMAdaptative': {
        const v = Object.fromEntries(['order', 'rtol', 'atol', 'h_init', 'pcoeff', 'icoeff', 'dcoeff', 'accept_safety', 'eta', 's_noise'].map((k) => [k, this.num(n, k, { min: 0 })]));
        if (Object.values(v).some((x) => x === undefined)) return undefined;
        if (v.pcoeff !== 0 || v.icoeff !== 1 || v.dcoeff !== 0) return this.error(`${this.name(n)}: PID coefficients ${v.pcoeff}/${v.icoeff}/${v.dcoeff}; dpipe's solver.dpm_adaptive has k-diffusion's default controller (0/1/0) only`, n.pointer);
        if (v.eta !== 0) return this.error(`${this.name(n)}: eta ${v.eta}; dpipe's solver.dpm_adaptive is the deterministic (η = 0) solver`, n.inputs.eta?.pointer);
        if (v.order !== 2 && v.order !== 3) return this.error(`${this.name(n)}: order must be 2 or 3`, n.inputs.order?.pointer);
        return spec({ type: 'solver.dpm_adaptive', params: { order: v.order!, rtol: v.rtol!, atol: v.atol!, hInit: v.h_init!, acceptSafety: v.accept_safety! } }, { ends: 'adaptive' });
      }
      case 'SamplerER_SDE': {
        const type = this.str(n, 'solver_type');
        const order = this.num(n, 'max_stage', { integer: true, min: 1, max: 3 });
        const eta = this.num(n, 'eta', { min: 0 });
        const sNoise = this.num(n, 's_noise', { min: 0, max: 2 });
        if (type === undefined || order === undefined || eta === undefined || sNoise === undefined) return undefined;
        let noiseScale: string;
        let s = sNoise;
        if (type === 'ER-SDE') noiseScale = 'sde5';
        else if (type === 'ODE' || (type === 'Reverse-time SDE' && eta === 0)) [noiseScale, s] = ['ode', 0];
        else if (type === 'Reverse-time SDE' && eta === 1) noiseScale = 'sde';
        else return this.error(`${this.name(n)}: "${type}" with eta ${eta} (noise scale σ^${eta + 1}); dpipe's solver.er_sde has σ (ODE), σ² (reverse-time SDE, eta 1) and the ER-SDE scale`, n.inputs.eta?.pointer ?? n.pointer);
        return spec({ type: 'solver.er_sde', params: { order, noiseScale, integrationPoints: 200, sNoise: s } }, { stochastic: s > 0 });
      }
      default:
        return this.unsupported(n, 'dpipe has no block for this sampler node');
    }
  }

  // ---------------------------------------------------------------- σ schedules (SIGMAS inputs)

  /** A scheduler of ComfyUI's list over `steps` steps, fed by the model. */
  schedulerBlock(name: string, steps: number, pointer: string): string | undefined {
    const make = COMFY_SCHEDULERS[name];
    if (!make) return this.error(`scheduler "${name}" is not one of ComfyUI's schedulers (${Object.keys(COMFY_SCHEDULERS).join(', ')}); dpipe has no block for it`, pointer);
    const spec = make(steps);
    const id = this.b.add('sched', spec.type, spec.params);
    this.b.wire(`${this.model()}.model`, `${id}.model`);
    return `${id}.sigmas`;
  }

  op(from: string, base: string, type: string, params: Record<string, ParamValue> = {}, port = 'sigmas'): string {
    const id = this.b.add(base, type, params);
    this.b.wire(from, `${id}.sigmas`);
    return `${id}.${port}`;
  }

  sigmas(n: ComfyNode | undefined, slot: number): string | undefined {
    if (!n) return undefined;
    const key = `sigmas:${n.id}:${slot}`;
    if (this.memo.has(key)) return this.memo.get(key);
    const out = this.sigmasUncached(n, slot);
    this.memo.set(key, out);
    return out;
  }

  private sigmasUncached(n: ComfyNode, slot: number): string | undefined {
    const steps = () => this.num(n, 'steps', { integer: true, min: 1, max: 10000 });
    const range = (): [number, number] | undefined => {
      const hi = this.num(n, 'sigma_max');
      const lo = this.num(n, 'sigma_min');
      if (hi === undefined || lo === undefined) return undefined;
      if (!(lo > 0 && hi > lo)) return this.error(`${this.name(n)}: dpipe needs 0 < sigma_min < sigma_max (a 0 there means "the model's"); got ${lo}, ${hi}`, n.pointer) as undefined;
      return [lo, hi];
    };
    switch (n.classType) {
      case 'BasicScheduler': {
        const name = this.str(n, 'scheduler');
        const s = steps();
        const denoise = this.num(n, 'denoise', { min: 0, max: 1 });
        if (this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL') === undefined || name === undefined || s === undefined || denoise === undefined) return undefined;
        if (denoise <= 0) return this.error(`${this.name(n)}: denoise 0 gives an empty schedule`, n.inputs.denoise.pointer);
        const total = denoise < 1 ? Math.trunc(s / denoise) : s;
        this.summary.scheduler ??= name;
        this.summary.steps ??= s;
        const chain = this.schedulerBlock(name, total, n.inputs.scheduler.pointer);
        return chain && total > s ? this.op(chain, 'denoise', 'schedule.last_steps', { steps: s }) : chain;
      }
      case 'KarrasScheduler':
      case 'PolyexponentialScheduler': {
        const s = steps();
        const r = range();
        const rho = this.num(n, 'rho');
        if (s === undefined || !r || rho === undefined) return undefined;
        if (!(rho > 0)) return this.error(`${this.name(n)}: rho must be > 0`, n.inputs.rho.pointer);
        const type = n.classType === 'KarrasScheduler' ? 'schedule.karras' : 'schedule.polyexponential';
        return `${this.b.add('sched', type, { steps: s, sigmaMin: r[0], sigmaMax: r[1], rho, final: 'zero' })}.sigmas`;
      }
      case 'ExponentialScheduler': {
        const s = steps();
        const r = range();
        if (s === undefined || !r) return undefined;
        return `${this.b.add('sched', 'schedule.exponential', { steps: s, sigmaMin: r[0], sigmaMax: r[1], final: 'zero' })}.sigmas`;
      }
      case 'VPScheduler': {
        const s = steps();
        const betaD = this.num(n, 'beta_d', { min: 0 });
        const betaMin = this.num(n, 'beta_min', { min: 0 });
        const epsS = this.num(n, 'eps_s', { min: 0, max: 1 });
        if (s === undefined || betaD === undefined || betaMin === undefined || epsS === undefined) return undefined;
        return `${this.b.add('sched', 'schedule.vp', { steps: s, betaD, betaMin, epsS, final: 'zero' })}.sigmas`;
      }
      case 'AlignYourStepsScheduler': {
        const model = this.str(n, 'model_type');
        const s = steps();
        const denoise = this.num(n, 'denoise', { min: 0, max: 1 });
        if (model === undefined || s === undefined || denoise === undefined) return undefined;
        if (!['SD1', 'SDXL', 'SVD'].includes(model)) return this.error(`${this.name(n)}: model_type "${model}" must be SD1, SDXL or SVD`, n.inputs.model_type.pointer);
        if (s > 1000) return this.error(`${this.name(n)}: dpipe's schedule.ays takes up to 1000 steps`, n.inputs.steps.pointer);
        const id = this.b.add('sched', 'schedule.ays', { steps: s, model, end: 'zero' });
        if (denoise >= 1) return `${id}.sigmas`;
        const total = roundHalfEven(s * denoise);
        if (total < 1) return this.error(`${this.name(n)}: denoise ${denoise} of ${s} steps leaves no step`, n.inputs.denoise.pointer);
        return this.op(`${id}.sigmas`, 'denoise', 'schedule.last_steps', { steps: total });
      }
      case 'BetaSamplingScheduler': {
        const s = steps();
        const alpha = this.num(n, 'alpha');
        const beta = this.num(n, 'beta');
        if (this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL') === undefined || s === undefined || alpha === undefined || beta === undefined) return undefined;
        if (!(alpha > 0 && beta > 0)) return this.error(`${this.name(n)}: alpha and beta must be > 0`, n.pointer);
        const id = this.b.add('sched', 'schedule.beta', { steps: s, alpha, beta });
        this.b.wire(`${this.model()}.model`, `${id}.model`);
        return `${id}.sigmas`;
      }
      case 'ManualSigmas': {
        const text = this.str(n, 'sigmas');
        if (text === undefined) return undefined;
        const values = (text.match(/[-+]?(?:\d*\.*\d+)/g) ?? []).map(Number);
        if (!values.length || values.some((v) => !(v >= 0))) return this.error(`${this.name(n)}: "${text}" must list σ values ≥ 0`, n.inputs.sigmas.pointer);
        return `${this.b.add('sched', 'schedule.explicit', { values, final: 'none' })}.sigmas`;
      }
      case 'SplitSigmas': {
        const from = this.sigmas(this.source(n, 'sigmas'), this.slot(n, 'sigmas'));
        const step = this.num(n, 'step', { integer: true, min: 0 });
        if (!from || step === undefined) return undefined;
        const key = `split:${n.id}`;
        let id = this.memo.get(key);
        if (!id) {
          id = this.b.add('split', 'schedule.split', { step });
          this.b.wire(from, `${id}.sigmas`);
          this.memo.set(key, id);
        }
        return `${id}.${slot === 1 ? 'low' : 'high'}`;
      }
      case 'FlipSigmas': {
        const from = this.sigmas(this.source(n, 'sigmas'), this.slot(n, 'sigmas'));
        if (!from) return undefined;
        // FlipSigmas replaces a starting 0 by 0.0001; resolve() drops this block when the flipped schedule does not start at 0.
        const flipped = this.op(from, 'flip', 'schedule.flip');
        const start = this.op(flipped, 'flip_start', 'schedule.set_sigma', { index: 0, sigma: 0.0001 });
        this.flips.push({ flipped, start });
        return start;
      }
      case 'SetFirstSigma': {
        const from = this.sigmas(this.source(n, 'sigmas'), this.slot(n, 'sigmas'));
        const sigma = this.num(n, 'sigma', { min: 0 });
        if (!from || sigma === undefined) return undefined;
        return this.op(from, 'first', 'schedule.set_sigma', { index: 0, sigma });
      }
      case 'GITSScheduler':
        return this.unsupported(n, 'dpipe has no copy of the GITS authors\' precomputed SD 1.5 noise-level table that this node reads; dpipe\'s schedule.gits fits GITS levels on your own model (dpipe fit gits)');
      default:
        return this.unsupported(n, 'dpipe has no block for this SIGMAS node');
    }
  }

  // ---------------------------------------------------------------- guiders and noise

  guider(n: ComfyNode | undefined, cfgpp: boolean): string | undefined {
    if (!n) return undefined;
    switch (n.classType) {
      case 'CFGGuider': {
        const model = this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL');
        const cfg = this.num(n, 'cfg', { min: 0, max: 100 });
        const positive = this.conditioning(this.source(n, 'positive'), 'positive');
        const negative = this.conditioning(this.source(n, 'negative'), 'negative');
        if (!model || cfg === undefined || !positive || !negative) return undefined;
        this.summary.cfg = cfg;
        return this.cfgGuider(model, cfg, positive, negative, cfgpp, n.inputs.cfg.pointer);
      }
      case 'BasicGuider': {
        const model = this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL');
        const cond = this.conditioning(this.source(n, 'conditioning'), 'positive');
        if (!model || !cond) return undefined;
        if (cfgpp) return this.error(`${this.name(n)}: a CFG++ sampler needs a CFGGuider (λ = its cfg)`, n.pointer);
        const id = this.b.add('guider', 'guider.basic');
        this.b.wire(model, `${id}.model`);
        this.b.wire(cond, `${id}.cond`);
        return `${id}.guider`;
      }
      case 'DualCFGGuider':
        return this.unsupported(n, 'dpipe has no guidance block combining two conditionings with two scales');
      default:
        return this.unsupported(n, 'dpipe has no block for this GUIDER node');
    }
  }

  cfgGuider(model: string, cfg: number, positive: string, negative: string, cfgpp: boolean, pointer: string): string | undefined {
    let id: string;
    if (cfgpp) {
      if (cfg > 1) return this.error(`a CFG++ sampler with cfg ${cfg}: CFG++ takes λ = cfg in [0, 1] (dpipe's guider.cfgpp)`, pointer);
      id = this.b.add('guider', 'guider.cfgpp', { lambda: cfg });
    } else {
      id = this.b.add('guider', 'guider.cfg', { scale: cfg });
    }
    this.b.wire(model, `${id}.model`);
    this.b.wire(positive, `${id}.positive`);
    this.b.wire(negative, `${id}.negative`);
    return `${id}.guider`;
  }

  noiseBlock(seed: number): string {
    const id = this.b.add('noise', 'noise.torch', { seed, order: 'comfyui', source: 'cpu', kernel: 'avx2' });
    this.summary.seed = String(seed);
    return `${id}.noise`;
  }

  // ---------------------------------------------------------------- sampler nodes

  sampler(n: ComfyNode): string | undefined {
    const key = `sample:${n.id}`;
    if (this.memo.has(key)) return this.memo.get(key);
    this.memo.set(key, undefined);
    const out = this.samplerUncached(n);
    this.memo.set(key, out);
    return out;
  }

  private samplerUncached(n: ComfyNode): string | undefined {
    let use: SamplerUse | undefined;
    let sigmas: string | undefined;
    let guider: string | undefined;
    let noise: string | undefined;
    let addNoise = true;
    let latent: string | undefined;
    let cut: Cut | undefined;
    const ksampler = n.classType === 'KSampler' || n.classType === 'KSamplerAdvanced';
    if (ksampler) {
      const advanced = n.classType === 'KSamplerAdvanced';
      const name = this.str(n, 'sampler_name');
      const scheduler = this.str(n, 'scheduler');
      const steps = this.num(n, 'steps', { integer: true, min: 1, max: 10000 });
      const cfg = this.num(n, 'cfg', { min: 0, max: 100 });
      const seed = this.seed(n, advanced ? 'noise_seed' : 'seed');
      const model = this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL');
      const positive = this.conditioning(this.source(n, 'positive'), 'positive');
      const negative = this.conditioning(this.source(n, 'negative'), 'negative');
      latent = this.latent(this.source(n, 'latent_image'), this.slot(n, 'latent_image'));
      use = name === undefined ? undefined : this.samplerName(name, n.inputs.sampler_name.pointer);
      if (advanced) {
        const add = this.bool(n, 'add_noise', 'enable', 'disable');
        if (add !== undefined) addNoise = add;
      }
      const denoise = advanced ? 1 : this.num(n, 'denoise', { min: 0, max: 1 });
      if (!use || scheduler === undefined || steps === undefined || cfg === undefined || seed === undefined || !model || !positive || !negative || denoise === undefined) return undefined;
      if (denoise <= 0) return this.error(`${this.name(n)}: denoise 0 leaves nothing to sample`, n.inputs.denoise.pointer);
      Object.assign(this.summary, { sampler: name, scheduler, steps, cfg });
      // KSampler.calculate_sigmas / set_steps
      const total = denoise > 0.9999 ? steps : Math.trunc(steps / denoise);
      const discard = use.spec.discardPenultimate === true;
      sigmas = this.schedulerBlock(scheduler, total + (discard ? 1 : 0), n.inputs.scheduler.pointer);
      if (!sigmas) return undefined;
      if (discard) sigmas = this.op(sigmas, 'discard', 'schedule.discard_penultimate');
      if (total > steps) sigmas = this.op(sigmas, 'denoise', 'schedule.last_steps', { steps });
      if (advanced) {
        const start = this.num(n, 'start_at_step', { integer: true, min: 0 });
        const end = this.num(n, 'end_at_step', { integer: true, min: 0 });
        const leftover = this.bool(n, 'return_with_leftover_noise', 'enable', 'disable');
        if (start === undefined || end === undefined || leftover === undefined) return undefined;
        cut = { start, end, leftover };
      }
      guider = this.cfgGuider(model, cfg, positive, negative, use.spec.cfgpp === true, n.inputs.cfg.pointer);
      noise = this.noiseBlock(seed);
    } else {
      latent = this.latent(this.source(n, 'latent_image'), this.slot(n, 'latent_image'));
      use = this.samplerNode(this.source(n, 'sampler'));
      sigmas = this.sigmas(this.source(n, 'sigmas'), this.slot(n, 'sigmas'));
      if (n.classType === 'SamplerCustom') {
        const model = this.loader(this.source(n, 'model'), this.slot(n, 'model'), 'MODEL');
        const add = this.bool(n, 'add_noise');
        const seed = this.seed(n, 'noise_seed');
        const cfg = this.num(n, 'cfg', { min: 0, max: 100 });
        const positive = this.conditioning(this.source(n, 'positive'), 'positive');
        const negative = this.conditioning(this.source(n, 'negative'), 'negative');
        if (!use || !model || add === undefined || seed === undefined || cfg === undefined || !positive || !negative) return undefined;
        addNoise = add;
        this.summary.cfg = cfg;
        guider = this.cfgGuider(model, cfg, positive, negative, use.spec.cfgpp === true, n.inputs.cfg.pointer);
        noise = this.noiseBlock(seed);
      } else {
        const noiseNode = this.source(n, 'noise');
        if (!use) return undefined;
        guider = this.guider(this.source(n, 'guider'), use.spec.cfgpp === true);
        if (noiseNode?.classType === 'RandomNoise') {
          const seed = this.seed(noiseNode, 'noise_seed');
          if (seed !== undefined) noise = this.noiseBlock(seed);
        } else if (noiseNode?.classType === 'DisableNoise') {
          addNoise = false;
          noise = this.noiseBlock(0);
        } else if (noiseNode) {
          this.unsupported(noiseNode, 'dpipe has no block for this NOISE node');
        }
      }
      this.summary.sampler = use?.name;
    }
    if (!use || !sigmas || !guider || !noise || !latent) return undefined;
    if (use.spec.brownian) this.warn(`sampler ${use.name}: its per-step noise comes from a Brownian tree (torchsde) on the ${use.spec.brownian === 'cpu' ? 'CPU' : 'sampling device'}, which dpipe does not reproduce; the initial noise is the same, the image is not`, n.pointer);
    if (use.spec.stochastic) this.warn(`sampler ${use.name}: per-step noise is ComfyUI's second generator as it runs on the CPU (seed + 1); on a GPU ComfyUI draws it from CUDA's generator — set the noise block's source to "nv" for the closest match`, n.pointer);
    return this.finishSample(n, use, sigmas, guider, noise, latent, addNoise, cut);
  }

  /** Sample blocks whose solver, σ chain and noise scaling resolve() completes once the chains can be evaluated. */
  private readonly flips: { flipped: string; start: string }[] = [];
  private pending: { n: ComfyNode; use: SamplerUse; sigmas: string; id: string; solver: string; cut?: Cut }[] = [];

  private finishSample(n: ComfyNode, use: SamplerUse, sigmas: string, guider: string, noise: string, latent: string, addNoise: boolean, cut?: Cut): string {
    const id = this.b.add('sample', 'sample', { addNoise, noiseScale: 'sigma' });
    const solver = this.b.add('solver', 'solver.euler');
    this.b.wire(guider, `${id}.guider`);
    this.b.wire(`${solver}.sampler`, `${id}.sampler`);
    this.b.wire(noise, `${id}.noise`);
    this.b.wire(latent, `${id}.latent`);
    this.pending.push({ n, use, sigmas, id, solver, cut });
    return id;
  }

  /**
   * The parts that depend on the σ values: the solver's options (uni_pc's order), the sampler's own treatment of the
   * schedule (uni_pc's 0.001, dpm_fast's ends), and the noise scaling (max_denoise).
   */
  async resolve(): Promise<void> {
    for (const f of this.flips) {
      if ((await evaluateSigmas(this.b, f.flipped, SD_MODEL))[0] === 0) continue;
      for (let i = 0; i < this.b.edges.length; i++) if (this.b.edges[i].from === f.start) this.b.edges[i] = { ...this.b.edges[i], from: f.flipped };
      for (const p of this.pending) if (p.sigmas === f.start) p.sigmas = f.flipped;
    }
    for (const p of this.pending) {
      let chain = p.sigmas;
      let values = await evaluateSigmas(this.b, chain, SD_MODEL);
      if (p.cut) {
        // KSampler.sample: cut at end_at_step (its last σ forced to 0 unless the leftover noise is returned), then
        // start at start_at_step.
        const { start, end, leftover } = p.cut;
        if (end < values.length - 1) {
          chain = this.op(chain, 'end', 'schedule.split', { step: end }, 'high');
          if (!leftover) chain = this.op(chain, 'end_zero', 'schedule.set_sigma', { index: -1, sigma: 0 });
        }
        const kept = Math.min(end, values.length - 1) + 1;
        if (start >= kept - 1) {
          this.error(`${this.name(p.n)}: start_at_step ${start} leaves no step (the schedule has ${kept - 1}); ComfyUI returns the latent unchanged, which dpipe does not import`, p.n.inputs.start_at_step?.pointer);
          continue;
        }
        if (start > 0) chain = this.op(chain, 'start', 'schedule.split', { step: start }, 'low');
        values = await evaluateSigmas(this.b, chain, SD_MODEL);
      }
      const spec = p.use.spec;
      if (spec.zeroBecomes !== undefined && values.length && values[values.length - 1] === 0) {
        chain = this.op(chain, 'stop', 'schedule.set_sigma', { index: -1, sigma: spec.zeroBecomes });
        values = await evaluateSigmas(this.b, chain, SD_MODEL);
      }
      let solver = spec.solver(values.length);
      if (spec.ends) {
        const last = values[values.length - 1] === 0 ? values[values.length - 2] : values[values.length - 1];
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(a, b);
        if (!(values.length >= 2 && close(values[0], SD_MODEL.sigmaMax) && close(last, SD_MODEL.sigmaMin))) {
          this.error(`sampler ${p.use.name} runs from the schedule's first σ (${+values[0].toPrecision(6)}) to its last positive σ (${+last.toPrecision(6)}); dpipe's adaptive DPM-Solver blocks import only schedules from the model's σ_max to its σ_min (karras, exponential, normal or kl_optimal, denoise 1)`, p.n.pointer);
          continue;
        }
        chain = `${this.b.add('sched_ends', 'schedule.exponential', { steps: 2, sigmaMin: 0, sigmaMax: 0, final: 'none' })}.sigmas`;
        this.b.wire(`${this.model()}.model`, `${chain.split('.')[0]}.model`);
        if (spec.ends === 'fast') solver = { type: 'solver.dpm_fast', params: { nfe: values.length - 1 } };
      }
      const i = this.b.nodes.findIndex((x) => x.id === p.solver);
      this.b.nodes[i] = { id: p.solver, type: solver.type, params: { ...solver.params } };
      this.b.wire(chain, `${p.id}.sigmas`);
      const first = values[0];
      const maxDenoise = Math.abs(first - SD_MODEL.sigmaMax) <= 1e-5 * Math.max(first, SD_MODEL.sigmaMax) || first > SD_MODEL.sigmaMax;
      this.b.setParams(p.id, { noiseScale: maxDenoise ? 'vp' : 'sigma' });
    }
    this.prune();
  }

  /** Drops schedule blocks whose output feeds nothing (chains replaced by resolve()). */
  prune(): void {
    for (;;) {
      const dead = this.b.nodes.filter((n) => n.type.startsWith('schedule.') && !this.b.edges.some((e) => e.from.startsWith(`${n.id}.`)));
      if (!dead.length) return;
      for (const d of dead) {
        this.b.nodes.splice(this.b.nodes.indexOf(d), 1);
        for (let i = this.b.edges.length - 1; i >= 0; i--) if (this.b.edges[i].to.startsWith(`${d.id}.`)) this.b.edges.splice(i, 1);
      }
    }
  }

  // ---------------------------------------------------------------- outputs

  outputs(): void {
    const nodes = [...this.graph.nodes.values()];
    const saves = nodes.filter((n) => n.classType === 'SaveImage' || n.classType === 'PreviewImage');
    for (const n of saves) {
      const image = this.image(this.source(n, 'images'), this.slot(n, 'images'));
      if (!image) continue;
      const prefix = n.classType === 'SaveImage' ? this.str(n, 'filename_prefix') ?? 'ComfyUI' : 'preview';
      const name = prefix.replace(/.*[\\/]/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'image';
      const id = this.b.add('save', 'output.image', { name });
      this.b.wire(image, `${id}.latent`);
    }
    if (!saves.length) {
      const samplers = nodes.filter((n) => SAMPLER_NODES.has(n.classType));
      if (!samplers.length) {
        this.error('the graph has no sampler (KSampler, KSamplerAdvanced, SamplerCustom or SamplerCustomAdvanced) and no SaveImage/PreviewImage: nothing to import', '');
        return;
      }
      for (const n of samplers) {
        const id = this.sampler(n);
        if (id && !this.b.edges.some((e) => e.from.startsWith(`${id}.`))) {
          const out = this.b.add('save', 'output.latent', { name: 'latent' });
          this.b.wire(`${id}.latent`, `${out}.latent`);
        }
      }
    }
  }
}

/** Translates a ComfyUI graph. Never throws on bad input: problems are issues, and `doc` is absent on errors. */
export async function importComfyGraph(graph: ComfyGraph, opts: ComfyImportOptions = {}): Promise<ComfyImportResult> {
  const t = new Translator(graph, opts);
  for (const p of graph.problems) t.issues.push({ severity: p.severity, message: p.message, pointer: p.pointer });
  if (opts.modelKind === 'flow') {
    t.error('the model folder is a rectified-flow model (SD3); ComfyUI samples flow models with other formulas (ModelSamplingDiscreteFlow, the _RF samplers), which this import does not reproduce: it imports workflows for SD 1.x/2.x/SDXL models', '');
  } else {
    t.outputs();
    await t.resolve();
  }
  const errors = t.issues.some((i) => i.severity === 'error');
  if (!errors && !opts.modelPath) t.warn(`the model folder path is empty: set model.folder's path to the ONNX export of ${t.checkpoints.length ? `"${t.checkpoints[0]}"` : 'the workflow\'s checkpoint'} before running (dpipe import --model DIR, or the folder picker of "Import Pipeline…")`);
  const s = t.summary;
  const what = [s.sampler, s.scheduler].filter(Boolean).join(' / ');
  const metadata = {
    title: `ComfyUI: ${what || 'imported'}${s.steps ? `, ${s.steps} steps` : ''}${s.cfg !== undefined ? `, cfg ${s.cfg}` : ''}${s.seed !== undefined ? `, seed ${s.seed}` : ''}`,
    description: `Imported from ${opts.sourceName ?? 'a ComfyUI graph'} (ComfyUI ${graph.format === 'api' ? 'API prompt' : `workflow${graph.version !== undefined ? ` version ${graph.version}` : ''}`}) by dpipe import.${t.checkpoints.length ? ` ComfyUI loaded ${t.checkpoints.map((c) => `"${c}"`).join(', ')}; the model folder must be its ONNX export.` : ''} Same σ values, same initial noise (ComfyUI's CPU torch.randn), nearest-timestep model calls as ComfyUI.`,
    imported: { from: 'comfyui', format: graph.format, ...(t.checkpoints.length ? { checkpoint: t.checkpoints[0] } : {}) },
  };
  return { doc: errors ? undefined : t.b.doc(metadata), issues: t.issues, checkpoints: t.checkpoints, images: t.images };
}
