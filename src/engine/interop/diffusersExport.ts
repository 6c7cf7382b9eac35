/**
 * A pipeline as a runnable diffusers script (`dpipe export P.dpipe --to diffusers-python`): the scheduler class with
 * the config that makes diffusers' own loop the pipeline's schedule and solver, the guidance scale, the number of
 * steps, the prompts and size, and the same initial noise — passed as `latents` from a saved .npy (diffusers scales
 * it by the scheduler's init_noise_sigma, as the pipeline's Sample block does), or, when the pipeline draws with
 * diffusers' own order on the CPU (noise.torch, order "diffusers"), the seeded CPU generator itself, which also gives
 * the same per-step noise.
 *
 * The class and config are found from the blocks and then checked the other way round: `schedulerBlocks` (the
 * mapping `dpipe new --scheduler` uses) must give exactly the pipeline's schedule and solver blocks, the model's
 * timestep rounding and the Sample block's noise scaling; otherwise the export names the block that differs.
 */
import type { PipelineDoc, PipelineNode } from '../format/types';
import { feeding, fullParams } from './doc';
import { schedulerBlocks, type BlockSpec } from './diffusersScheduler';
import type { InteropIssue } from './issues';

type Json = Record<string, unknown>;

export interface DiffusersExportOptions {
  /** The model folder as the script names it (relative to the script's folder). */
  readonly modelDir: string;
  /** The .npy the script loads, relative to the script's folder. */
  readonly noiseFile: string;
  /** The image the script saves. */
  readonly imageFile: string;
  /** The script's own file name, for its usage line. */
  readonly scriptFile: string;
  /** Latent shape [B, C, H, W] of the run (channels and size from the model folder when latent.empty leaves them 0). */
  readonly latentShape?: readonly number[];
  /** The pipeline's file name, for the script's header. */
  readonly source: string;
}

export interface DiffusersExport {
  readonly script?: string;
  /** Noise to save as `noiseFile` (the standard-normal initial noise, [B, C, H, W]); absent when the script seeds a generator. */
  readonly noise?: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly issues: InteropIssue[];
  readonly className?: string;
  readonly config?: Json;
}

const py = (v: unknown): string => {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(17));
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return `{${Object.entries(v as Json).map(([k, x]) => `${JSON.stringify(k)}: ${py(x)}`).join(', ')}}`;
};

