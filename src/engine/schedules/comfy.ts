/**
 * Schedules defined over the model's own noise levels, as ComfyUI's schedulers compute them
 * (comfyanonymous/ComfyUI `comfy/samplers.py`: normal_scheduler, simple_scheduler, ddim_scheduler,
 * beta_scheduler, linear_quadratic_schedule, kl_optimal_scheduler; `comfy_extras/nodes_align_your_steps.py`),
 * plus the cosine and logSNR-uniform schedules.
 *
 * "The model's table" is ComfyUI's model_sampling.sigmas: the training σs of a discrete model (ascending), or
 * 1000 log-uniform σs between σ_min and σ_max for continuous models. "Model time" is the model's time
 * coordinate: the fractional training timestep (log-σ interpolation) for discrete models, flow time
 * t = σ/(1+σ) for flow models, log σ otherwise (EDM's c_noise = ¼ log σ up to a constant factor).
 */
import { DpipeError } from '../core/errors';
import type { ModelSchedule } from '../core/types';
import { sigmaToT, tToSigma, roundHalfEven } from '../model/schedule';
import { defineSchedule, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import { betaPpf } from './betaDist';
import { finalParam, finish, linspace, overRange, sigmaRange, sigmaRangeParams, stepsParam } from './common';
import { exponentialSigmas } from './kdiffusion';

function need(block: string, model: ModelSchedule | undefined): ModelSchedule {
  if (!model) throw new DpipeError('E_INPUT_MISSING', `${block}: needs the model connected (it uses the model's noise levels).`);
  return model;
}

/** ComfyUI's model_sampling.sigmas, ascending. */
export function modelTable(model: ModelSchedule): Float64Array {
  if (model.discreteSigmas) return model.discreteSigmas;
  return linspace(Math.log(model.sigmaMin), Math.log(model.sigmaMax), 1000).map(Math.exp);
}

export function modelTime(model: ModelSchedule, sigma: number): number {
  if (model.discreteSigmas) return sigmaToT(sigma, model.discreteSigmas);
  if (model.kind === 'flow') return sigma / (1 + sigma);
  return Math.log(sigma);
}

export function modelSigma(model: ModelSchedule, t: number): number {
  if (model.discreteSigmas) return tToSigma(t, model.discreteSigmas);
  if (model.kind === 'flow') return t / (1 - t);
  return Math.exp(t);
}

/** ComfyUI normal_scheduler (= k-diffusion DiscreteSchedule.get_sigmas on discrete models): model time uniform. */
export function normalSigmas(model: ModelSchedule, steps: number, sgm: boolean): Float64Array {
  const start = modelTime(model, model.sigmaMax);
  const end = modelTime(model, model.sigmaMin);
  const ts = sgm ? linspace(start, end, steps + 1).subarray(0, steps) : linspace(start, end, steps);
  return finish(ts.map((t) => modelSigma(model, t)), 'zero', 0);
}

/** ComfyUI simple_scheduler: every (N/steps)-th training σ from the top. */
export function simpleSigmas(table: Float64Array, steps: number): Float64Array {
  const ss = table.length / steps;
  return finish(Array.from({ length: steps }, (_, x) => table[table.length - 1 - Math.floor(x * ss)]), 'zero', 0);
}

/** ComfyUI ddim_scheduler: training σs at 1, 1 + N//steps, 1 + 2·(N//steps), … reversed, after a final 0. */
export function ddimUniformSigmas(table: Float64Array, steps: number): Float64Array {
  const ss = Math.max(Math.floor(table.length / steps), 1);
  const sigs = [0];
  for (let x = 1; x < table.length; x += ss) sigs.push(table[x]);
  return Float64Array.from(sigs.reverse());
}

/**
 * Lee et al. 2024, "Beta Sampling is All You Need" (arXiv 2407.12173): timesteps at the Beta(α, β) quantiles
 * of 1 − i/steps, rounded to training steps (numpy rint), repeats dropped (ComfyUI beta_scheduler).
 */
export function betaSigmas(table: Float64Array, steps: number, alpha: number, beta: number): Float64Array {
  const total = table.length - 1;
  const sigs: number[] = [];
  let last = -1;
  for (let i = 0; i < steps; i++) {
    const t = roundHalfEven(betaPpf(1 - i / steps, alpha, beta) * total);
    if (t !== last) sigs.push(table[t]);
    last = t;
  }
  return finish(sigs, 'zero', 0);
}

/**
 * Mochi's linear-quadratic schedule (genmoai/models, as ComfyUI linear_quadratic_schedule): 1 − σ/σ_max
 * linear up to `thresholdNoise` over the first `linearSteps` steps, then quadratic to 1; times σ_max. On flow
 * models the values are flow times (σ_max = 1) mapped to σ.
 */
export function linearQuadraticValues(steps: number, thresholdNoise: number, linearSteps: number): number[] {
  if (steps === 1) return [1, 0];
  const ls = linearSteps > 0 ? linearSteps : Math.floor(steps / 2);
  const lin = Array.from({ length: ls }, (_, i) => (i * thresholdNoise) / ls);
  const diff = ls - thresholdNoise * steps;
  const qs = steps - ls;
  const qc = diff / (ls * qs * qs);
  const lc = thresholdNoise / ls - (2 * diff) / (qs * qs);
  const k = qc * ls * ls;
  const quad = Array.from({ length: steps - ls }, (_, j) => {
    const i = ls + j;
    return qc * i * i + lc * i + k;
  });
  return [...lin, ...quad, 1].map((v) => 1 - v);
}

/** KL-optimal: σ = tan(r·atan σ_min + (1 − r)·atan σ_max), r = i/(n−1) (ComfyUI kl_optimal_scheduler). */
export function klOptimalSigmas(steps: number, sigmaMin: number, sigmaMax: number): Float64Array {
  const a = Math.atan(sigmaMin);
  const b = Math.atan(sigmaMax);
  return finish(Array.from({ length: steps }, (_, i) => {
    const r = steps === 1 ? 0 : i / (steps - 1);
    return Math.tan(r * a + (1 - r) * b);
  }), 'zero', 0);
}

/**
 * Align Your Steps (Sabour, Fidler & Kreis 2024, "Align Your Steps: Optimizing Sampling Schedules in
 * Diffusion Models"): the published optimized 10-step noise levels, from NVIDIA's AYS how-to page
 * (research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html), as ComfyUI's AlignYourStepsScheduler lists them.
 */
export const AYS_LEVELS = {
  SD1: [14.6146412293, 6.4745760956, 3.8636745985, 2.694615152, 1.8841921177, 1.3943805092, 0.9642583904, 0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
  SDXL: [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289, 0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
  SVD: [700.0, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
} as const;
export type AysModel = keyof typeof AYS_LEVELS;

/** Log-linear interpolation of a decreasing list to `count` values (the AYS how-to's loglinear_interp). */
export function loglinearInterp(levels: readonly number[], count: number): Float64Array {
  const ys = [...levels].reverse().map(Math.log);
  const xs = linspace(0, 1, ys.length);
  const out = linspace(0, 1, count).map((x) => {
    let i = 0;
    while (i < xs.length - 2 && x > xs[i + 1]) i++;
    const w = (x - xs[i]) / (xs[i + 1] - xs[i]);
    return Math.exp(ys[i] + w * (ys[i + 1] - ys[i]));
  });
  return out.reverse();
}

export const AYS_ENDS = ['zero', 'sigma_min'] as const;
export type AysEnd = (typeof AYS_ENDS)[number];

export function aysSigmas(which: AysModel, steps: number, end: AysEnd): Float64Array {
  const levels = AYS_LEVELS[which];
  const s = steps + 1 === levels.length ? Float64Array.from(levels) : loglinearInterp(levels, steps + 1);
  if (end === 'zero') s[s.length - 1] = 0;
  return s;
}

/**
 * The cosine schedule of Nichol & Dhariwal 2021 ("Improved Denoising Diffusion Probabilistic Models", eq. 17)
 * in continuous time: ᾱ(t) = f(t)/f(0), f(t) = cos²(((t + s)/(1 + s))·π/2), σ = √((1 − ᾱ)/ᾱ); t uniform between
 * the times of σ_max and σ_min.
 */
export function cosineSigmas(steps: number, sigmaMin: number, sigmaMax: number, s: number): Float64Array {
  const c0 = Math.cos((s / (1 + s)) * (Math.PI / 2));
  const theta = (t: number) => ((t + s) / (1 + s)) * (Math.PI / 2);
  // σ(t)² = f(0)/f(t) − 1  ⇒  cos θ = c0/√(1 + σ²)
  const tOf = (sigma: number) => (Math.acos(c0 / Math.sqrt(1 + sigma * sigma)) * 2 * (1 + s)) / Math.PI - s;
  const sigmaOf = (t: number) => Math.sqrt((c0 * c0) / Math.cos(theta(t)) ** 2 - 1);
  return linspace(tOf(sigmaMax), tOf(sigmaMin), steps).map(sigmaOf);
}

// ---------------------------------------------------------------------------------------------

const STEPS = stepsParam();
const RANGE0 = sigmaRangeParams(0, 0);
const NORMAL_PARAMS = defineParams(STEPS);
const BETA_PARAMS = defineParams(
  STEPS,
  { name: 'alpha', type: 'number', default: 0.6, min: 0, exclusiveMin: true, doc: 'α of the Beta distribution (0.6 in the paper and ComfyUI).' },
  { name: 'beta', type: 'number', default: 0.6, min: 0, exclusiveMin: true, doc: 'β of the Beta distribution (0.6).' },
);
const LQ_PARAMS = defineParams(
  STEPS,
  { name: 'thresholdNoise', type: 'number', default: 0.025, min: 0, exclusiveMin: true, max: 1, doc: 'Noise fraction reached by the linear part (0.025).' },
  { name: 'linearSteps', type: 'integer', default: 0, min: 0, max: 9999, doc: 'Steps of the linear part, fewer than `steps`; 0 = steps/2.' },
);
const KL_PARAMS = defineParams(STEPS, ...RANGE0);
const AYS_PARAMS = defineParams(
  { name: 'steps', type: 'integer', default: 10, min: 1, max: 1000, doc: 'Number of steps; other than 10, the published levels are interpolated log-linearly.' },
  { name: 'model', type: 'enum', default: 'SD1', options: ['SD1', 'SDXL', 'SVD'], doc: 'Which published schedule (Stable Diffusion 1.5, SDXL, Stable Video Diffusion).' },
  {
    name: 'end',
    type: 'enum',
    default: 'zero',
    options: AYS_ENDS,
    optionDocs: { zero: 'the last level becomes 0 (ComfyUI AlignYourStepsScheduler).', sigma_min: 'end at the last published level (σ_min).' },
    doc: 'How the run ends.',
  },
);
const COSINE_PARAMS = defineParams(STEPS, ...RANGE0, { name: 's', type: 'number', default: 0.008, min: 0, doc: 'Offset s of eq. 17 (0.008).' }, finalParam('zero'));
const LOGSNR_PARAMS = defineParams(STEPS, ...RANGE0, finalParam('zero'));

export const COMFY_SCHEDULES: NodeType[] = [
  defineSchedule({
    type: 'schedule.normal',
    title: 'Normal (model-time uniform)',
    doc: "Evenly spaced in the model's own time from σ_max to σ_min, then 0 (ComfyUI \"normal\"; on discrete models k-diffusion's DiscreteSchedule.get_sigmas, fractional timesteps).",
    paper: 'k-diffusion (Crowson) DiscreteSchedule.get_sigmas; ComfyUI normal_scheduler.',
    params: NORMAL_PARAMS,
    needsModel: true,
    sigmas: (p, m) => normalSigmas(need('schedule.normal', m), p.steps, false),
  }),
  defineSchedule({
    type: 'schedule.sgm_uniform',
    title: 'SGM uniform',
    doc: "Model time uniform over steps + 1 points with the last (σ_min) dropped, then 0 (ComfyUI \"sgm_uniform\", Stability's sgm uniform discretization).",
    paper: 'ComfyUI normal_scheduler(sgm=True); Stability-AI generative-models (sgm) uniform discretization.',
    params: NORMAL_PARAMS,
    needsModel: true,
    sigmas: (p, m) => normalSigmas(need('schedule.sgm_uniform', m), p.steps, true),
  }),
  defineSchedule({
    type: 'schedule.simple',
    title: 'Simple',
    doc: "Every (N/steps)-th of the model's noise levels from the top, then 0 (ComfyUI \"simple\").",
    paper: 'ComfyUI simple_scheduler.',
    params: NORMAL_PARAMS,
    needsModel: true,
    sigmas: (p, m) => simpleSigmas(modelTable(need('schedule.simple', m)), p.steps),
  }),
  defineSchedule({
    type: 'schedule.ddim_uniform',
    title: 'DDIM uniform',
    doc: "The model's noise levels at training steps 1, 1 + N//steps, … (DDIM's uniform skipping), descending, then 0 (ComfyUI \"ddim_uniform\").",
    paper: 'Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", §4.2 (uniform sub-sequence); ComfyUI ddim_scheduler.',
    params: NORMAL_PARAMS,
    needsModel: true,
    sigmas: (p, m) => ddimUniformSigmas(modelTable(need('schedule.ddim_uniform', m)), p.steps),
  }),
  defineSchedule({
    type: 'schedule.beta',
    title: 'Beta',
    doc: "Training timesteps at the quantiles of a Beta(α, β) distribution (dense at both ends for α = β < 1), repeats dropped, then 0 (ComfyUI \"beta\").",
    paper: 'Lee, Lin, Lee & Chen 2024, "Beta Sampling is All You Need: Efficient Image Generation Strategy for Diffusion Models using Stepwise Spectral Analysis" (arXiv 2407.12173); ComfyUI beta_scheduler.',
    params: BETA_PARAMS,
    needsModel: true,
    sigmas(o, m) {
      return betaSigmas(modelTable(need('schedule.beta', m)), o.steps, o.alpha, o.beta);
    },
  }),
  defineSchedule({
    type: 'schedule.linear_quadratic',
    title: 'Linear-quadratic',
    doc: "Mochi's schedule: linear in noise fraction for the first half of the steps (to thresholdNoise), quadratic after, times σ_max (flow models: as flow times). Ends at 0.",
    paper: 'Genmo 2024, Mochi 1 (genmoai/models, infer.py linear_quadratic_schedule); ComfyUI linear_quadratic_schedule.',
    params: LQ_PARAMS,
    needsModel: true,
    sigmas(o, m) {
      const model = need('schedule.linear_quadratic', m);
      if (o.linearSteps >= o.steps && o.steps > 1) {
        throw new DpipeError('E_PARAM_VALUE', `schedule.linear_quadratic: linearSteps (${o.linearSteps}) must be fewer than steps (${o.steps}), or 0 for steps/2`);
      }
      const v = linearQuadraticValues(o.steps, o.thresholdNoise, o.linearSteps);
      if (model.kind === 'flow') {
        const tMax = model.sigmaMax / (1 + model.sigmaMax);
        return Float64Array.from(v, (t) => (t === 0 ? 0 : Math.min(t, tMax) / (1 - Math.min(t, tMax))));
      }
      return Float64Array.from(v, (x) => x * model.sigmaMax);
    },
  }),
  defineSchedule({
    type: 'schedule.kl_optimal',
    title: 'KL-optimal',
    doc: 'σ = tan(r·atan σ_min + (1 − r)·atan σ_max), r uniform in [0, 1], then 0: the schedule minimizing the KL divergence of the Euler (DDIM) discretization for the paper\'s model class.',
    paper: 'Sabour, Fidler & Kreis 2024, "Align Your Steps: Optimizing Sampling Schedules in Diffusion Models", §3 / Appendix (closed-form KL-optimal schedule); AUTOMATIC1111 PR #15608, ComfyUI kl_optimal_scheduler.',
    params: KL_PARAMS,
    needsModel: false,
    sigmas(o, m) {
      const [lo, hi] = sigmaRange('schedule.kl_optimal', o.sigmaMin, o.sigmaMax, m);
      return klOptimalSigmas(o.steps, lo, hi);
    },
  }),
  defineSchedule({
    type: 'schedule.ays',
    title: 'Align Your Steps',
    doc: 'The published optimized noise levels for Stable Diffusion 1.5, SDXL and Stable Video Diffusion (10 steps), log-linearly interpolated to other step counts.',
    paper: 'Sabour, Fidler & Kreis 2024, "Align Your Steps: Optimizing Sampling Schedules in Diffusion Models"; levels from NVIDIA\'s AYS how-to page (as listed in ComfyUI nodes_align_your_steps.py).',
    params: AYS_PARAMS,
    needsModel: false,
    sigmas(o) {
      return aysSigmas(o.model, o.steps, o.end);
    },
  }),
  defineSchedule({
    type: 'schedule.cosine',
    title: 'Cosine',
    doc: 'Time-uniform steps under the cosine noise schedule ᾱ(t) = cos²(((t+s)/(1+s))·π/2)/cos²((s/(1+s))·π/2), between the times of σ_max and σ_min, then the end.',
    paper: 'Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17.',
    params: COSINE_PARAMS,
    needsModel: false,
    sigmas: overRange('schedule.cosine', (o, lo, hi) => cosineSigmas(o.steps, lo, hi, o.s)),
  }),
  defineSchedule({
    type: 'schedule.logsnr_uniform',
    title: 'logSNR-uniform',
    doc: 'Uniform in λ = −log σ (half log-SNR) between the model\'s σ_max and σ_min (or the given range), then the end: the step-size rule DPM-Solver recommends. Same grid as the exponential schedule.',
    paper: 'Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps", §3.3 (uniform logSNR steps).',
    params: LOGSNR_PARAMS,
    needsModel: false,
    sigmas: overRange('schedule.logsnr_uniform', (o, lo, hi) => exponentialSigmas(o.steps, lo, hi)),
  }),
];
