/**
 * Schedules for rectified-flow models (SD3, Flux-style transformers) and the image-to-image start:
 *
 * - `schedule.flow_match`: diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps — flow times t linearly spaced,
 *   then time-shifted (Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution Image Synthesis",
 *   §5.3.2: t' = s·t/(1 + (s − 1)·t); or the resolution-dependent shift with μ, as the Flux pipeline passes it), then
 *   optionally stretched to end at `shift_terminal`, stored as float32, with 0 appended.
 * - `schedule.flow_shift`: the same time shift applied to any schedule (σ → t = σ/(1+σ) → shifted t' → σ'), so a
 *   Karras, simple or explicit schedule can be used on a flow model at its trained shift.
 * - `schedule.strength`: image-to-image's start part-way: of a schedule of N steps keep the last ⌊N·strength⌋, as
 *   diffusers' img2img pipelines' `get_timesteps` (Meng et al. 2022, "SDEdit").
 *
 * In the engine's VE coordinates flow time t is σ = t/(1 − t); t = 1 (pure noise) is `SIGMA_INFINITY`.
 */
import { DpipeError } from '../core/errors';
import type { FlowShiftConfig, Latent, ModelSchedule } from '../core/types';
import { defineBlock, type NodeType } from '../registry/node';
import type { ModelValue } from '../registry/types';
import { flowShiftMu, flowSigma, shiftFlowT, SIGMA_INFINITY } from '../model/schedule';
import { defineParams } from '../registry/params';
import { linspace, stepsParam } from './common';

const f32 = Math.fround;

export const FLOW_GRIDS = ['scheduler', 'uniform'] as const;
export type FlowGrid = (typeof FLOW_GRIDS)[number];

export interface FlowShift {
  /** Static shift s, or undefined with `mu` for the resolution-dependent form. */
  readonly shift?: number;
  readonly mu?: number;
  readonly timeShiftType: 'exponential' | 'linear';
  readonly shiftTerminal: number;
}

/** Flow time of a VE σ (σ ≥ SIGMA_INFINITY is t = 1). */
export function flowTOf(sigma: number): number {
  return sigma >= SIGMA_INFINITY ? 1 : sigma / (1 + sigma);
}

/** diffusers' `stretch_shift_to_terminal`: 1 − t scaled so the last t equals `terminal`. */
function stretchToTerminal(ts: Float64Array, terminal: number): Float64Array {
  const scale = (1 - ts[ts.length - 1]) / (1 - terminal);
  return ts.map((t) => 1 - (1 - t) / scale);
}

function applyShift(t: number, s: FlowShift): number {
  return s.mu !== undefined ? shiftFlowT(t, { mu: s.mu, timeShiftType: s.timeShiftType }) : shiftFlowT(t, { shift: s.shift });
}

/**
 * FlowMatchEulerDiscreteScheduler's σs (as flow times t, float32, descending, without the final 0) for n steps.
 * `scheduler` grid: linspace between the scheduler's own σ_max and σ_min — its training times 1..N/N, statically
 * shifted and float32 — then shifted again (what `set_timesteps(n)` does, e.g. in StableDiffusion3Pipeline);
 * `uniform`: linspace(1, 1/n, n) then shifted once (the σs the Flux pipeline passes).
 */
export function flowMatchTimes(n: number, s: FlowShift, grid: FlowGrid, numTrain = 1000): Float64Array {
  let ts: Float64Array;
  if (grid === 'scheduler') {
    // __init__: sigmas = timesteps / N in float32 torch arithmetic, statically shifted unless dynamic.
    const tMin = f32(f32(1) / f32(numTrain));
    const initShift = (t: number) => (s.mu !== undefined ? t : f32(f32(f32(s.shift! * t)) / f32(1 + f32(f32(s.shift! - 1) * t))));
    const sMax = initShift(1);
    const sMin = initShift(tMin);
    ts = linspace(sMax * numTrain, sMin * numTrain, n).map((t) => t / numTrain);
  } else {
    ts = linspace(1, 1 / n, n);
  }
  ts = ts.map((t) => applyShift(t, s));
  if (s.shiftTerminal > 0) ts = stretchToTerminal(ts, s.shiftTerminal);
  return ts.map(f32);
}

/** Flow times (descending) → VE σ with the final 0 appended. */
export function flowSigmas(ts: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ts.length + 1);
  for (let i = 0; i < ts.length; i++) out[i] = flowSigma(ts[i]);
  out[ts.length] = 0;
  return out;
}