/** The scheduler class and config for a schedule and solver block, before the check. */
function candidate(solver: PipelineNode, schedule: PipelineNode): { className: string; config: Json } | string {
  const s = fullParams(schedule);
  const p = fullParams(solver);
  const config: Json = {};
  let final = 'zero';
  if (schedule.type === 'schedule.time_uniform') {
    Object.assign(config, { timestep_spacing: s.spacing, steps_offset: s.stepsOffset, use_karras_sigmas: false, use_exponential_sigmas: false });
    final = s.final as string;
  } else if (schedule.type === 'schedule.karras' || schedule.type === 'schedule.exponential') {
    Object.assign(config, { use_karras_sigmas: schedule.type === 'schedule.karras', use_exponential_sigmas: schedule.type === 'schedule.exponential' });
    final = s.final as string;
  } else if (schedule.type !== 'schedule.flow_match') {
    return `${schedule.type} "${schedule.id}": diffusers' schedulers space their steps with timestep_spacing (schedule.time_uniform), Karras or exponential σs, or flow matching`;
  }
  const finalSigmas = { final_sigmas_type: final === 'sigma_min' ? 'sigma_min' : 'zero' };
  switch (solver.type) {
    case 'solver.euler':
      if (schedule.type === 'schedule.flow_match') return { className: 'FlowMatchEulerDiscreteScheduler', config: {} };
      return { className: 'EulerDiscreteScheduler', config: { ...config, ...finalSigmas } };
    case 'solver.euler_ancestral':
      return { className: 'EulerAncestralDiscreteScheduler', config };
    case 'solver.heun':
      return { className: 'HeunDiscreteScheduler', config };
    case 'solver.lms':
      return { className: 'LMSDiscreteScheduler', config };
    case 'solver.ddim_eta':
      return { className: 'DDIMScheduler', config: { ...config, set_alpha_to_one: final === 'zero', clip_sample: false } };
    case 'solver.pndm':
      return { className: 'PNDMScheduler', config: { ...config, set_alpha_to_one: final === 'zero', skip_prk_steps: true } };
    case 'solver.dpmpp_2m':
    case 'solver.dpmpp_3m':
      return { className: 'DPMSolverMultistepScheduler', config: { ...config, ...finalSigmas, algorithm_type: 'dpmsolver++', solver_order: solver.type === 'solver.dpmpp_3m' ? 3 : 2, solver_type: 'midpoint', lower_order_final: true, euler_at_final: false } };
    case 'solver.dpm_multistep':
      return { className: 'DPMSolverMultistepScheduler', config: { ...config, ...finalSigmas, algorithm_type: 'dpmsolver', solver_order: p.order, solver_type: 'midpoint', lower_order_final: true, euler_at_final: false } };
    case 'solver.dpmpp_2m_sde':
      return { className: 'DPMSolverMultistepScheduler', config: { ...config, ...finalSigmas, algorithm_type: 'sde-dpmsolver++', solver_order: 2, solver_type: 'midpoint', lower_order_final: true, euler_at_final: false } };
    case 'solver.dpm_singlestep':
      return { className: 'DPMSolverSinglestepScheduler', config: { ...config, ...finalSigmas, algorithm_type: p.prediction === 'data' ? 'dpmsolver++' : 'dpmsolver', solver_order: p.order, solver_type: 'midpoint', lower_order_final: true } };
    case 'solver.unipc':
      return { className: 'UniPCMultistepScheduler', config: { ...config, ...finalSigmas, solver_order: p.order, solver_type: p.variant, predict_x0: true, lower_order_final: true } };
    case 'solver.deis':
      return { className: 'DEISMultistepScheduler', config: { ...config, ...finalSigmas, solver_order: p.order, solver_type: 'logrho', algorithm_type: 'deis', lower_order_final: true } };
    case 'solver.sa_solver':
      return { className: 'SASolverScheduler', config: { ...config, predictor_order: p.predictorOrder, corrector_order: p.correctorOrder, algorithm_type: 'data_prediction', lower_order_final: true } };
    default:
      return `${solver.type} "${solver.id}": no diffusers scheduler runs this solver`;
  }
}

const same = (a: PipelineNode, b: BlockSpec, ignore: readonly string[] = []) => {
  if (a.type !== b.type) return false;
  const p = fullParams(a);
  const q = fullParams({ id: '', type: b.type, params: b.params });
  return Object.keys(q).every((k) => ignore.includes(k) || JSON.stringify(p[k]) === JSON.stringify(q[k]));
};

