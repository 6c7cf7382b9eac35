/**
 * Executable node types: metadata plus an `evaluate` that maps input values to output values.
 * `defineSolver` / `defineSchedule` turn a solver or schedule function into a node type so that every
 * block family is written once, as a plain function, and gets its palette entry for free.
 */
import type { RunBudget } from '../core/budget';
import type { CorrectorHook, Denoiser, Latent, ModelSchedule, SolverContext, SolverFn, StepEvent } from '../core/types';
import { readParams, type OptionsOf } from './params';
import { presetParam, readPresetParams, type NamedPresets, type PresetTable } from './presets';
import type { CorrectorInfo, CorrectorValue, ModelValue, NodeTypeInfo, Params, ParamSpec, PortSpec, SamplerValue, SolverInfo } from './types';

export type { RunBudget } from '../core/budget';

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
  /** SAMPLER blocks made by {@link defineSolver}: the solver's runtime entry (options, NFE, presets, tests). */
  readonly solverEntry?: SolverEntry;
}

// ---------------------------------------------------------------------------------------------

/**
 * Any block from its metadata, parameter specs and an `evaluate` that receives the block's options typed from
 * those specs (defaults filled in, checked by the parameter codec): no block reads or checks its params itself.
 */
export interface BlockDefinition<P extends readonly ParamSpec[]> extends Omit<NodeTypeInfo, 'params'> {
  readonly params: P;
  evaluate(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, o: OptionsOf<P>): Promise<Record<string, unknown>>;
  /** The block's pre-run checks ({@link NodeType.check}), on its typed options. */
  check?(ctx: EvalContext, inputs: Readonly<Record<string, unknown>>, o: OptionsOf<P>): Promise<Record<string, unknown> | void>;
}

export function defineBlock<const P extends readonly ParamSpec[]>(def: BlockDefinition<P>): NodeType {
  const { check } = def;
  return {
    ...def,
    evaluate: async (ctx, inputs, params) => def.evaluate(ctx, inputs, readParams(def.type, def.params, params)),
    check: check ? async (ctx, inputs, params) => check(ctx, inputs, readParams(def.type, def.params, params)) : undefined,
  };
}

/** A CORRECTOR block: the hook it builds from its options, and which predictors it can follow. */
export interface CorrectorDefinition<P extends readonly ParamSpec[]> {
  readonly type: string; // e.g. 'corrector.sa'
  readonly title: string;
  readonly doc: string;
  readonly paper: string;
  readonly params: P;
  /** What its CORRECTOR output is, for the port's documentation. */
  readonly output: string;
  readonly follows: CorrectorInfo['follows'];
  readonly iidNoise?: boolean;
  /** Model evaluations it adds per solver step, from the options. */
  readonly nfePerStep: number | ((o: OptionsOf<P>) => number);
  make(o: OptionsOf<P>): CorrectorHook;
}

export function defineCorrector<const P extends readonly ParamSpec[]>(def: CorrectorDefinition<P>): NodeType {
  const perStep = (o: OptionsOf<P>): number => (typeof def.nfePerStep === 'number' ? def.nfePerStep : def.nfePerStep(o));
  return defineBlock({
    type: def.type,
    category: 'Corrector',
    title: def.title,
    doc: def.doc,
    paper: def.paper,
    inputs: [],
    outputs: [{ name: 'corrector', type: 'CORRECTOR', doc: def.output }],
    params: def.params,
    corrector: { nfePerStep: perStep(readParams(def.type, def.params, {})), follows: def.follows, ...(def.iidNoise ? { iidNoise: true } : {}) },
    async evaluate(_ctx, _inputs, o) {
      const corrector: CorrectorValue = { type: def.type, params: o, nfePerStep: perStep(o), make: () => def.make(o) };
      return { corrector };
    },
  });
}

// ---------------------------------------------------------------------------------------------

/** The Gaussian-data grids of the strong-order measurement (test/helpers/convergence.ts). */
export type OrderGrid = 'exponential' | 'warm' | 'linear';

/**
 * One measured-order case of a solver: the options, the step counts (coarse to fine) and the order the slope of
 * log error against log steps must show within 0.3 (default: the block's `order`).
 */
