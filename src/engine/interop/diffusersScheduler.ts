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
import { discreteSigmas, DEFAULT_DISCRETE } from '../model/schedule';
import type { InteropIssue } from './issues';

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
  'DPMSolverMultistepScheduler', 'DPMSolverSinglestepScheduler', 'UniPCMultistepScheduler', 'DEISMultistepScheduler', 'SASolverScheduler',
  'FlowMatchEulerDiscreteScheduler',
] as const;

/** σ at training timesteps 200 and 800 of SD 1.x/2.x/SDXL: where diffusers' SASolverScheduler's default τ is 1. */
const SD_TABLE = discreteSigmas(DEFAULT_DISCRETE);
const SA_TAU_RANGE = [+SD_TABLE[200].toFixed(4), +SD_TABLE[800].toFixed(4)];

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
    case 'DPMSolverSinglestepScheduler':
      return {
        solver: { type: 'solver.dpm_singlestep', params: { preset: 'diffusers', order: num(config, 'solver_order', 2), prediction: str(config, 'algorithm_type', 'dpmsolver++') === 'dpmsolver++' ? 'data' : 'noise' } },
        schedule: discreteSchedule(config, steps, 'multistep', finalSigmas),
        noiseScale: 'vp',
        roundTimesteps: true,
        notes,
        reproduces: className,
      };
    case 'SASolverScheduler':
      // diffusers' default tau_func: τ = 1 on training timesteps 200 … 800, i.e. σ(200) … σ(800) of the model.
      return {
        solver: { type: 'solver.sa_solver', params: { preset: 'diffusers', predictorOrder: num(config, 'predictor_order', 2), correctorOrder: num(config, 'corrector_order', 2), tau: 1, tauSigmaRange: SA_TAU_RANGE } },
        schedule: discreteSchedule(config, steps, 'multistep', 'sigma_min'),
        noiseScale: 'vp',
        roundTimesteps: true,
        notes,
        reproduces: className,
      };
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

// ---------------------------------------------------------------------------------------------
// Import: a scheduler_config.json, strictly (every option either reproduced or reported).

/**
 * Options of each class whose value changes the sampling loop, with the value the blocks above reproduce (the
 * class's own default when the config omits the key). A config with another value is refused with the option's name.
 */
const REPRODUCED: Readonly<Record<string, Readonly<Record<string, { readonly value: unknown; readonly classDefault: unknown }>>>> = {
  DDIMScheduler: { clip_sample: { value: false, classDefault: true }, thresholding: { value: false, classDefault: false } },
  PNDMScheduler: { skip_prk_steps: { value: true, classDefault: false } },
  EulerDiscreteScheduler: { interpolation_type: { value: 'linear', classDefault: 'linear' }, use_beta_sigmas: { value: false, classDefault: false }, timestep_type: { value: 'discrete', classDefault: 'discrete' } },
  EulerAncestralDiscreteScheduler: {},
  HeunDiscreteScheduler: { use_beta_sigmas: { value: false, classDefault: false }, clip_sample: { value: false, classDefault: false } },
  LMSDiscreteScheduler: { use_beta_sigmas: { value: false, classDefault: false } },
  DPMSolverMultistepScheduler: {
    solver_type: { value: 'midpoint', classDefault: 'midpoint' }, lower_order_final: { value: true, classDefault: true }, euler_at_final: { value: false, classDefault: false },
    use_lu_lambdas: { value: false, classDefault: false }, use_beta_sigmas: { value: false, classDefault: false }, thresholding: { value: false, classDefault: false }, variance_type: { value: null, classDefault: null },
  },
  DPMSolverSinglestepScheduler: { solver_type: { value: 'midpoint', classDefault: 'midpoint' }, lower_order_final: { value: true, classDefault: true }, thresholding: { value: false, classDefault: false }, use_karras_sigmas: { value: false, classDefault: false } },
  UniPCMultistepScheduler: { predict_x0: { value: true, classDefault: true }, lower_order_final: { value: true, classDefault: true }, thresholding: { value: false, classDefault: false }, use_beta_sigmas: { value: false, classDefault: false } },
  DEISMultistepScheduler: { solver_type: { value: 'logrho', classDefault: 'logrho' }, lower_order_final: { value: true, classDefault: true }, algorithm_type: { value: 'deis', classDefault: 'deis' }, thresholding: { value: false, classDefault: false } },
  SASolverScheduler: { algorithm_type: { value: 'data_prediction', classDefault: 'data_prediction' }, lower_order_final: { value: true, classDefault: true }, tau_func: { value: null, classDefault: null }, use_karras_sigmas: { value: false, classDefault: false } },
  FlowMatchEulerDiscreteScheduler: { stochastic_sampling: { value: false, classDefault: false }, invert_sigmas: { value: false, classDefault: false }, use_karras_sigmas: { value: false, classDefault: false }, use_exponential_sigmas: { value: false, classDefault: false }, use_beta_sigmas: { value: false, classDefault: false } },
};

