/**
 * The explicit σ list and the operations on schedules: truncate at a σ (img2img), split at a step, keep the
 * last steps, drop the next-to-last σ, set one σ, flip, concatenate. Each operation is a plain function and a node with SIGMAS inputs.
 */
import { DpipeError } from '../core/errors';
import { defineBlock, defineSchedule, type NodeType } from '../registry/node';
import type { PortSpec } from '../registry/types';
import { defineParams } from '../registry/params';
import { checkDescending, finalParam, finish } from './common';

export const TRUNCATE_MODES = ['drop', 'insert'] as const;
export type TruncateMode = (typeof TRUNCATE_MODES)[number];

/**
 * Starts the schedule at σ_start (img2img: the run begins from the input image noised to σ_start).
 * `drop`: keep the values ≤ σ_start (the first kept value is where the run starts, as diffusers' `strength`
 * and ComfyUI's denoise keep the tail of a schedule). `insert`: also put σ_start itself in front when it is
 * not already a value of the schedule.
 */
export function truncateSigmas(s: Float64Array, sigmaStart: number, mode: TruncateMode): Float64Array {
  const kept = [...s].filter((v) => v <= sigmaStart);
  if (mode === 'insert' && kept[0] !== sigmaStart) kept.unshift(sigmaStart);
  if (kept.length < 2) throw new DpipeError('E_PARAM_VALUE', `schedule.truncate: σ = ${sigmaStart} leaves ${kept.length} value(s) of the schedule [${[...s].map((v) => +v.toPrecision(4)).join(', ')}]; a run needs at least 2. Raise σ or use mode "insert".`);
  return Float64Array.from(kept);
}

/** ComfyUI's SplitSigmas: [σ_0..σ_k] and [σ_k..σ_end] (the split σ is in both, so the runs chain). */
export function splitSigmas(s: Float64Array, step: number): [Float64Array, Float64Array] {
  if (!Number.isInteger(step) || step < 0 || step > s.length - 1) throw new DpipeError('E_PARAM_VALUE', `schedule.split: step must be an integer from 0 to ${s.length - 1} (the schedule has ${s.length - 1} steps); got ${step}.`);
  return [s.slice(0, step + 1), s.slice(step)];
}

/** Reverses the schedule (for inversion: clean → noisy). */
export function flipSigmas(s: Float64Array): Float64Array {
  return s.slice().reverse();
}

/**
 * The last `steps` steps of a schedule (its last steps + 1 values; all of it when it is shorter), as Python's
 * `sigmas[-(steps + 1):]`: how ComfyUI's KSampler and BasicScheduler start part-way (denoise < 1: a schedule of
 * ⌊steps/denoise⌋ steps, of which the last `steps` are run), how its AlignYourStepsScheduler applies denoise, and how
 * AUTOMATIC1111's img2img keeps the tail of its schedule.
 */
export function lastSteps(s: Float64Array, steps: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new DpipeError('E_PARAM_VALUE', `schedule.last_steps: steps must be an integer ≥ 1; got ${steps}.`);
  return s.slice(Math.max(0, s.length - (steps + 1)));
}

/**
 * Drops the next-to-last σ: [σ_0 … σ_{n−2}, σ_n]. k-diffusion-based tools compute a schedule of one step more and
 * drop this value for second-order samplers whose last step would otherwise be tiny (ComfyUI's KSampler for dpm_2,
 * dpm_2_ancestral, uni_pc, uni_pc_bh2; AUTOMATIC1111's "discard_next_to_last_sigma" for DPM2, DPM2 a, DPM++ 3M SDE and
 * its "Always discard next-to-last sigma" option).
 */
export function discardPenultimate(s: Float64Array): Float64Array {
  if (s.length < 3) throw new DpipeError('E_PARAM_VALUE', `schedule.discard_penultimate: needs at least 3 σ values (2 steps); got ${s.length}.`);
  return Float64Array.from([...s.subarray(0, s.length - 2), s[s.length - 1]]);
}

/**
 * Replaces one σ: `index` counts from the start (0 = the first), negative values from the end (−1 = the last). The
 * operations ComfyUI applies to a schedule in place: SetFirstSigma (index 0), KSamplerAdvanced's "force full denoise"
 * (the last σ of a schedule cut at end_at_step becomes 0), its uni_pc sampler's stop at σ = 0.001 instead of 0, and
 * FlipSigmas' replacement of a starting 0 by 0.0001.
 */
