/**
 * A dpipe pipeline as a ComfyUI API prompt (`dpipe export P.dpipe --to comfyui-api`), where ComfyUI computes the
 * same thing. Each Sample block becomes a KSampler when its schedule is one of ComfyUI's scheduler names (with
 * KSampler's own treatment: the extra step of dpm_2/uni_pc, denoise, uni_pc's stop at 0.001), a KSamplerAdvanced when
 * it also starts or stops part-way, and otherwise a SamplerCustomAdvanced with ComfyUI's SIGMAS, SAMPLER, GUIDER and
 * NOISE nodes. The prompt is then imported back (`comfyImport.ts`) and compared block by block with the pipeline
 * (`signature.ts`): only a prompt that imports to the same pipeline is returned; otherwise the blocks with no ComfyUI
 * equivalent are named, with the params that differ from what ComfyUI would compute.
 */
import * as path from 'path';
import type { PipelineDoc, PipelineNode } from '../format/types';
import { discreteSigmas, DEFAULT_DISCRETE, makeModelSchedule } from '../model/schedule';
import { evaluateSigmas, feeding, fullParams } from './doc';
import { COMFY_SAMPLERS, COMFY_SCHEDULERS, isSupported } from './comfyNames';
import { readApiPrompt } from './comfyGraph';
import { importComfyGraph } from './comfyImport';
import type { InteropIssue } from './issues';
import { differences, paramDiff } from './signature';

type ApiNode = { class_type: string; inputs: Record<string, unknown>; _meta: { title: string } };
export type ApiPrompt = Record<string, ApiNode>;

export interface ComfyExportResult {
  readonly prompt?: ApiPrompt;
  readonly issues: InteropIssue[];
}

const SD_MODEL = makeModelSchedule({ kind: 'discrete', discreteSigmas: discreteSigmas(DEFAULT_DISCRETE) });
const TITLES: Readonly<Record<string, string>> = {
  CheckpointLoaderSimple: 'Load Checkpoint', CLIPTextEncode: 'CLIP Text Encode (Prompt)', EmptyLatentImage: 'Empty Latent Image', VAEDecode: 'VAE Decode',
  SaveImage: 'Save Image', KSampler: 'KSampler', KSamplerAdvanced: 'KSampler (Advanced)', SamplerCustomAdvanced: 'SamplerCustomAdvanced',
};

/** The shortest decimal d with trunc(steps / d) = total (ComfyUI's denoise giving a schedule of `total` steps). */
export function denoiseFor(steps: number, total: number): number {
  if (total === steps) return 1;
  for (let digits = 1; digits <= 12; digits++) {
    const f = 10 ** digits;
    for (let d = Math.ceil((steps / (total + 1)) * f) / f; d <= steps / total + 1e-15; d = Math.round(d * f + 1) / f) {
      if (d > 0 && d < 1 && Math.trunc(steps / d) === total) return d;
    }
  }
  return steps / total;
}

/** The shortest decimal d with Python's round(steps·d) = total (AlignYourStepsScheduler's denoise). */
export function aysDenoiseFor(steps: number, total: number): number {
  if (total === steps) return 1;
  const roundHalfEven = (v: number) => {
    const fl = Math.floor(v);
    const r = v - fl;
    return r > 0.5 ? fl + 1 : r < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
  };
  for (let digits = 1; digits <= 12; digits++) {
    const f = 10 ** digits;
    for (let k = 1; k < f; k++) if (roundHalfEven((steps * k) / f) === total) return k / f;
  }
  return total / steps;
}

class Exporter {
  readonly prompt: ApiPrompt = {};
  readonly issues: InteropIssue[] = [];
  private next = 1;
  private readonly done = new Map<string, [string, number]>();
  private readonly byId: Map<string, PipelineNode>;

  constructor(readonly doc: PipelineDoc, readonly custom: boolean) {
    this.byId = new Map(doc.nodes.map((n) => [n.id, n]));
  }

