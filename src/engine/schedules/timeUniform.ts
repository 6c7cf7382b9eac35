/**
 * Time-uniform schedules over a discrete-time model's training timesteps, with diffusers' three spacings
 * (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2: linspace,
 * leading, trailing). diffusers' scheduler families compute them differently, so the family is an option:
 *
 * - `euler` — EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, HeunDiscreteScheduler,
 *   LMSDiscreteScheduler (σ-space schedulers): linspace = linspace(0, N−1, n) (fractional timesteps, σ
 *   interpolated linearly in σ as numpy.interp does); leading = arange(n)·(N//n) + offset;
 *   trailing = round(arange(N, 0, −N/n)) − 1.
 * - `multistep` — DPMSolverMultistep/Singlestep, UniPCMultistep, DEISMultistep, SASolver: linspace =
 *   round(linspace(0, N−1, n+1)) reversed without its last value; leading = arange(n+1)·(N//(n+1)) + offset
 *   reversed without its last; trailing as above. σ = the training σ at those integer timesteps.
 * - `ddim` — DDIMScheduler, PNDMScheduler, DDPMScheduler: linspace = round(linspace(0, N−1, n));
 *   leading = arange(n)·(N//n) + offset; trailing as above.
 *
 * `round` is numpy's (halves to even). The end: `zero` (final_sigmas_type="zero") or `sigma_min`
 * (final_sigmas_type="sigma_min", and DDIM/PNDM with set_alpha_to_one=false whose last step goes to ᾱ_0,
 * i.e. σ = training σ at t = 0).
 */
import { DpipeError } from '../core/errors';
import { defineSchedule, type NodeType } from '../registry/node';
import { defineParams } from '../registry/params';
import { roundHalfEven } from '../model/schedule';
import { finalParam, finish, interpIndex, linspace, stepsParam, trainingSigmas, type FinalMode } from './common';

export const SPACINGS = ['linspace', 'leading', 'trailing'] as const;
export type Spacing = (typeof SPACINGS)[number];
export const CONVENTIONS = ['euler', 'multistep', 'ddim'] as const;
export type Convention = (typeof CONVENTIONS)[number];

function arangeDown(start: number, ratio: number): number[] {
  // numpy.arange(start, 0, -ratio): ceil(start/ratio) values start − i·ratio.
  const count = Math.ceil(start / ratio);
  return Array.from({ length: count }, (_, i) => start - i * ratio);
}

/** diffusers' timesteps (descending, possibly fractional for `euler` linspace). */
export function diffusersTimesteps(n: number, trainSteps: number, spacing: Spacing, convention: Convention, offset: number): number[] {
  const N = trainSteps;
  if (spacing === 'trailing') return arangeDown(N, N / n).map((t) => roundHalfEven(t) - 1);
  if (convention === 'multistep') {
    if (spacing === 'linspace') return [...linspace(0, N - 1, n + 1)].map(roundHalfEven).reverse().slice(0, n);
    const ratio = Math.floor(N / (n + 1));
    return Array.from({ length: n + 1 }, (_, i) => i * ratio + offset).reverse().slice(0, n);
  }
  if (spacing === 'linspace') {
    const t = [...linspace(0, N - 1, n)].reverse();
    return convention === 'ddim' ? t.map(roundHalfEven) : t;
  }
  const ratio = Math.floor(N / n);
  if (ratio < 1) throw new DpipeError('E_PARAM_VALUE', `leading spacing needs steps ≤ ${N} (the model's training timesteps); got ${n}.`);
  return Array.from({ length: n }, (_, i) => i * ratio + offset).reverse();
}

export function timeUniformSigmas(n: number, table: Float64Array, spacing: Spacing, convention: Convention, offset: number, final: FinalMode): Float64Array {
  const ts = diffusersTimesteps(n, table.length, spacing, convention, offset);
  for (const t of ts) {
    if (t < 0 || t > table.length - 1) {
      throw new DpipeError('E_PARAM_VALUE', `schedule.time_uniform: timestep ${t} is outside 0..${table.length - 1}; lower stepsOffset or the number of steps.`);
    }
  }
  return finish(ts.map((t) => interpIndex(t, table)), final, table[0]);
}

const PARAMS = defineParams(
  stepsParam(),
  {
    name: 'spacing',
    type: 'enum',
    default: 'linspace',
    options: SPACINGS,
    optionDocs: {
      linspace: 'evenly spaced over [0, N−1], including the last training step.',
      leading: 'multiples of N//n plus stepsOffset (Stable Diffusion v1\'s default with stepsOffset 1).',
      trailing: 'N−1 − multiples of N/n: always starts at the last training step (Lin et al. 2024).',
    },
    doc: "diffusers' timestep_spacing.",
  },
  {
    name: 'convention',
    type: 'enum',
    default: 'euler',
    options: CONVENTIONS,
    optionDocs: {
      euler: 'diffusers Euler/Euler a/Heun/LMS schedulers (n points, fractional linspace).',
      multistep: 'diffusers DPM-Solver, UniPC, DEIS, SA-Solver schedulers (n+1 points, rounded, last dropped).',
      ddim: 'diffusers DDIM/PNDM/DDPM schedulers (n points, rounded).',
    },
    doc: 'Which diffusers scheduler family\'s arithmetic to reproduce (they differ for linspace and leading).',
  },
  { name: 'stepsOffset', type: 'integer', default: 0, min: 0, max: 1000, doc: "diffusers' steps_offset for leading spacing (0 in diffusers' classes, 1 in Stable Diffusion's scheduler config)." },
  finalParam('zero'),
);

export const TIME_UNIFORM_SCHEDULES: NodeType[] = [
  defineSchedule({
    type: 'schedule.time_uniform',
    title: 'Time-uniform (diffusers)',
    doc: "Evenly spaced training timesteps of a discrete-time model with diffusers' linspace / leading / trailing spacing, as σ. Needs the model.",
    paper: 'Ho et al. 2020 (DDPM) / Song et al. 2021 (DDIM) uniform timesteps; spacings from Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2. Reproduces diffusers\' set_timesteps.',
    params: PARAMS,
    needsModel: true,
    sigmas(p, model) {
      const table = trainingSigmas('schedule.time_uniform', model);
      return timeUniformSigmas(p.steps, table, p.spacing, p.convention, p.stepsOffset, p.final);
    },
  }),
];