export function setSigma(s: Float64Array, index: number, sigma: number): Float64Array {
  const i = index < 0 ? s.length + index : index;
  if (!Number.isInteger(index) || i < 0 || i >= s.length) throw new DpipeError('E_PARAM_VALUE', `schedule.set_sigma: index ${index} is outside the schedule's ${s.length} values (use 0 … ${s.length - 1}, or −1 … −${s.length} from the end).`);
  const out = s.slice();
  out[i] = sigma;
  return out;
}

/** a then b; a shared boundary value (a's last = b's first) appears once. */
export function concatSigmas(a: Float64Array, b: Float64Array): Float64Array {
  const skip = a.length > 0 && b.length > 0 && a[a.length - 1] === b[0] ? 1 : 0;
  const out = new Float64Array(a.length + b.length - skip);
  out.set(a, 0);
  out.set(b.subarray(skip), a.length);
  return out;
}

const IN: PortSpec = { name: 'sigmas', type: 'SIGMAS', doc: 'The schedule to transform.' };
const OUT: PortSpec = { name: 'sigmas', type: 'SIGMAS', doc: 'The resulting schedule.' };

const EXPLICIT_PARAMS = defineParams(
  { name: 'values', type: 'numberList', default: [14.6146, 6.4745, 3.8636, 2.6946, 1.8841, 1.3943, 0.9642, 0.6523, 0.3977, 0.1501, 0.0292], min: 0, doc: 'σ values, in run order (usually descending).' },
  finalParam('zero'),
);
const TRUNCATE_PARAMS = defineParams(
  { name: 'sigma', type: 'number', default: 1, min: 0, exclusiveMin: true, doc: 'σ where the run starts.' },
  {
    name: 'mode',
    type: 'enum',
    default: 'drop',
    options: TRUNCATE_MODES,
    optionDocs: { drop: 'keep the schedule\'s values ≤ σ.', insert: 'keep the values ≤ σ and start exactly at σ.' },
    doc: 'Whether the run starts at the first kept value or exactly at σ.',
  },
);
const SPLIT_PARAMS = defineParams({ name: 'step', type: 'integer', default: 5, min: 0, doc: 'Split after this many steps.' });
const LAST_STEPS_PARAMS = defineParams({ name: 'steps', type: 'integer', default: 10, min: 1, max: 10000, doc: 'How many of the last steps to keep (the whole schedule when it has fewer).' });
const SET_SIGMA_PARAMS = defineParams(
  { name: 'index', type: 'integer', default: -1, min: -100000, max: 100000, doc: 'Which σ: 0 = the first, 1 = the second, …; −1 = the last, −2 = the one before, ….' },
  { name: 'sigma', type: 'number', default: 0, min: 0, doc: 'The new value.' },
);