  add(classType: string, inputs: Record<string, unknown>, title?: string): string {
    const id = String(this.next++);
    this.prompt[id] = { class_type: classType, inputs, _meta: { title: title ?? TITLES[classType] ?? classType } };
    return id;
  }

  src(to: string): PipelineNode | undefined {
    const from = feeding(this.doc, to);
    return from ? this.byId.get(from.split('.')[0]) : undefined;
  }

  port(to: string): string | undefined {
    return feeding(this.doc, to)?.split('.')[1];
  }

  fail(node: PipelineNode | undefined, message: string): undefined {
    this.issues.push({ severity: 'error', message, nodeId: node?.id, pointer: node ? `/nodes/${this.doc.nodes.indexOf(node)}` : undefined });
    return undefined;
  }

  checkpoint(node: PipelineNode): [string, number] | undefined {
    const key = `ckpt:${node.id}`;
    const hit = this.done.get(key);
    if (hit) return hit;
    if (node.type !== 'model.folder') return this.fail(node, `${node.type} "${node.id}": ComfyUI loads checkpoints; only a model.folder block has an equivalent (CheckpointLoaderSimple)`);
    const imported = (this.doc.metadata.imported as { checkpoint?: unknown } | undefined)?.checkpoint;
    const name = typeof imported === 'string' ? imported : `${path.basename(String(node.params.path ?? '')) || 'model'}.safetensors`;
    if (typeof imported !== 'string') this.issues.push({ severity: 'warning', message: `model.folder "${node.id}": ckpt_name "${name}" is made from the folder's name; pick the checkpoint the folder was exported from in ComfyUI`, nodeId: node.id });
    const id = this.add('CheckpointLoaderSimple', { ckpt_name: name });
    const out: [string, number] = [id, 0];
    this.done.set(key, out);
    return out;
  }

  model(node: PipelineNode | undefined, slot: 0 | 1 | 2): [string, number] | undefined {
    if (!node) return undefined;
    const c = this.checkpoint(node);
    return c ? [c[0], slot] : undefined;
  }

  text(node: PipelineNode | undefined, fallbackModel?: PipelineNode): [string, number] | undefined {
    if (!node) {
      // No negative input: the model's own unconditional value, which is the empty prompt's encoding for SD 1.x/2.x.
      const clip = this.model(fallbackModel, 1);
      if (!clip) return undefined;
      this.issues.push({ severity: 'warning', message: 'the guider has no negative prompt: the export uses an empty negative prompt (the same conditioning for SD 1.x/2.x; SDXL pipelines that zero the empty prompt differ)' });
      return [this.add('CLIPTextEncode', { text: '', clip }), 0];
    }
    const key = `text:${node.id}`;
    const hit = this.done.get(key);
    if (hit) return hit;
    if (node.type !== 'cond.prompt') return this.fail(node, `${node.type} "${node.id}": ComfyUI's conditioning here is CLIPTextEncode (a cond.prompt block)`);
    const clip = this.model(this.src(`${node.id}.text`), 1);
    if (!clip) return undefined;
    const out: [string, number] = [this.add('CLIPTextEncode', { text: String(node.params.text ?? ''), clip }), 0];
    this.done.set(key, out);
    return out;
  }