export interface OrderCase<O = Params> {
  readonly params?: Partial<O>;
  readonly order?: number;
  readonly steps: readonly number[];
  /** Strong order: the σ grid (default "exponential": log-uniform from 20 to 0.05). */
  readonly grid?: OrderGrid;
  /** Weak order: per-step noise from one Brownian path instead of i.i.d. draws. */
  readonly brownian?: boolean;
  /** Why the case expects what it expects; part of the test's name. */
  readonly note?: string;
}

/**
 * A solver's test declarations, read by the suites that loop over the registry:
 * - `convergence`: strong order on Gaussian data against the exact probability-flow solution
 *   (test/solvers/convergence.test.ts); `weakOrder`: weak order of the terminal second moment, computed exactly
 *   (test/stochastic/order.test.ts). A block with neither says where its order is tested in `orderTestedElsewhere`.
 * - Parity: the golden reference runs are pipelines (test/fixtures/golden-pipelines); every preset must appear in
 *   one, or `presetsWithoutGolden` says why not; a block with no golden run at all says why in `noGolden`
 *   (test/golden/pipelines.test.ts checks both ways).
 */
export interface SolverTests<O = Params> {
  readonly convergence?: readonly OrderCase<O>[];
  readonly weakOrder?: readonly OrderCase<O>[];
  readonly orderTestedElsewhere?: string;
  readonly presetsWithoutGolden?: Readonly<Record<string, string>>;
  readonly noGolden?: string;
}

/**
 * A SAMPLER block's definition: metadata, parameters, presets, theoretical order, model evaluations, the
 * algorithm on typed options, and its test declarations — every fact about the solver in one place.
 * `O` is the options type derived from `params` (`OptionsOf`), so `solve`, presets, `nfe` and the test cases are
 * checked against the parameter specs by tsc.
 */
export interface SolverDefinition<P extends readonly ParamSpec[], L = undefined, O = OptionsOf<P>> {
  readonly type: string; // e.g. 'solver.euler'
  readonly title: string;
  readonly doc: string;
  readonly paper: string;
  /** The options; a `preset` parameter is added in front when `presets` is given. */
  readonly params: P;
  /** Named presets (reference implementations), each with the options it fixes. */
  readonly presets?: PresetTable<O>;
  /** Theoretical convergence order of the ODE solver (strong order for SDE solvers). */
  readonly order: number;
  /** Model evaluations per step at these options (adaptive solvers: per attempted step). */
  readonly nfePerStep: number | ((o: O) => number);
  /**
   * Exact model evaluations on `sigmas` (correctors not included) when it is not `nfePerStep` × steps (e.g. one
   * evaluation less on a final step to σ = 0); undefined when the run decides (adaptive step size).
   */
  readonly nfe?: (sigmas: Float64Array, o: O) => number | undefined;
  readonly stochastic: boolean;
  readonly acceptsCorrector?: boolean;
  readonly supports?: SolverInfo['supports'];
  readonly adaptive?: boolean;
  readonly ddimStep?: Partial<O>;
  readonly noStepToZero?: Partial<O>;
  /** Reads what the options point to (a fitted statistics file) when the block is evaluated; passed to `solve`. */
  readonly load?: (o: O, baseDir: string) => L;
  /** The algorithm: x at sigmas[0] → x at the last σ, on read options. */
  solve(model: Denoiser, x: Latent, sigmas: Float64Array, o: O, ctx: SolverContext, loaded: L): Promise<Latent>;
  readonly tests: SolverTests<O>;
}

/** The runtime half of a solver entry, as the registry and the test suites use it (options untyped). */
export interface SolverEntry {
  /** The solver on raw params: defaults filled in, checked, the preset applied (what tests and other engines call). */
  readonly run: SolverFn<Params>;
  /** The options the solver runs with: defaults filled in, checked, the preset applied. */
  options(params: Params | undefined): Params;
  /** Exact model evaluations on `sigmas` (correctors not included); undefined when the run decides. */
  nfe(sigmas: Float64Array, params: Params | undefined): number | undefined;
  readonly presets: NamedPresets;
  readonly tests: SolverTests;
}

export type SolverNode = NodeType & { readonly solverEntry: SolverEntry };

const CORRECTOR_INPUT: PortSpec = { name: 'corrector', type: 'CORRECTOR', optional: true, doc: 'A corrector run after each predictor step.' };

/** Steps of a schedule (its intervals). */
export const stepsOf = (sigmas: Float64Array): number => sigmas.length - 1;

