/**
 * The explicit σ list and the operations on schedules: truncate at a σ (img2img), split at a step, flip,
 * concatenate. Each operation is a plain function and a node with SIGMAS inputs.
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