  latent(node: PipelineNode | undefined, port: string | undefined): [string, number] | undefined {
    if (!node) return this.fail(undefined, 'a Sample block has no latent input: ComfyUI samplers start from a latent (EmptyLatentImage)');
    const key = `latent:${node.id}:${port}`;
    const hit = this.done.get(key);
    if (hit) return hit;
    let out: [string, number] | undefined;
    if (node.type === 'latent.empty') {
      const p = fullParams(node);
      if (!p.height || !p.width) return this.fail(node, `latent.empty "${node.id}": set its height and width (ComfyUI's EmptyLatentImage has no "from the model")`);
      out = [this.add('EmptyLatentImage', { width: (p.width as number) * 8, height: (p.height as number) * 8, batch_size: p.batch }), 0];
    } else if (node.type === 'sample') {
      const id = this.sample(node);
      out = id ? [id, port === 'denoised' ? 1 : 0] : undefined;
    } else if (node.type === 'vae.encode') {
      const img = this.src(`${node.id}.image`);
      const vae = this.model(this.src(`${node.id}.vae`), 2);
      if (img?.type !== 'image.load') return this.fail(img ?? node, 'vae.encode: ComfyUI encodes a LoadImage (an image.load block)');
      if (!vae) return undefined;
      const load = this.add('LoadImage', { image: path.basename(String(img.params.file ?? '')) });
      out = [this.add('VAEEncode', { pixels: [load, 0], vae }), 0];
    } else {
      return this.fail(node, `${node.type} "${node.id}": no ComfyUI latent node computes it`);
    }
    this.done.set(key, out!);
    return out;
  }

  /** The sampler name whose dpipe solver this block is, if any. */
  samplerName(solver: PipelineNode, sigmaCount: number): string | undefined {
    const p = fullParams(solver);
    for (const [name, entry] of Object.entries(COMFY_SAMPLERS)) {
      if (!isSupported(entry) || entry.cfgpp || name === 'ddim') continue;
      const spec = entry.solver(sigmaCount);
      if (spec.type !== solver.type) continue;
      const q = fullParams({ id: '', type: spec.type, params: spec.params });
      const presetOk = p.preset === undefined || p.preset === q.preset || p.preset === 'custom' || (p.preset === 'k-diffusion' && q.preset === 'custom');
      if (presetOk && Object.keys(q).every((k) => k === 'preset' || k === 'nfe' || JSON.stringify(p[k]) === JSON.stringify(q[k]))) return name;
    }
    return undefined;
  }

  /** A SAMPLER node for the custom form. */
  samplerNode(solver: PipelineNode, sigmaCount: number): [string, number] {
    const name = this.samplerName(solver, sigmaCount);
    if (name) return [this.add('KSamplerSelect', { sampler_name: name }), 0];
    const p = fullParams(solver);
    switch (solver.type) {
      case 'solver.euler_ancestral':
        return [this.add('SamplerEulerAncestral', { eta: p.eta, s_noise: p.sNoise }), 0];
      case 'solver.lms':
        return [this.add('SamplerLMS', { order: p.order }), 0];
      case 'solver.dpmpp_2s_ancestral':
        return [this.add('SamplerDPMPP_2S_Ancestral', { eta: p.eta, s_noise: p.sNoise }), 0];
      case 'solver.dpmpp_sde':
        return [this.add('SamplerDPMPP_SDE', { eta: p.eta, s_noise: p.sNoise, r: p.r, noise_device: 'cpu' }), 0];
      case 'solver.dpmpp_2m_sde':
        return [this.add('SamplerDPMPP_2M_SDE', { solver_type: p.solverType, eta: p.eta, s_noise: p.sNoise, noise_device: 'cpu' }), 0];
      case 'solver.dpmpp_3m_sde':
        return [this.add('SamplerDPMPP_3M_SDE', { eta: p.eta, s_noise: p.sNoise, noise_device: 'cpu' }), 0];
      case 'solver.dpm_adaptive':
        return [this.add('SamplerDPMAdaptative', { order: p.order, rtol: p.rtol, atol: p.atol, h_init: p.hInit, pcoeff: 0, icoeff: 1, dcoeff: 0, accept_safety: p.acceptSafety, eta: 0, s_noise: 1 }), 0];
      case 'solver.er_sde': {
        const type = p.noiseScale === 'sde5' ? 'ER-SDE' : p.noiseScale === 'ode' ? 'ODE' : 'Reverse-time SDE';
        return [this.add('SamplerER_SDE', { solver_type: type, max_stage: p.order, eta: 1, s_noise: p.sNoise }), 0];
      }
      default:
        // Written as KSamplerSelect "euler": the comparison after import names the solver block.
        return [this.add('KSamplerSelect', { sampler_name: 'euler' }), 0];
    }
  }

