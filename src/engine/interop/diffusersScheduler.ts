/**
 * diffusers scheduler configs (`scheduler/scheduler_config.json`, a `_class_name` with its options) as dpipe blocks:
 * the schedule block and the solver block (with `preset: "diffusers"`) that reproduce the scheduler's own sampling
 * loop, and the start convention (`init_noise_sigma`: a VP-space scheduler starts from z, i.e. x_T = √(σ²+1)·z in VE
 * coordinates; a σ-space scheduler from z·σ_max, or z·√(σ_max²+1) with "leading" spacing).
 *
 * Each entry says what the scheduler class does in its `set_timesteps` and `step`, as read in diffusers'
 * `src/diffusers/schedulers/`: which timestep arithmetic (the `convention` of schedule.time_uniform), how it ends
 * (`final_sigmas_type`, `set_alpha_to_one`), and whether the model is fed rounded timesteps.
 */
import type { Params } from '../registry/types';

type Json = Readonly<Record<string, unknown>>;

export interface BlockSpec {
  readonly type: string;
  readonly params: Params;
}

export interface SchedulerBlocks {
  readonly solver: BlockSpec;
  readonly schedule: BlockSpec;
  /** The Sample block's noiseScale: `vp` for x_T = √(σ₀²+1)·z, `sigma` for x_T = σ₀·z. */
  readonly noiseScale: 'sigma' | 'vp';
  /** model.folder's roundTimesteps: diffusers' multistep schedulers feed round(t) for σs between training steps. */
  readonly roundTimesteps: boolean;
  /** What could not be reproduced exactly, for the user. */
  readonly notes: readonly string[];
  /** The diffusers class this reproduces ('' when it is a fallback). */
  readonly reproduces: string;
}

/** The diffusers scheduler classes {@link schedulerBlocks} reproduces. */
export const SCHEDULER_CLASSES = [
  'DDIMScheduler', 'PNDMScheduler', 'EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'HeunDiscreteScheduler', 'LMSDiscreteScheduler',
  'DPMSolverMultistepScheduler', 'UniPCMultistepScheduler', 'DEISMultistepScheduler', 'FlowMatchEulerDiscreteScheduler',
] as const;

const str = (c: Json, k: string, d: string) => (typeof c[k] === 'string' ? (c[k] as string) : d);
const num = (c: Json, k: string, d: number) => (typeof c[k] === 'number' ? (c[k] as number) : d);
const bool = (c: Json, k: string, d: boolean) => (typeof c[k] === 'boolean' ? (c[k] as boolean) : d);

/** The schedule block of a discrete scheduler with the config's spacing, Karras/exponential σs, and end. */
function discreteSchedule(c: Json, steps: number, convention: 'euler' | 'multistep' | 'ddim', final: 'zero' | 'sigma_min'): BlockSpec {
  if (bool(c, 'use_karras_sigmas', false)) return { type: 'schedule.karras', params: { steps, sigmaMin: 0, sigmaMax: 0, rho: 7, final } };
  if (bool(c, 'use_exponential_sigmas', false)) return { type: 'schedule.exponential', params: { steps, sigmaMin: 0, sigmaMax: 0, final } };
  return {
    type: 'schedule.time_uniform',
    params: { steps, spacing: str(c, 'timestep_spacing', 'leading'), convention, stepsOffset: num(c, 'steps_offset', 0), final },
  };
}

/**
 * The blocks that reproduce a diffusers scheduler of class `className` with `config` over `steps` steps. A class
 * dpipe does not reproduce falls back to DPM-Solver++(2M) on the config's spacing, with a note.
 */