export async function exportDiffusersPython(doc: PipelineDoc, opts: DiffusersExportOptions, noiseOf?: (noise: PipelineNode, shape: readonly number[]) => Promise<Float64Array>): Promise<DiffusersExport> {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const src = (to: string) => {
    const from = feeding(doc, to);
    return from ? byId.get(from.split('.')[0]) : undefined;
  };
  const fail = (node: PipelineNode | undefined, message: string): DiffusersExport => ({ issues: [{ severity: 'error', message, nodeId: node?.id, pointer: node ? `/nodes/${doc.nodes.indexOf(node)}` : undefined }] });
  const samples = doc.nodes.filter((n) => n.type === 'sample');
  if (samples.length !== 1) return fail(samples[1], `a diffusers pipeline call is one sampling run; the pipeline has ${samples.length} Sample blocks`);
  const sample = samples[0];
  const solver = src(`${sample.id}.sampler`);
  const schedule = src(`${sample.id}.sigmas`);
  const guider = src(`${sample.id}.guider`);
  const noise = src(`${sample.id}.noise`);
  const latent = src(`${sample.id}.latent`);
  const model = guider ? src(`${guider.id}.model`) : undefined;
  if (!solver || !schedule) return fail(sample, 'the Sample block needs a solver and a schedule');
  if (!guider || guider.type !== 'guider.cfg') return fail(guider ?? sample, `${guider?.type ?? 'no guider'}: diffusers' pipelines guide with classifier-free guidance (guider.cfg)`);
  const g = fullParams(guider);
  if (g.scaleSchedule !== 'constant' || (g.interval as number[]).length || g.rescale !== 0) return fail(guider, `guider.cfg "${guider.id}": a guidance schedule, interval or rescale is not a diffusers pipeline argument; the export takes a constant guidance_scale`);
  if (!model || model.type !== 'model.folder') return fail(model ?? guider, 'the model must be a model folder (model.folder): the script loads it with from_pretrained');
  const positive = src(`${guider.id}.positive`);
  const negative = src(`${guider.id}.negative`);
  for (const c of [positive, negative]) {
    if (!c) continue;
    if (c.type !== 'cond.prompt') return fail(c, `${c.type} "${c.id}": the script passes prompt text (cond.prompt)`);
    const cp = fullParams(c);
    if ((cp.originalSize as number[]).length || (cp.cropTopLeft as number[]).length || (cp.targetSize as number[]).length) return fail(c, `cond.prompt "${c.id}": SDXL size conditioning is not exported`);
  }
  if (!positive) return fail(guider, 'the guider has no prompt');
  if (!latent || latent.type !== 'latent.empty') return fail(latent ?? sample, 'the export writes text-to-image scripts: the Sample block starts from latent.empty');
  const lp = fullParams(latent);
  if (!fullParams(sample).addNoise) return fail(sample, 'Sample "addNoise" off has no diffusers equivalent');

  const c = candidate(solver, schedule);
  if (typeof c === 'string') return fail(c.startsWith('schedule') ? schedule : solver, c);
  const sp = fullParams(schedule);
  const steps = sp.steps as number;
  const mapped = schedulerBlocks(c.className, c.config, steps);
  const eta = solver.type === 'solver.ddim_eta' ? (fullParams(solver).eta as number) : 0;
  const issues: InteropIssue[] = [];
  if (!same(solver, mapped.solver, solver.type === 'solver.ddim_eta' ? ['eta'] : [])) {
    return fail(solver, `${solver.type} "${solver.id}" has no diffusers equivalent with these options: ${c.className} runs ${JSON.stringify({ type: mapped.solver.type, ...mapped.solver.params })}`);
  }
  if (!same(schedule, mapped.schedule)) return fail(schedule, `${schedule.type} "${schedule.id}" has no ${c.className} equivalent: its timesteps would be ${JSON.stringify({ type: mapped.schedule.type, ...mapped.schedule.params })}`);
  const mp = fullParams(model);
  if (mp.roundTimesteps !== mapped.roundTimesteps) return fail(model, `model.folder "${model.id}": roundTimesteps ${mp.roundTimesteps}, but ${c.className} feeds the UNet ${mapped.roundTimesteps ? 'rounded' : 'fractional'} timesteps (roundTimesteps ${mapped.roundTimesteps})`);
  if (fullParams(sample).noiseScale !== mapped.noiseScale) return fail(sample, `Sample "${sample.id}": noiseScale "${fullParams(sample).noiseScale}", but ${c.className} starts from noise × init_noise_sigma ("${mapped.noiseScale}")`);
  for (const n of mapped.notes) issues.push({ severity: 'warning', message: n, nodeId: solver.id });

  let noiseCode: string;
  let noiseData: DiffusersExport['noise'];
  const np = noise ? fullParams(noise) : {};
  const shape = opts.latentShape;
  if (noise?.type === 'noise.torch' && np.order === 'diffusers' && np.source === 'cpu') {
    noiseCode = `    generator = torch.Generator("cpu").manual_seed(${np.seed})  # the same draws as the pipeline's noise.torch (order "diffusers")\n    latents = None`;
  } else {
    if (!noise) return fail(sample, 'the Sample block has no noise');
    if (!shape || !noiseOf) return fail(latent, 'the initial noise is saved as .npy, which needs the latent shape: give the model folder (its channels and size) or set latent.empty\'s channels, height and width');
    noiseData = { shape, data: await noiseOf(noise, shape) };
    noiseCode = `    generator = None\n    latents = torch.from_numpy(np.load(os.path.join(HERE, NOISE)))  # standard-normal, float32; the pipeline scales it by init_noise_sigma`;
    const stochastic = ['solver.euler_ancestral', 'solver.dpmpp_2m_sde', 'solver.sa_solver'].includes(solver.type) || eta > 0;
    if (stochastic) issues.push({ severity: 'warning', message: `${solver.type} "${solver.id}" draws noise on every step: the script passes the initial noise, but diffusers draws the per-step noise from its own generator (use noise.torch with order "diffusers" for the same draws)`, nodeId: solver.id });
  }
  const width = (lp.width as number) ? (lp.width as number) * 8 : shape ? shape[3] * 8 : undefined;
  const height = (lp.height as number) ? (lp.height as number) * 8 : shape ? shape[2] * 8 : undefined;
  const config = { ...c.config };
  const title = String(doc.metadata.title ?? opts.source);
  const call = [
    'PROMPT',
    `negative_prompt=NEGATIVE`,
    'num_inference_steps=STEPS',
    'guidance_scale=GUIDANCE',
    ...(width ? ['width=WIDTH', 'height=HEIGHT'] : []),
    `num_images_per_prompt=${lp.batch}`,
    ...(eta > 0 ? [`eta=${py(eta)}`] : []),
    ...(fullParams(positive).clipSkip ? [`clip_skip=${fullParams(positive).clipSkip}`] : []),
    'generator=generator',
    'latents=latents',
  ];
  const script = `#!/usr/bin/env python3
"""${title.replace(/"""/g, "'''")}

Exported by dpipe from ${opts.source}: the same scheduler loop (${c.className}), guidance, number of steps and
initial noise as the dpipe pipeline. Run it with diffusers (and, for an ONNX model folder, optimum[onnxruntime]):

    python3 ${opts.scriptFile}
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The model folder of the pipeline (an ONNX export in Optimum's layout runs with optimum's ORT pipeline; a diffusers
# folder or Hub id with PyTorch weights with DiffusionPipeline).
MODEL = os.path.join(HERE, ${py(opts.modelDir)})
SCHEDULER = ${py(c.className)}
SCHEDULER_CONFIG = ${py(config)}
STEPS = ${steps}
GUIDANCE = ${py(g.scale)}
PROMPT = ${py(String(positive.params.text ?? ''))}
NEGATIVE = ${negative ? py(String(negative.params.text ?? '')) : 'None'}
${width ? `WIDTH, HEIGHT = ${width}, ${height}\n` : ''}NOISE = ${py(opts.noiseFile)}
OUT = ${py(opts.imageFile)}


def load_pipeline():
    if os.path.exists(os.path.join(MODEL, "unet", "model.onnx")) or os.path.exists(os.path.join(MODEL, "transformer", "model.onnx")):
        from optimum.onnxruntime import ORTDiffusionPipeline
        return ORTDiffusionPipeline.from_pretrained(MODEL)
    from diffusers import DiffusionPipeline
    return DiffusionPipeline.from_pretrained(MODEL, torch_dtype=torch.float32)


def main():
    pipe = load_pipeline()
    import diffusers
    pipe.scheduler = getattr(diffusers, SCHEDULER).from_config(pipe.scheduler.config, **SCHEDULER_CONFIG)
${noiseCode}
    images = pipe(${call.join(', ')}).images
    for i, image in enumerate(images):
        image.save(os.path.join(HERE, OUT if len(images) == 1 else OUT.replace(".png", f"-{i}.png")))


if __name__ == "__main__":
    main()
`;
  return { script, noise: noiseData, issues, className: c.className, config };
}