  /** SIGMAS nodes for a chain of schedule blocks ending at `to` (the custom form). */
  sigmas(endpoint: string): [string, number] | undefined {
    const [id, port] = endpoint.split('.');
    const node = this.byId.get(id)!;
    const key = `sigmas:${id}`;
    const p = fullParams(node);
    const up = () => {
      const from = feeding(this.doc, `${id}.sigmas`);
      return from ? this.sigmas(from) : this.fail(node, `${node.type} "${id}" has no input`);
    };
    const hit = this.done.get(key);
    if (hit && node.type === 'schedule.split') return [hit[0], port === 'low' ? 1 : 0];
    if (hit) return hit;
    let out: [string, number] | undefined;
    const schedulerName = Object.keys(COMFY_SCHEDULERS).find((n) => COMFY_SCHEDULERS[n](p.steps as number).type === node.type);
    const modelRef = () => this.model(this.src(`${id}.model`), 0);
    switch (node.type) {
      case 'schedule.karras':
      case 'schedule.exponential':
      case 'schedule.polyexponential':
      case 'schedule.simple':
      case 'schedule.sgm_uniform':
      case 'schedule.ddim_uniform':
      case 'schedule.normal':
      case 'schedule.linear_quadratic':
      case 'schedule.kl_optimal': {
        if (['schedule.karras', 'schedule.exponential', 'schedule.polyexponential'].includes(node.type) && p.sigmaMin && p.sigmaMax) {
          const cls = ({ 'schedule.karras': 'KarrasScheduler', 'schedule.exponential': 'ExponentialScheduler', 'schedule.polyexponential': 'PolyexponentialScheduler' } as Record<string, string>)[node.type];
          out = [this.add(cls, { steps: p.steps, sigma_max: p.sigmaMax, sigma_min: p.sigmaMin, ...(node.type === 'schedule.exponential' ? {} : { rho: p.rho }) }), 0];
          break;
        }
        // σ range from the model: one of ComfyUI's scheduler names
        const m = modelRef();
        if (!m || !schedulerName) return this.fail(node, `${node.type} "${id}": no ComfyUI scheduler computes it`);
        out = [this.add('BasicScheduler', { scheduler: schedulerName, steps: p.steps, denoise: 1, model: m }), 0];
        break;
      }
      case 'schedule.beta': {
        const m = modelRef();
        if (!m) return undefined;
        out = [this.add('BetaSamplingScheduler', { steps: p.steps, alpha: p.alpha, beta: p.beta, model: m }), 0];
        break;
      }
      case 'schedule.vp':
        out = [this.add('VPScheduler', { steps: p.steps, beta_d: p.betaD, beta_min: p.betaMin, eps_s: p.epsS }), 0];
        break;
      case 'schedule.ays':
        out = [this.add('AlignYourStepsScheduler', { model_type: p.model, steps: p.steps, denoise: 1 }), 0];
        break;
      case 'schedule.explicit':
        out = [this.add('ManualSigmas', { sigmas: (p.values as number[]).join(', ') }), 0];
        break;
      case 'schedule.last_steps': {
        // denoise on BasicScheduler / AlignYourStepsScheduler: rewrite the node it follows.
        const from = feeding(this.doc, `${id}.sigmas`);
        const src = from ? this.byId.get(from.split('.')[0]) : undefined;
        const inner = from ? this.sigmas(from) : undefined;
        if (!inner || !src) return undefined;
        const n = this.prompt[inner[0]];
        const k = p.steps as number;
        if (n.class_type === 'BasicScheduler' && (n.inputs.denoise as number) === 1 && (n.inputs.steps as number) > k) {
          n.inputs = { ...n.inputs, steps: k, denoise: denoiseFor(k, n.inputs.steps as number) };
          out = inner;
        } else if (n.class_type === 'AlignYourStepsScheduler' && (n.inputs.denoise as number) === 1 && (n.inputs.steps as number) > k) {
          n.inputs = { ...n.inputs, denoise: aysDenoiseFor(n.inputs.steps as number, k) };
          out = inner;
        } else {
          return this.fail(node, `schedule.last_steps "${id}": ComfyUI keeps the last steps only as the denoise of BasicScheduler or AlignYourStepsScheduler`);
        }
        break;
      }
      case 'schedule.split': {
        const from = up();
        if (!from) return undefined;
        out = [this.add('SplitSigmas', { step: p.step, sigmas: from }), 0];
        this.done.set(key, out);
        return [out[0], port === 'low' ? 1 : 0];
      }
      case 'schedule.flip': {
        const from = up();
        if (!from) return undefined;
        out = [this.add('FlipSigmas', { sigmas: from }), 0];
        break;
      }
      case 'schedule.set_sigma': {
        const from = up();
        if (!from) return undefined;
        const src = this.prompt[from[0]];
        // FlipSigmas' own 0.0001 (the import writes it as a block after the flip).
        if (p.index === 0 && p.sigma === 0.0001 && src.class_type === 'FlipSigmas') out = from;
        else if (p.index === 0) out = [this.add('SetFirstSigma', { sigma: p.sigma, sigmas: from }), 0];
        else return this.fail(node, `schedule.set_sigma "${id}": ComfyUI's custom sampling sets the first σ only (SetFirstSigma)`);
        break;
      }
      default:
        return this.fail(node, `${node.type} "${id}": no ComfyUI SIGMAS node computes it`);
    }
    this.done.set(key, out!);
    return out;
  }

