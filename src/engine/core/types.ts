/**
 * The engine's core contracts. Everything else in `src/engine` is written against these types.
 *
 * Coordinates: the solvers live in the variance-exploding (VE) coordinates of Karras et al. 2022 (EDM):
 * x = x0 + σ·ε. A model of any parameterization is wrapped into a {@link Denoiser} by `model/wrap.ts`.
 */

/** A batch of latents. `shape[0]` is the batch size. Engine arithmetic is float64; models see float32. */
export interface Latent {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Who asked for a model evaluation; shown in the inspector's timeline. */
export type EvalRole = 'predictor' | 'corrector' | 'stage' | 'final';

/** Describes one model evaluation asked for by a solver. */
export interface EvalRequest {
  /** Index of the solver step (0-based, interval sigmas[step] → sigmas[step+1]). */
  readonly step: number;
  /** Which block asked: the predictor's main evaluation, an intermediate stage, a corrector, … */
  readonly role?: EvalRole;
  /**
   * The run's whole σ schedule. Solvers need not set it: the Sample node adds it before the request reaches
   * the guider, for guidance that depends on the step (a guidance-scale schedule over steps, CFG++).
   */
  readonly sigmas?: Float64Array;
}

/**
 * The one model contract: D(x, σ) → x̂0, in EDM/VE coordinates. Conditioning and guidance are bound into
 * the function by the wrappers, so solvers never see them. Every call is one counted model evaluation
 * (guidance may batch cond/uncond into one ONNX call but still counts as one evaluation of D).
 */
export type Denoiser = (x: Latent, sigma: number, req: EvalRequest) => Promise<Latent>;

/**
 * Standard-normal noise for stochastic solvers, in the shape of the state. k-diffusion's convention:
 * the sampler passes the interval (σ, σ_next) so that a Brownian-tree source can return the normalized
 * increment on that interval; an i.i.d. source ignores the arguments and returns the next draw.
 */
export type NoiseSampler = (sigma: number, sigmaNext: number) => Float64Array;

/** Context passed to every solver call. */
export interface SolverContext {
  /** Draws for stochastic solvers; deterministic solvers never call it. */
  readonly noise: NoiseSampler;
  /** Stops the run; the instrumented denoiser checks it before every model evaluation. */
  readonly signal?: AbortSignal;
  /** Called after each completed solver step with the new state (the inspector's x_t track). */
  readonly onStep?: (ev: StepEvent) => void;
  /** A corrector attached to this solver (issue: block library); undefined when none. */
  readonly corrector?: CorrectorHook;
}

export interface StepEvent {
  readonly step: number;
  readonly sigma: number;
  readonly sigmaNext: number;
  readonly x: Latent;
  readonly denoised?: Latent;
}

/**
 * A corrector hook: called by predictor–corrector capable solvers after the predictor produced x_next,
 * with the solver's model-output history; returns the corrected x_next (it may evaluate the model).
 */
export interface CorrectorHook {
  readonly id: string;
  correct(args: CorrectorArgs): Promise<Latent>;
}

export interface CorrectorArgs {
  readonly model: Denoiser;
  readonly step: number;
  readonly sigmas: Float64Array;
  readonly x: Latent;
  readonly xNext: Latent;
  /** Data predictions x̂0 at previous σs, most recent last (aligned with `historySigmas`). */
  readonly history: readonly Latent[];
  readonly historySigmas: readonly number[];
  readonly noise: NoiseSampler;
}

/**
 * A solver: (denoiser, x at sigmas[0], sigmas, options, context) → x at the last σ.
 * Multistep history lives in locals of the call; no state survives between calls.
 */
export type SolverFn<O> = (
  model: Denoiser,
  x: Latent,
  sigmas: Float64Array,
  options: O,
  ctx: SolverContext,
) => Promise<Latent>;

/** Everything the engine knows about a model's native noise schedule, in σ (VE) terms. */
export interface ModelSchedule {
  /** Smallest and largest σ the model was trained on. */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  /**
   * For discrete-time (DDPM) models: σ at each training timestep t = 0..N−1, ascending.
   * Time-uniform schedules (linspace/leading/trailing) and timestep rounding need it.
   */
  readonly discreteSigmas?: Float64Array;
  /** Continuous time ↔ σ maps where the model has them (VP continuous, flow). */
  readonly kind: 'discrete' | 'sigma' | 'edm' | 'flow';
  /**
   * Flow models from a model folder: the time shift their scheduler config asks for (diffusers'
   * FlowMatchEulerDiscreteScheduler `shift`, `use_dynamic_shifting`, …). Schedule blocks left at "auto" use it.
   */
  readonly flowShift?: FlowShiftConfig;
  /** Discrete models from a model folder: the scheduler config's timestep spacing, for schedule blocks left at "auto". */
  readonly spacing?: { readonly timestepSpacing: 'linspace' | 'leading' | 'trailing'; readonly stepsOffset: number };
}

/**
 * Rectified-flow time shift (Esser et al. 2024, "Scaling Rectified Flow Transformers for High-Resolution Image
 * Synthesis", §5.3.2, eq. 23: t' = s·t/(1 + (s − 1)·t); the resolution-dependent form with s = e^μ, Flux) as
 * diffusers' FlowMatchEulerDiscreteScheduler configures it.
 */
export interface FlowShiftConfig {
  /** Static shift s (SD3: 3.0). Ignored when `dynamic`. */
  readonly shift: number;
  /** Resolution-dependent shift: μ from the image's token count, linear between the two anchors. */
  readonly dynamic: boolean;
  readonly baseShift: number;
  readonly maxShift: number;
  readonly baseImageSeqLen: number;
  readonly maxImageSeqLen: number;
  /** `exponential`: t' = e^μ/(e^μ + (1/t − 1)); `linear`: t' = μ/(μ + (1/t − 1)). */
  readonly timeShiftType: 'exponential' | 'linear';
  /** Stretch the shifted schedule so it ends at this t (diffusers `shift_terminal`); 0 = off. */
  readonly shiftTerminal: number;
  readonly numTrainTimesteps: number;
  /** Latent pixels per token side (the transformer's patch size), for the token count. */
  readonly patchSize: number;
}