export const SCHEDULE_OP_NODES: NodeType[] = [
  defineSchedule({
    type: 'schedule.explicit',
    title: 'Explicit σ list',
    doc: 'σ values typed in (or pasted from a paper), then the end chosen by `final` ("none" to use the list as is; "sigma_min" repeats the last value\'s role: the list\'s smallest value).',
    params: EXPLICIT_PARAMS,
    needsModel: false,
    sigmas(p) {
      if (p.values.length < 1) throw new DpipeError('E_PARAM_VALUE', 'schedule.explicit: values needs at least one σ.');
      return checkDescending('schedule.explicit', finish(p.values, p.final, Math.min(...p.values)));
    },
  }),
  defineBlock({
    type: 'schedule.truncate',
    category: 'Schedule',
    title: 'Truncate at σ',
    doc: 'Starts a schedule at a given σ (img2img / partial denoising): drops the larger values.',
    inputs: [IN],
    outputs: [OUT],
    params: TRUNCATE_PARAMS,
    async evaluate(_ctx, inputs, p) {
      return { sigmas: truncateSigmas(inputs.sigmas as Float64Array, p.sigma, p.mode) };
    },
  }),
  defineBlock({
    type: 'schedule.split',
    category: 'Schedule',
    title: 'Split at step',
    doc: 'Splits a schedule after `step` steps into a high-σ part and a low-σ part sharing the split σ (ComfyUI SplitSigmas), e.g. to change solver or model midway.',
    inputs: [IN],
    outputs: [
      { name: 'high', type: 'SIGMAS', doc: 'σ_0 … σ_step.' },
      { name: 'low', type: 'SIGMAS', doc: 'σ_step … the end.' },
    ],
    params: SPLIT_PARAMS,
    async evaluate(_ctx, inputs, p) {
      const [high, low] = splitSigmas(inputs.sigmas as Float64Array, p.step);
      return { high, low };
    },
  }),
  defineBlock({
    type: 'schedule.last_steps',
    category: 'Schedule',
    title: 'Last steps',
    doc: 'Keeps the last `steps` steps of a schedule (its last steps + 1 σ values), to start part-way: ComfyUI\'s denoise < 1 (KSampler, BasicScheduler: a schedule of ⌊steps/denoise⌋ steps of which the last `steps` run; AlignYourStepsScheduler), AUTOMATIC1111\'s img2img.',
    paper: 'ComfyUI KSampler.set_steps / BasicScheduler (sigmas[-(steps + 1):]); AUTOMATIC1111 KDiffusionSampler.sample_img2img.',
    inputs: [IN],
    outputs: [OUT],
    params: LAST_STEPS_PARAMS,
    async evaluate(_ctx, inputs, p) {
      return { sigmas: lastSteps(inputs.sigmas as Float64Array, p.steps) };
    },
  }),
  {
    type: 'schedule.discard_penultimate',
    category: 'Schedule',
    title: 'Discard penultimate σ',
    doc: 'Drops the next-to-last σ of a schedule (σ_0 … σ_{n−2}, σ_n): ComfyUI\'s KSampler does this for dpm_2, dpm_2_ancestral, uni_pc and uni_pc_bh2 on a schedule of steps + 1, AUTOMATIC1111 for DPM2, DPM2 a and DPM++ 3M SDE.',
    paper: 'k-diffusion-based tools: ComfyUI KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS; AUTOMATIC1111 discard_next_to_last_sigma.',
    inputs: [IN],
    outputs: [OUT],
    params: [],
    async evaluate(_ctx, inputs) {
      return { sigmas: discardPenultimate(inputs.sigmas as Float64Array) };
    },
  },
  defineBlock({
    type: 'schedule.set_sigma',
    category: 'Schedule',
    title: 'Set one σ',
    doc: 'Replaces one σ of a schedule (index 0 = the first, −1 = the last): ComfyUI\'s SetFirstSigma, the 0 that KSamplerAdvanced puts at the end of a schedule cut short ("force full denoise"), the σ = 0.001 its uni_pc sampler stops at, and the 0.0001 FlipSigmas starts at instead of 0.',
    paper: 'ComfyUI SetFirstSigma, KSampler.sample(force_full_denoise), sample_unipc, FlipSigmas.',
    inputs: [IN],
    outputs: [OUT],
    params: SET_SIGMA_PARAMS,
    async evaluate(_ctx, inputs, p) {
      return { sigmas: setSigma(inputs.sigmas as Float64Array, p.index, p.sigma) };
    },
  }),
  {
    type: 'schedule.flip',
    category: 'Schedule',
    title: 'Flip',
    doc: 'Reverses a schedule (σ ascending: runs the ODE from data to noise, e.g. DDIM inversion).',
    inputs: [IN],
    outputs: [OUT],
    params: [],
    async evaluate(_ctx, inputs) {
      return { sigmas: flipSigmas(inputs.sigmas as Float64Array) };
    },
  },
  {
    type: 'schedule.concat',
    category: 'Schedule',
    title: 'Concatenate',
    doc: 'Schedule a followed by schedule b; when a ends where b starts, that σ appears once.',
    inputs: [
      { name: 'a', type: 'SIGMAS', doc: 'First part.' },
      { name: 'b', type: 'SIGMAS', doc: 'Second part.' },
    ],
    outputs: [OUT],
    params: [],
    async evaluate(_ctx, inputs) {
      return { sigmas: concatSigmas(inputs.a as Float64Array, inputs.b as Float64Array) };
    },
  },
];