  noiseSeed(noise: PipelineNode | undefined): number | undefined {
    if (!noise) return undefined;
    const p = fullParams(noise);
    if (noise.type !== 'noise.torch' || p.order !== 'comfyui') return this.fail(noise, `${noise.type} "${noise.id}"${noise.type === 'noise.torch' ? ` with order "${p.order}"` : ''}: ComfyUI's noise is noise.torch with order "comfyui"`);
    if (Array.isArray(p.batchIndex) && p.batchIndex.length) return this.fail(noise, `noise.torch "${noise.id}": batchIndex comes from ComfyUI's "Latent From Batch", which the export does not write`);
    return p.seed as number;
  }

  sample(node: PipelineNode): string | undefined {
    const key = `sample:${node.id}`;
    const hit = this.done.get(key);
    if (hit) return hit[0];
    const id = this.sampleUncached(node);
    if (id) this.done.set(key, [id, 0]);
    return id;
  }

  private sampleUncached(node: PipelineNode): string | undefined {
    const solver = this.src(`${node.id}.sampler`);
    const guider = this.src(`${node.id}.guider`);
    const noise = this.src(`${node.id}.noise`);
    const sigmasFrom = feeding(this.doc, `${node.id}.sigmas`);
    const latent = this.latent(this.src(`${node.id}.latent`), this.port(`${node.id}.latent`));
    const seed = this.noiseSeed(noise);
    if (!solver || !guider || !sigmasFrom || seed === undefined || !latent) return undefined;
    const addNoise = fullParams(node).addNoise !== false;
    const chain = this.chain(sigmasFrom);
    const count = this.count.get(node.id) ?? 0;
    const name = this.samplerName(solver, count) ?? (guider.type === 'guider.cfgpp' && solver.type === 'solver.euler' ? 'euler_cfg_pp' : undefined);
    const cfgpp = guider.type === 'guider.cfgpp';
    const cfg = fullParams(guider)[cfgpp ? 'lambda' : 'scale'];
    if (!this.custom && name && (guider.type === 'guider.cfg' || cfgpp)) {
      const k = this.ksampler(chain, name === 'euler_cfg_pp' ? 'euler' : name, solver);
      if (k) {
        const model = this.model(this.src(`${guider.id}.model`), 0);
        const positive = this.text(this.src(`${guider.id}.positive`));
        const negative = this.text(this.src(`${guider.id}.negative`), this.src(`${guider.id}.model`));
        if (!model || !positive || !negative) return undefined;
        const sampler = cfgpp ? `${name.replace(/_cfg_pp$/, '')}_cfg_pp` : name;
        const common = { steps: k.steps, cfg, sampler_name: sampler, scheduler: k.scheduler, model, positive, negative, latent_image: latent };
        if (k.advanced || !addNoise) {
          return this.add('KSamplerAdvanced', { add_noise: addNoise ? 'enable' : 'disable', noise_seed: seed, ...common, start_at_step: k.start, end_at_step: k.end, return_with_leftover_noise: k.leftover ? 'enable' : 'disable' });
        }
        return this.add('KSampler', { seed, ...common, denoise: k.denoise });
      }
    }
    // The custom form.
    const sigmas = this.sigmas(this.custom || !name ? sigmasFrom : this.stripSamplerTail(sigmasFrom, name));
    const samplerOut = this.samplerNode(solver, count);
    let guiderOut: [string, number] | undefined;
    if (guider.type === 'guider.basic') {
      const model = this.model(this.src(`${guider.id}.model`), 0);
      const cond = this.text(this.src(`${guider.id}.cond`));
      if (!model || !cond) return undefined;
      guiderOut = [this.add('BasicGuider', { model, conditioning: cond }), 0];
    } else if (guider.type === 'guider.cfg' || cfgpp) {
      const model = this.model(this.src(`${guider.id}.model`), 0);
      const positive = this.text(this.src(`${guider.id}.positive`));
      const negative = this.text(this.src(`${guider.id}.negative`), this.src(`${guider.id}.model`));
      if (!model || !positive || !negative) return undefined;
      guiderOut = [this.add('CFGGuider', { cfg, model, positive, negative }), 0];
      if (cfgpp) this.prompt[samplerOut[0]].inputs = { sampler_name: 'euler_cfg_pp' };
    } else {
      return this.fail(guider, `${guider.type} "${guider.id}": ComfyUI's guiders are CFGGuider and BasicGuider (guider.cfg, guider.cfgpp, guider.basic)`);
    }
    const noiseOut = addNoise ? this.add('RandomNoise', { noise_seed: seed }) : this.add('DisableNoise', {});
    if (!sigmas) return undefined;
    return this.add('SamplerCustomAdvanced', { noise: [noiseOut, 0], guider: guiderOut, sampler: samplerOut, sigmas, latent_image: latent });
  }