const SHIFT_PARAMS = defineParams(
  { name: 'shift', type: 'number', default: 0, min: 0, max: 100, step: 0.1, doc: 'Static shift s (SD3: 3.0). 0 = the connected model\'s scheduler config, else 1 (no shift).' },
  {
    name: 'dynamic', type: 'enum', default: 'auto', options: ['auto', 'on', 'off'],
    doc: 'Resolution-dependent shift (diffusers use_dynamic_shifting; Flux, SD3.5): μ from the image\'s token count.',
    optionDocs: { auto: 'As the model\'s scheduler config says (off without a model).', on: 'Shift by μ.', off: 'Static shift s.' },
  },
  { name: 'mu', type: 'number', default: 0, min: -10, max: 10, step: 0.05, doc: 'μ of the dynamic shift; 0 = computed from the latent\'s token count (connect the latent) with the model\'s base/max shift anchors.' },
  { name: 'shiftTerminal', type: 'number', default: -1, min: -1, max: 0.99, advanced: true, doc: 'Stretch the shifted schedule to end at this flow time (diffusers shift_terminal). −1 = the model\'s config (off without a model); 0 = off.' },
  {
    name: 'timeShiftType', type: 'enum', default: 'auto', options: ['auto', 'exponential', 'linear'], advanced: true,
    doc: 'Form of the dynamic shift: exponential t\' = e^μ/(e^μ + 1/t − 1), linear t\' = μ/(μ + 1/t − 1).',
  },
);

interface ShiftParams { shift: number; dynamic: 'auto' | 'on' | 'off'; mu: number; shiftTerminal: number; timeShiftType: 'auto' | 'exponential' | 'linear' }

/** Resolves the shift from the block's params, the model's scheduler config and the latent's size. */
export function resolveShift(block: string, p: ShiftParams, model: ModelSchedule | undefined, latent: Latent | undefined): FlowShift {
  const cfg: FlowShiftConfig | undefined = model?.flowShift;
  const dynamic = p.dynamic === 'on' || (p.dynamic === 'auto' && cfg?.dynamic === true);
  const timeShiftType = p.timeShiftType !== 'auto' ? p.timeShiftType : cfg?.timeShiftType ?? 'exponential';
  const shiftTerminal = p.shiftTerminal >= 0 ? p.shiftTerminal : cfg?.shiftTerminal ?? 0;
  if (!dynamic) {
    const shift = p.shift > 0 ? p.shift : cfg?.shift ?? 1;
    return { shift, timeShiftType, shiftTerminal };
  }
  let mu = p.mu;
  if (mu === 0) {
    if (!latent) throw new DpipeError('E_INPUT_MISSING', `${block}: a dynamic shift computes μ from the image's size; connect the latent (e.g. latent.empty) or set mu`);
    const patch = cfg?.patchSize ?? 2;
    const seq = Math.floor(latent.shape[2] / patch) * Math.floor(latent.shape[3] / patch);
    mu = flowShiftMu(seq, {
      baseImageSeqLen: cfg?.baseImageSeqLen ?? 256, maxImageSeqLen: cfg?.maxImageSeqLen ?? 4096, baseShift: cfg?.baseShift ?? 0.5, maxShift: cfg?.maxShift ?? 1.15,
    });
  }
  return { mu, timeShiftType, shiftTerminal };
}

const FLOW_MATCH_PARAMS = defineParams(
  stepsParam(28, 'Number of solver steps (SD3\'s default: 28).'),
  ...SHIFT_PARAMS,
  {
    name: 'grid', type: 'enum', default: 'scheduler', options: FLOW_GRIDS,
    doc: 'Where the evenly spaced flow times lie before the shift.',
    optionDocs: {
      scheduler: 'Between the scheduler\'s own σ_max and σ_min (its training times, already statically shifted) — diffusers\' set_timesteps(n), as StableDiffusion3Pipeline calls it; the end time is shifted twice, a quirk kept for parity.',
      uniform: 'linspace(1, 1/n, n), shifted once: the σs the Flux pipeline passes to the scheduler.',
    },
  },
);

const LATENT_IN = { name: 'latent', type: 'LATENT', optional: true, doc: 'The latent to be sampled, for the token count of a dynamic shift.' } as const;
const MODEL_IN = { name: 'model', type: 'MODEL', optional: true, doc: 'The flow model whose scheduler config gives the shift (settings left at their "auto" value).' } as const;