/**
 * Evaluations of a solver with `k` per step whose step to σ = 0 takes one (the higher stages are undefined
 * there): k·n − (k − 1) when the schedule ends at 0 (Heun, DPM-Solver-2/3 with interior stages, 2S).
 */
export function stagedNfe(sigmas: Float64Array, k: number): number {
  return k * stepsOf(sigmas) - (k - 1) * (sigmas[sigmas.length - 1] === 0 ? 1 : 0);
}

/** A SAMPLER block from its definition: no inputs but an optional corrector; outputs the solver with its options. */
export function defineSolver<const P extends readonly ParamSpec[], L = undefined>(def: SolverDefinition<P, L>): SolverNode {
  type O = OptionsOf<P>;
  // Preset literals hold no undefined values: the partial options are the values each preset sets.
  const presets = (def.presets ?? {}) as NamedPresets;
  const specs: readonly ParamSpec[] = def.presets ? [presetParam(presets), ...def.params] : def.params;
  // The codec checked every value against `specs`, so the record is the options type.
  const options = (params: Params | undefined): O => (def.presets ? readPresetParams(def.type, specs, params, presets) : readParams(def.type, def.params, params)) as O;
  const perStep = (o: O): number => (typeof def.nfePerStep === 'number' ? def.nfePerStep : def.nfePerStep(o));
  const nfe = (sigmas: Float64Array, o: O): number | undefined => (def.nfe ? def.nfe(sigmas, o) : perStep(o) * stepsOf(sigmas));
  const info = (o: O): SolverInfo => ({
    order: def.order,
    nfePerStep: perStep(o),
    stochastic: def.stochastic,
    ...(def.acceptsCorrector ? { acceptsCorrector: true } : {}),
    ...(def.supports ? { supports: def.supports } : {}),
    ...(def.adaptive ? { adaptive: true } : {}),
    ...(def.ddimStep ? { ddimStep: def.ddimStep as Params } : {}),
    ...(def.noStepToZero ? { noStepToZero: def.noStepToZero as Params } : {}),
  });
  const defaults = options({});
  // Async, so that bad options reject the returned promise like any other failure of the run.
  const runWith = (loaded: L): SolverFn<Params> => async (model, x, sigmas, params, ctx) => def.solve(model, x, sigmas, options(params), ctx, loaded);
  const run: SolverFn<Params> = async (model, x, sigmas, params, ctx) => {
    const o = options(params);
    return def.solve(model, x, sigmas, o, ctx, def.load ? def.load(o, '.') : (undefined as L));
  };
  const solverEntry: SolverEntry = {
    run,
    options,
    nfe: (sigmas, params) => nfe(sigmas, options(params)),
    presets,
    tests: def.tests as SolverTests,
  };
  return {
    type: def.type,
    category: 'Solver',
    title: def.title,
    doc: def.doc,
    paper: def.paper,
    inputs: def.acceptsCorrector ? [CORRECTOR_INPUT] : [],
    outputs: [{ name: 'sampler', type: 'SAMPLER', doc: 'The solver with these options.' }],
    params: specs,
    solver: info(defaults),
    solverEntry,
    async evaluate(ctx, inputs, params) {
      const o = options(params);
      const sampler: SamplerValue = {
        type: def.type,
        info: info(o),
        run: def.load ? runWith(def.load(o, ctx.baseDir)) : run,
        params,
        nfe: (sigmas) => nfe(sigmas, o),
        corrector: inputs.corrector as CorrectorValue | undefined,
      };
      return { sampler };
    },
  };
}

export interface ScheduleDefinition<P extends readonly ParamSpec[]> {
  readonly type: string; // e.g. 'schedule.karras'
  readonly title: string;
  readonly doc: string;
  readonly paper?: string;
  readonly params: P;
  /** Whether the schedule cannot be computed without the model's schedule (e.g. time-uniform). */
  readonly needsModel: boolean;
  /**
   * σ values, descending, ending where the run ends (usually with a final 0), from the block's options (defaults
   * filled in, checked). `model` is the connected model's schedule when the MODEL input is wired.
   */
  sigmas(o: OptionsOf<P>, model: ModelSchedule | undefined): Float64Array;
}

export function defineSchedule<const P extends readonly ParamSpec[]>(def: ScheduleDefinition<P>): NodeType {
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
      return { sigmas: def.sigmas(readParams(def.type, def.params, params), model?.schedule) };
    },
  };
}