  /** uni_pc's stop at 0.001 belongs to the sampler in ComfyUI: a custom form starts the SIGMAS before it. */
  stripSamplerTail(endpoint: string, name: string): string {
    const entry = COMFY_SAMPLERS[name];
    const node = this.byId.get(endpoint.split('.')[0])!;
    if (isSupported(entry) && entry.zeroBecomes !== undefined && node.type === 'schedule.set_sigma' && node.params.index === -1 && node.params.sigma === entry.zeroBecomes) {
      return feeding(this.doc, `${node.id}.sigmas`) ?? endpoint;
    }
    return endpoint;
  }

  /** σ counts of each Sample block's schedule (for uni_pc's order), filled by prepare(). */
  readonly count = new Map<string, number>();

  /** The schedule blocks from the generator to `endpoint`: [generator, ...ops]. */
  chain(endpoint: string): { node: PipelineNode; port: string }[] {
    const out: { node: PipelineNode; port: string }[] = [];
    let at: string | undefined = endpoint;
    while (at) {
      const [id, port]: string[] = at.split('.');
      const node: PipelineNode = this.byId.get(id)!;
      out.unshift({ node, port });
      at = node.type.startsWith('schedule.') ? feeding(this.doc, `${id}.sigmas`) : undefined;
    }
    return out;
  }

