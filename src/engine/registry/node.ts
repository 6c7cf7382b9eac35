/**
 * Executable node types: metadata plus an `evaluate` that maps input values to output values.
 * `defineSolver` / `defineSchedule` turn a solver or schedule function into a node type so that every
 * block family is written once, as a plain function, and gets its palette entry for free.
 */
import type { RunBudget } from '../core/budget';
import type { Latent, ModelSchedule, SolverFn, StepEvent } from '../core/types';

export type { RunBudget } from '../core/budget';
import type { CorrectorValue, ModelValue, NodeTypeInfo, Params, ParamSpec, PortSpec, SamplerValue, SolverInfo } from './types';

/** Per-evaluation report: one per model evaluation, the one progress shape of the engine. */
export interface EvalEvent {
  /** 0-based count of model evaluations so far in this Sample node. */
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly role: string;
  readonly x: Latent;
  readonly denoised: Latent;
  readonly branches?: Readonly<Record<string, Latent>>;
  /** Milliseconds spent inside the model for this evaluation. */
  readonly modelMs: number;
  /** The model's time input for this σ (`ModelValue.timeOf`): null for σ-input models; absent when unknown. */
  readonly timestep?: number | null;
}

/** Services a running graph offers its nodes. Implemented by `run/`. */
export interface RunServices {
  readonly signal?: AbortSignal;
  /** Batch size for this run (CLI --batch / node default). */
  readonly batch?: number;
  /** Seed override for this run (CLI --seed): replaces every seeded noise node's seed. */
  readonly seed?: number;
  /** Opens (or reuses) a model; implemented over the onnxruntime adapter. */
  loadModel(params: Params, absPath: string): Promise<ModelValue>;
  /** Reads a .npy file as float64 with its shape. */
  readNpy(absPath: string): Promise<Latent>;
  /** Called by Sample nodes. */
  onEval?(nodeId: string, ev: EvalEvent): void;
  onStep?(nodeId: string, ev: StepEvent): void;
  /**
   * `nfe`: the model evaluations the run will make, exact (correctors included) unless `nfeExact` is false (a
   * solver that picks its own steps: then the nominal nfePerStep × steps).
   */
  onSampleStart?(nodeId: string, info: { sigmas: Float64Array; nfe: number; nfeExact?: boolean; shape: readonly number[] }): void;
  /**
   * Defaults for model blocks whose own setting is "auto": the run's execution provider (CLI --provider, the
   * extension's dpipe.executionProvider setting), CPU fallback, and onnxruntime threads.
   */
  readonly modelDefaults?: { readonly provider?: string; readonly fallbackToCpu?: boolean; readonly threads?: number };
  /** Replaces the initial noise draw of every Sample block (a standard-normal array of the latent's shape). */
  readonly initialNoise?: Latent;
  /** A note for the user that does not stop the run (a truncated prompt, …); recorded in run.json. */
  warn?(nodeId: string, message: string): void;
  /** Called by Output nodes to write files; returns the paths written. */
  writeOutput?(nodeId: string, kind: 'png' | 'npy', name: string, data: Uint8Array): Promise<string>;
  /** Limits of this run: a block refuses to allocate beyond them (E_BUDGET, with the numbers). */
  readonly budget?: RunBudget;
}


export interface EvalContext {
  readonly nodeId: string;
  /** Directory of the .dpipe file; relative paths resolve against it. */
  readonly baseDir: string;
  readonly services: RunServices;
}

export interface NodeType extends NodeTypeInfo {
  evaluate(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, params: Params): Promise<Record<string, unknown>>;
  /**
   * Pre-run checks of a block whose `evaluate` evaluates the model or writes files (categories Sample and Output):
   * everything `evaluate` would refuse, found without a model evaluation and without writing, thrown as the same
   * DpipeError. Validation (`run/validate.ts`) evaluates every other block as a run does — models are opened (their
   * headers, tensor names, ranks and types checked), files read, schedules computed — and calls `check` on these
   * with the values their inputs would have. A block that can find a problem before it runs puts it here, so that
   * "valid" means "runs". It may return stand-ins for its outputs with the right shapes (a Sample block returns its
   * start state as `latent`), so the checks of the blocks downstream see them; inputs it cannot know are absent.
   */
  check?(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, params: Params): Promise<Record<string, unknown> | void>;
}

// ---------------------------------------------------------------------------------------------

export interface SolverDefinition {
  readonly type: string; // e.g. 'solver.euler'
  readonly title: string;
  readonly doc: string;
  readonly paper: string;
  readonly params: readonly ParamSpec[];
  readonly info: SolverInfo;
  readonly run: SolverFn<Params>;
}

const CORRECTOR_INPUT: PortSpec = { name: 'corrector', type: 'CORRECTOR', optional: true, doc: 'A corrector run after each predictor step.' };

/** A SAMPLER block: no inputs but an optional corrector; outputs the solver with its options. */
export function defineSolver(def: SolverDefinition): NodeType {
  return {
    type: def.type,
    category: 'Solver',
    title: def.title,
    doc: def.doc,
    paper: def.paper,
    inputs: def.info.acceptsCorrector ? [CORRECTOR_INPUT] : [],
    outputs: [{ name: 'sampler', type: 'SAMPLER', doc: 'The solver with these options.' }],
    params: def.params,
    solver: def.info,
    async evaluate(_ctx, inputs, params) {
      const sampler: SamplerValue = {
        type: def.type,
        info: def.info,
        run: def.run,
        params,
        corrector: inputs.corrector as CorrectorValue | undefined,
      };
      return { sampler };
    },
  };
}

export interface ScheduleDefinition {
  readonly type: string; // e.g. 'schedule.karras'
  readonly title: string;
  readonly doc: string;
  readonly paper?: string;
  readonly params: readonly ParamSpec[];
  /** Whether the schedule cannot be computed without the model's schedule (e.g. time-uniform). */
  readonly needsModel: boolean;
  /**
   * σ values, descending, ending where the run ends (usually with a final 0). `model` is the connected
   * model's schedule when the MODEL input is wired.
   */
  sigmas(params: Params, model: ModelSchedule | undefined): Float64Array;
}

export function defineSchedule(def: ScheduleDefinition): NodeType {
  return {
    type: def.type,
    category: 'Schedule',
    title: def.title,
    doc: def.doc,
    paper: def.paper,
    inputs: [{ name: 'model', type: 'MODEL', optional: !def.needsModel, doc: "The model whose noise levels the schedule uses (σ range, training timesteps)." }],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'Noise levels, descending.' }],
    params: def.params,
    async evaluate(_ctx, inputs, params) {
      const model = inputs.model as ModelValue | undefined;
      return { sigmas: def.sigmas(params, model?.schedule) };
    },
  };
}