/** Options that describe the model (its noise levels and output), which dpipe takes from the model folder. */
const MODEL_OPTIONS = ['beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'num_train_timesteps', 'prediction_type', 'rescale_betas_zero_snr', 'shift', 'use_dynamic_shifting', 'base_shift', 'max_shift', 'base_image_seq_len', 'max_image_seq_len', 'shift_terminal', 'time_shift_type'];

export interface SchedulerConfigImport {
  readonly blocks?: SchedulerBlocks;
  readonly className: string;
  readonly issues: InteropIssue[];
}

/**
 * A diffusers `scheduler_config.json` as schedule + solver blocks (preset "diffusers"), or the options it has that
 * dpipe does not reproduce, each named and located (`/option`). `folderConfig` is the model folder's own scheduler
 * config, when known: model-level options (β schedule, prediction type, shift) come from the folder, so they must agree.
 */
export function importSchedulerConfig(config: Json, steps: number, folderConfig?: Json): SchedulerConfigImport {
  const issues: InteropIssue[] = [];
  const className = typeof config._class_name === 'string' ? config._class_name : '';
  if (!className) return { className, issues: [{ severity: 'error', message: 'the config has no "_class_name": not a diffusers scheduler config', pointer: '' }] };
  const reproduced = REPRODUCED[className];
  if (!reproduced) {
    return { className, issues: [{ severity: 'error', message: `${className} is not a scheduler dpipe reproduces (${SCHEDULER_CLASSES.join(', ')})`, pointer: '/_class_name' }] };
  }
  for (const [key, r] of Object.entries(reproduced)) {
    const v = key in config ? config[key] : r.classDefault;
    if (JSON.stringify(v) !== JSON.stringify(r.value)) {
      issues.push({ severity: 'error', message: `${className} with ${key} = ${JSON.stringify(v)}${key in config ? '' : ' (the class default)'}: dpipe's blocks reproduce ${key} = ${JSON.stringify(r.value)}`, pointer: key in config ? `/${key}` : '/_class_name' });
    }
  }
  if (className === 'DPMSolverMultistepScheduler') {
    const algo = str(config, 'algorithm_type', 'dpmsolver++');
    const order = num(config, 'solver_order', 2);
    if (!['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++'].includes(algo)) issues.push({ severity: 'error', message: `algorithm_type "${algo}": dpipe reproduces dpmsolver++, dpmsolver and sde-dpmsolver++ (order 2)`, pointer: '/algorithm_type' });
    if (algo === 'sde-dpmsolver++' && order !== 2) issues.push({ severity: 'error', message: `sde-dpmsolver++ with solver_order ${order}: dpipe reproduces order 2`, pointer: '/solver_order' });
    if (algo !== 'sde-dpmsolver++' && ![1, 2, 3].includes(order)) issues.push({ severity: 'error', message: `solver_order ${order} must be 1, 2 or 3`, pointer: '/solver_order' });
    if (algo === 'dpmsolver++' && order === 1) issues.push({ severity: 'error', message: 'dpmsolver++ with solver_order 1 (DDIM): use DDIMScheduler', pointer: '/solver_order' });
  }
  for (const key of ['use_exponential_sigmas', 'use_karras_sigmas']) {
    if (bool(config, key, false) && !['EulerDiscreteScheduler', 'HeunDiscreteScheduler', 'LMSDiscreteScheduler', 'DPMSolverMultistepScheduler', 'UniPCMultistepScheduler', 'DEISMultistepScheduler', 'FlowMatchEulerDiscreteScheduler', 'DDIMScheduler', 'PNDMScheduler', 'EulerAncestralDiscreteScheduler'].includes(className)) {
      issues.push({ severity: 'error', message: `${key} with ${className} is not reproduced`, pointer: `/${key}` });
    }
  }
  if (['EulerAncestralDiscreteScheduler', 'DDIMScheduler', 'PNDMScheduler'].includes(className) && (bool(config, 'use_karras_sigmas', false) || bool(config, 'use_exponential_sigmas', false))) {
    issues.push({ severity: 'error', message: `${className} has no Karras/exponential σ option in diffusers`, pointer: bool(config, 'use_karras_sigmas', false) ? '/use_karras_sigmas' : '/use_exponential_sigmas' });
  }
  if (className === 'PNDMScheduler' && str(config, 'prediction_type', 'epsilon') !== 'epsilon') {
    issues.push({ severity: 'error', message: 'PNDMScheduler on a v-prediction model combines the raw model outputs, which dpipe does not (it converts each evaluation first)', pointer: '/prediction_type' });
  }
  if (folderConfig) {
    for (const key of MODEL_OPTIONS) {
      if (key in config && JSON.stringify(config[key]) !== JSON.stringify(folderConfig[key])) {
        issues.push({ severity: 'error', message: `${key} = ${JSON.stringify(config[key])}, but the model folder's scheduler config has ${JSON.stringify(folderConfig[key])}: the model's noise levels come from the folder`, pointer: `/${key}` });
      }
    }
  } else {
    const set = MODEL_OPTIONS.filter((k) => k in config);
    if (set.length) issues.push({ severity: 'warning', message: `${set.join(', ')} describe the model: dpipe takes them from the model folder's own scheduler config`, pointer: `/${set[0]}` });
  }
  if (issues.some((i) => i.severity === 'error')) return { className, issues };
  const blocks = schedulerBlocks(className, config, steps);
  for (const n of blocks.notes) issues.push({ severity: 'warning', message: n, pointer: '/_class_name' });
  return { blocks, className, issues };
}