  /** KSampler settings for a chain, when it is one: scheduler(total [+1]) → [discard] → [last_steps] → [cut] → [stop]. */
  ksampler(chain: { node: PipelineNode; port: string }[], sampler: string, solver: PipelineNode): { scheduler: string; steps: number; denoise: number; advanced: boolean; start: number; end: number; leftover: boolean } | undefined {
    const entry = COMFY_SAMPLERS[sampler];
    if (!isSupported(entry)) return undefined;
    const [gen, ...ops] = chain;
    const p = fullParams(gen.node);
    if (entry.ends) {
      // dpm_fast / dpm_adaptive take σ_max, σ_min (and the step count): an exponential schedule has those ends.
      const twoPoints = ops.length === 0 && gen.node.type === 'schedule.exponential' && p.steps === 2 && p.final === 'none' && p.sigmaMin === 0 && p.sigmaMax === 0;
      if (!twoPoints) return undefined;
      const steps = entry.ends === 'fast' ? (fullParams(solver).nfe as number) : 10;
      return { scheduler: 'exponential', steps, denoise: 1, advanced: false, start: 0, end: 10000, leftover: false };
    }
    const scheduler = Object.keys(COMFY_SCHEDULERS).find((n) => {
      const spec = COMFY_SCHEDULERS[n](p.steps as number);
      return spec.type === gen.node.type && Object.entries(fullParams({ id: '', type: spec.type, params: spec.params })).every(([k, v]) => JSON.stringify(p[k]) === JSON.stringify(v));
    });
    if (!scheduler || !feeding(this.doc, `${gen.node.id}.model`)) return undefined;
    let i = 0;
    let total = p.steps as number;
    if (entry.discardPenultimate) {
      if (ops[i]?.node.type !== 'schedule.discard_penultimate') return undefined;
      total -= 1;
      i++;
    }
    let steps = total;
    if (ops[i]?.node.type === 'schedule.last_steps') {
      steps = ops[i].node.params.steps as number;
      if (!(steps < total)) return undefined;
      i++;
    }
    let start = 0;
    let end = 10000;
    let leftover = false;
    let advanced = false;
    if (ops[i]?.node.type === 'schedule.split' && ops[i].port === 'high' && steps === total) {
      end = ops[i].node.params.step as number;
      advanced = true;
      leftover = true;
      i++;
      if (ops[i]?.node.type === 'schedule.set_sigma' && ops[i].node.params.index === -1 && ops[i].node.params.sigma === 0) {
        leftover = false;
        i++;
      }
    }
    if (ops[i]?.node.type === 'schedule.split' && ops[i].port === 'low' && steps === total) {
      start = ops[i].node.params.step as number;
      advanced = true;
      i++;
    }
    if (entry.zeroBecomes !== undefined && ops[i]?.node.type === 'schedule.set_sigma' && ops[i].node.params.index === -1 && ops[i].node.params.sigma === entry.zeroBecomes) i++;
    if (i !== ops.length) return undefined;
    return { scheduler, steps, denoise: denoiseFor(steps, total), advanced, start, end, leftover };
  }

  async prepare(): Promise<void> {
    for (const n of this.doc.nodes.filter((x) => x.type === 'sample')) {
      const from = feeding(this.doc, `${n.id}.sigmas`);
      if (!from) continue;
      try {
        this.count.set(n.id, (await evaluateSigmas(this.doc, from, SD_MODEL)).length);
      } catch {
        // a chain that does not evaluate on SD's levels: the comparison after import reports it
      }
    }
  }