export function schedulerBlocks(className: string, config: Json, steps: number): SchedulerBlocks {
  const notes: string[] = [];
  const finalSigmas = str(config, 'final_sigmas_type', 'zero') === 'sigma_min' ? 'sigma_min' : 'zero';
  const leading = str(config, 'timestep_spacing', 'leading') === 'leading';
  const karras = bool(config, 'use_karras_sigmas', false);
  switch (className) {
    case 'FlowMatchEulerDiscreteScheduler':
      return {
        solver: { type: 'solver.euler', params: { preset: 'diffusers' } },
        schedule: { type: 'schedule.flow_match', params: { steps, grid: 'scheduler' } },
        noiseScale: 'sigma',
        roundTimesteps: false,
        notes,
        reproduces: className,
      };
    case 'DDIMScheduler':
      return {
        solver: { type: 'solver.ddim_eta', params: { preset: 'diffusers', eta: 0 } },
        schedule: discreteSchedule(config, steps, 'ddim', bool(config, 'set_alpha_to_one', true) ? 'zero' : 'sigma_min'),
        noiseScale: 'vp',
        roundTimesteps: true,
        notes,
        reproduces: className,
      };
    case 'PNDMScheduler':
      if (!bool(config, 'skip_prk_steps', false)) notes.push('PNDMScheduler with skip_prk_steps=false (PRK warm-up) is run with PLMS warm-up');
      if (str(config, 'prediction_type', 'epsilon') !== 'epsilon') notes.push('PNDM on a v-prediction model combines converted predictions (diffusers combines raw outputs)');
      return {
        solver: { type: 'solver.pndm', params: { preset: 'diffusers' } },
        schedule: discreteSchedule(config, steps, 'ddim', bool(config, 'set_alpha_to_one', false) ? 'zero' : 'sigma_min'),
        noiseScale: 'vp',
        roundTimesteps: true,
        notes,
        reproduces: className,
      };
    case 'EulerDiscreteScheduler':
    case 'EulerAncestralDiscreteScheduler':
    case 'HeunDiscreteScheduler':
    case 'LMSDiscreteScheduler': {
      const type = { EulerDiscreteScheduler: 'solver.euler', EulerAncestralDiscreteScheduler: 'solver.euler_ancestral', HeunDiscreteScheduler: 'solver.heun', LMSDiscreteScheduler: 'solver.lms' }[className]!;
      return {
        solver: { type, params: { preset: 'diffusers' } },
        schedule: discreteSchedule(config, steps, 'euler', finalSigmas),
        // init_noise_sigma: σ_max for linspace/trailing, √(σ_max²+1) for leading.
        noiseScale: leading && !karras ? 'vp' : 'sigma',
        roundTimesteps: false,
        notes,
        reproduces: className,
      };
    }
    case 'DPMSolverMultistepScheduler':
    case 'UniPCMultistepScheduler':
    case 'DEISMultistepScheduler': {
      const order = num(config, 'solver_order', className === 'DEISMultistepScheduler' ? 2 : 2);
      let solver: BlockSpec;
      if (className === 'UniPCMultistepScheduler') solver = { type: 'solver.unipc', params: { preset: 'diffusers', order, variant: str(config, 'solver_type', 'bh2') === 'bh1' ? 'bh1' : 'bh2' } };
      else if (className === 'DEISMultistepScheduler') solver = { type: 'solver.deis', params: { preset: 'diffusers', order } };
      else {
        const algo = str(config, 'algorithm_type', 'dpmsolver++');
        if (algo === 'sde-dpmsolver++') solver = { type: 'solver.dpmpp_2m_sde', params: { preset: 'diffusers' } };
        else if (algo === 'dpmsolver++') solver = order === 3 ? { type: 'solver.dpmpp_3m', params: { preset: 'diffusers' } } : { type: 'solver.dpmpp_2m', params: { preset: 'diffusers' } };
        else solver = { type: 'solver.dpm_multistep', params: { preset: 'diffusers', order } };
      }
      return { solver, schedule: discreteSchedule(config, steps, 'multistep', finalSigmas), noiseScale: 'vp', roundTimesteps: true, notes, reproduces: className };
    }
    default:
      notes.push(`${className || 'the folder\'s scheduler'} is not reproduced by name; DPM-Solver++(2M) is used on its timestep spacing`);
      return {
        solver: { type: 'solver.dpmpp_2m', params: { preset: 'diffusers' } },
        schedule: discreteSchedule(config, steps, 'multistep', finalSigmas),
        noiseScale: 'vp',
        roundTimesteps: true,
        notes,
        reproduces: '',
      };
  }
}