const STRENGTH_PARAMS = defineParams({ name: 'strength', type: 'number', default: 0.8, min: 0, max: 1, step: 0.05, doc: 'How much of the schedule to run: 1 = all of it, 0.6 = the last 60 % of the steps.' });

export const FLOW_SCHEDULES: NodeType[] = [
  defineBlock({
    type: 'schedule.flow_match',
    category: 'Schedule',
    title: 'Flow matching (diffusers)',
    doc:
      'The σ schedule of diffusers\' FlowMatchEulerDiscreteScheduler for rectified-flow models (SD3, Flux-style): evenly ' +
      'spaced flow times, time-shifted (static s, or μ from the image size), optionally stretched to a terminal time, as ' +
      'float32, ending at 0. Settings at "auto" come from the connected model folder\'s scheduler config. Any solver can ' +
      'run on it; solver.euler reproduces the scheduler\'s own step.',
    paper: 'Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution Image Synthesis", §5.3.2 (eq. 23, timestep shifting); diffusers FlowMatchEulerDiscreteScheduler.set_timesteps.',
    inputs: [MODEL_IN, LATENT_IN],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'Noise levels, descending, ending at 0.' }],
    params: FLOW_MATCH_PARAMS,
    async evaluate(_ctx, inputs, p) {
      const model = inputs.model as ModelValue | undefined;
      const s = resolveShift('schedule.flow_match', p, model?.schedule, inputs.latent as Latent | undefined);
      return { sigmas: flowSigmas(flowMatchTimes(p.steps, s, p.grid, model?.schedule.flowShift?.numTrainTimesteps ?? 1000)) };
    },
  }),
  defineBlock({
    type: 'schedule.flow_shift',
    category: 'Schedule',
    title: 'Flow time shift',
    doc:
      'Applies a rectified-flow time shift to any schedule: each σ becomes flow time t = σ/(1+σ), is shifted (static s, or ' +
      'μ from the image size), and goes back to σ. Lets any schedule (Karras, simple, explicit, …) run on a flow model at its ' +
      'trained shift; settings at "auto" come from the connected model folder.',
    paper: 'Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution Image Synthesis", §5.3.2, eq. 23.',
    inputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'The schedule to shift.' }, MODEL_IN, LATENT_IN],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'The shifted schedule.' }],
    params: SHIFT_PARAMS,
    async evaluate(_ctx, inputs, p) {
      const model = inputs.model as ModelValue | undefined;
      const s = resolveShift('schedule.flow_shift', p, model?.schedule, inputs.latent as Latent | undefined);
      const src = inputs.sigmas as Float64Array;
      let ts = src.map(flowTOf).map((t) => applyShift(t, s));
      if (s.shiftTerminal > 0) {
        // Stretch the positive part; a final 0 stays the end.
        const k = ts[ts.length - 1] === 0 ? ts.length - 1 : ts.length;
        ts = Float64Array.from([...stretchToTerminal(ts.subarray(0, k), s.shiftTerminal), ...ts.subarray(k)]);
      }
      return { sigmas: ts.map((t) => (t <= 0 ? 0 : flowSigma(t))) };
    },
  }),
  defineBlock({
    type: 'schedule.strength',
    category: 'Schedule',
    title: 'Image-to-image strength',
    doc:
      'Starts a schedule part-way for image-to-image: of its N steps keep the last ⌊N·strength⌋ (diffusers\' get_timesteps), ' +
      'so the Sample block noises the start latent to that σ and denoises from there. strength 1 keeps every step (pure noise).',
    paper: 'Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential Equations"; diffusers StableDiffusionImg2ImgPipeline.get_timesteps.',
    inputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'The full schedule.' }],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'Its last ⌊N·strength⌋ steps.' }],
    params: STRENGTH_PARAMS,
    async evaluate(ctx, inputs, { strength }) {
      const src = inputs.sigmas as Float64Array;
      const n = src.length - 1;
      const keep = Math.min(Math.floor(n * strength), n);
      if (keep < 1) throw new DpipeError('E_PARAM_VALUE', `schedule.strength "${ctx.nodeId}": strength ${strength} of ${n} steps keeps no step; raise it to at least ${+(1 / n).toPrecision(3)}`);
      return { sigmas: src.slice(n - keep) };
    },
  }),
];