  outputs(): void {
    const samples = this.doc.nodes.filter((n) => n.type === 'sample');
    if (!samples.length) this.fail(undefined, 'the pipeline has no Sample block: nothing for ComfyUI to run');
    for (const out of this.doc.nodes.filter((n) => n.type === 'output.image')) {
      const src = this.src(`${out.id}.latent`);
      if (src?.type !== 'vae.decode') {
        this.fail(out, `output.image "${out.id}": ComfyUI saves images a VAEDecode made (a vae.decode block before it)`);
        continue;
      }
      if (fullParams(src).space !== 've') {
        this.fail(src, `vae.decode "${src.id}": space "vp"; ComfyUI decodes the sampler's output as it is ("ve")`);
        continue;
      }
      const latent = this.latent(this.src(`${src.id}.latent`), this.port(`${src.id}.latent`));
      const vae = this.model(this.src(`${src.id}.vae`), 2);
      if (!latent || !vae) continue;
      const decode = this.add('VAEDecode', { samples: latent, vae });
      this.add('SaveImage', { filename_prefix: String(out.params.name ?? 'image'), images: [decode, 0] });
    }
    for (const s of samples) this.sample(s);
    for (const out of this.doc.nodes.filter((n) => n.type === 'output.latent')) {
      this.issues.push({ severity: 'warning', message: `output.latent "${out.id}" (the final latent as .npy) is not exported: ComfyUI saves images`, nodeId: out.id });
    }
  }
}

/** Roots whose upstream a ComfyUI export must reproduce: the Sample blocks and the image outputs. */
function roots(doc: PipelineDoc): string[] {
  return doc.nodes.filter((n) => n.type === 'sample' || n.type === 'vae.decode').map((n) => n.id);
}

async function attempt(doc: PipelineDoc, custom: boolean): Promise<{ prompt: ApiPrompt; issues: InteropIssue[]; diffs: ReturnType<typeof differences> }> {
  const e = new Exporter(doc, custom);
  await e.prepare();
  e.outputs();
  if (e.issues.some((i) => i.severity === 'error')) return { prompt: e.prompt, issues: e.issues, diffs: [] };
  const text = JSON.stringify(e.prompt);
  const modelPath = doc.nodes.find((n) => n.type === 'model.folder')?.params.path;
  const back = await importComfyGraph(readApiPrompt(text, JSON.parse(text)), { modelPath: typeof modelPath === 'string' ? modelPath : '' });
  if (!back.doc) {
    return { prompt: e.prompt, issues: [...e.issues, ...back.issues.filter((i) => i.severity === 'error').map((i) => ({ severity: 'error' as const, message: `the exported prompt does not import back: ${i.message}` }))], diffs: [] };
  }
  return { prompt: e.prompt, issues: e.issues, diffs: differences(doc, roots(doc), back.doc) };
}

/** Exports `doc` as a ComfyUI API prompt, or names the blocks ComfyUI has no equivalent for. */
export async function exportComfyApi(doc: PipelineDoc): Promise<ComfyExportResult> {
  let best = await attempt(doc, false);
  if (!best.issues.some((i) => i.severity === 'error') && best.diffs.length === 0) return { prompt: best.prompt, issues: best.issues };
  const custom = await attempt(doc, true);
  if (!custom.issues.some((i) => i.severity === 'error') && custom.diffs.length === 0) return { prompt: custom.prompt, issues: custom.issues };
  if (!best.issues.some((i) => i.severity === 'error') && best.diffs.length === 0) best = custom;
  const pick = best.issues.some((i) => i.severity === 'error') && !custom.issues.some((i) => i.severity === 'error') ? custom : best;
  const issues = [...pick.issues];
  for (const d of pick.diffs) {
    const diff = paramDiff(d.node, d.closest);
    issues.push({
      severity: 'error',
      message: `${d.node.type} "${d.node.id}" has no ComfyUI equivalent${diff ? `: ${diff}` : ''}`,
      nodeId: d.node.id,
      pointer: `/nodes/${doc.nodes.indexOf(d.node)}`,
    });
  }
  return { issues };
}
