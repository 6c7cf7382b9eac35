/**
 * Block (node type) descriptions. The metadata half (`NodeTypeInfo`) is plain JSON: the CLI prints it
 * (`dpipe blocks --json`), the JSON Schema is generated from it, and the webview builds its palette and
 * inspector from it, so a new block appears in the editor with no webview change.
 */
import type { Latent, ModelSchedule, NoiseSampler, SolverFn, CorrectorHook, EvalRequest } from '../core/types';
import type { TextEncoderValue } from '../text/encode';
import type { VaeValue } from '../vae/vae';

/** Typed ports; an edge connects an output to an input of the same type. */
export const PORT_TYPES = ['MODEL', 'CONDITIONING', 'GUIDER', 'NOISE', 'SIGMAS', 'SAMPLER', 'CORRECTOR', 'LATENT', 'TEXT_ENCODER', 'VAE'] as const;
export type PortType = (typeof PORT_TYPES)[number];

export const CATEGORIES = ['Model', 'Conditioning', 'Noise', 'Schedule', 'Solver', 'Corrector', 'Guidance', 'Latent', 'Sample', 'Output'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface PortSpec {
  readonly name: string;
  readonly type: PortType;
  /** Inputs only: may be left unconnected. */
  readonly optional?: boolean;
  readonly doc: string;
}

interface ParamBase {
  readonly name: string;
  readonly label?: string;
  readonly doc: string;
  /** Shown only in the inspector's "advanced" section. */
  readonly advanced?: boolean;
}
export type ParamSpec =
  | (ParamBase & { readonly type: 'number'; readonly default: number; readonly min?: number; readonly max?: number; readonly exclusiveMin?: boolean; readonly step?: number })
  | (ParamBase & { readonly type: 'integer'; readonly default: number; readonly min?: number; readonly max?: number })
  | (ParamBase & { readonly type: 'boolean'; readonly default: boolean })
  | (ParamBase & { readonly type: 'enum'; readonly default: string; readonly options: readonly string[]; readonly optionDocs?: Readonly<Record<string, string>> })
  /** `multiline`: edited as a text area (prompts). */
  | (ParamBase & { readonly type: 'string'; readonly default: string; readonly multiline?: boolean })
  /** A path relative to the .dpipe file. `default` '' means "none". */
  | (ParamBase & { readonly type: 'file'; readonly default: string; readonly extensions: readonly string[]; readonly mustExist?: boolean; readonly directory?: boolean })
  | (ParamBase & { readonly type: 'seed'; readonly default: number })
  | (ParamBase & { readonly type: 'numberList'; readonly default: readonly number[]; readonly min?: number; readonly max?: number });

export type ParamValue = number | boolean | string | readonly number[];
export type Params = Readonly<Record<string, ParamValue>>;

/** Solver-specific metadata (registry entry of a SAMPLER block). */
export interface SolverInfo {
  /** Theoretical convergence order of the ODE solver (strong order for SDE solvers). */
  readonly order: number;
  /** Model evaluations per step (the NFE accounting uses `nfe()` when it depends on parameters). */
  readonly nfePerStep: number;
  readonly stochastic: boolean;
  /** Whether a CORRECTOR block may attach to it. */
  readonly acceptsCorrector?: boolean;
  /** Model kinds it can run on; undefined means all. */
  readonly supports?: readonly ModelSchedule['kind'][];
  /**
   * Adaptive step size: the solver picks its own steps and uses only the schedule's first σ and last positive σ
   * (a final 0 asks for a last denoising step); schedules with interior points are rejected (E_COMPOSE), and
   * `nfePerStep` is only the cost of one attempted step (the run reports the real count).
   */
  readonly adaptive?: boolean;
  /**
   * The step is the first-order DDIM/Euler update x_next = D + (σ_next/σ)·(x − D), with one model evaluation at
   * each schedule σ, when the solver's params have these values ({} = always). Guidance that rewrites this update
   * (guider.cfgpp, CFG++) is exact only there; the composition rules check it at validation.
   */
  readonly ddimStep?: Readonly<Record<string, ParamValue>>;
  /**
   * The solver has no defined step to σ = 0 when its params have these values (e.g. UniPC with B(h) = h, where
   * the step's coefficient is −∞·0); a schedule that ends at 0 then gets an E_COMPOSE warning at validation.
   */
  readonly noStepToZero?: Readonly<Record<string, ParamValue>>;
}

/** Corrector-specific metadata (registry entry of a CORRECTOR block), for composition checks. */
export interface CorrectorInfo {
  /** Model evaluations the corrector adds per solver step. */
  readonly nfePerStep: number;
  /**
   * Which predictors it can follow: 'deterministic' — an ODE corrector that rebuilds the step from the
   * data-prediction history (UniC, SA-Solver's corrector with τ = 0), valid only after a solver with
   * `stochastic: false`; 'any' — it only moves the predicted state at its own σ (Langevin), valid after any
   * solver that accepts correctors.
   */
  readonly follows: 'deterministic' | 'any';
  /**
   * It draws fresh noise at a fixed σ each step (the noise sampler over a zero-length interval), so it needs
   * i.i.d. per-step noise: a Brownian-path source (`NoiseInfo.brownian`) has none (E_COMPOSE at validation).
   */
  readonly iidNoise?: boolean;
}

/** Noise-specific metadata (registry entry of a NOISE block), for composition checks. */
export interface NoiseInfo {
  /** Per-step draws are increments of one Brownian path over σ (a draw over a zero-length interval is 0). */
  readonly brownian?: boolean;
}

/** JSON-serializable description of a node type. */
export interface NodeTypeInfo {
  readonly type: string;
  readonly category: Category;
  readonly title: string;
  /** One-paragraph documentation, shown in the palette and inspector. */
  readonly doc: string;
  /** Paper citation (authors, year, title, algorithm number). */
  readonly paper?: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  readonly params: readonly ParamSpec[];
  readonly solver?: SolverInfo;
  readonly corrector?: CorrectorInfo;
  readonly noise?: NoiseInfo;
}

// ---------------------------------------------------------------------------------------------
// Runtime values carried along edges, one per port type.

/** A conditioning input for the model: a class label, a tensor for a named input, or nothing. */
export type CondValue =
  | { readonly kind: 'none' }
  /** `labels`, when given, are cycled over the batch items (item i gets labels[i % labels.length]); `label` is labels[0]. */
  | { readonly kind: 'class'; readonly label: number; readonly labels?: readonly number[] }
  | ({ readonly kind: 'tensor' } & CondTensor)
  /**
   * Several named inputs at once, e.g. a prompt's `encoder_hidden_states` with SDXL's pooled `text_embeds` or SD3's
   * `pooled_projections`. `prompt` is the text it was encoded from (for run records and the inspector).
   */
  | {
      readonly kind: 'tensors';
      readonly tensors: readonly CondTensor[];
      readonly prompt?: string;
      /** SDXL micro-conditioning (Podell et al. 2023, §2.2) in image pixels; unset values: the image size, crop (0, 0). */
      readonly sizes?: { readonly originalSize?: readonly number[]; readonly cropTopLeft?: readonly number[]; readonly targetSize?: readonly number[] };
    };

/** A tensor for one named model input: one item (shape without the batch) or one per batch item. */
export interface CondTensor {
  readonly input: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A model's identity as the run record keeps it (run.json `models[]`). */
export interface ModelIdentity {
  readonly path: string;
  readonly sha256: string;
  readonly prediction: string;
  readonly time: string;
  /** The onnxruntime execution provider it runs on (cpu, cuda, …; absent in records written before providers were recorded). */
  readonly provider?: string;
  /** Why it runs on another provider than the one asked for (CPU fallback). */
  readonly providerNote?: string;
  /** The model folder it came from, for folder models. */
  readonly folder?: string;
}

/** MODEL: a loaded model in EDM coordinates. */
export interface ModelValue {
  readonly schedule: ModelSchedule;
  /** Per-item latent shape [C,H,W] when the model fixes it. */
  readonly sampleShape?: readonly number[];
  /** Data range [lo, hi] of the model's samples (sidecar `valueRange`), used by image outputs; undefined: unknown. */
  readonly valueRange?: readonly [number, number];
  /** The model's "unconditional" conditioning (for guidance without a negative input). */
  readonly unconditional: CondValue;
  /** Class-conditional models: labels are 0..numClasses−1 (plus the unconditional label). */
  readonly numClasses?: number;
  /** Whether several conditionings may go in one batched call (dynamic batch dimension). */
  readonly batchable: boolean;
  /**
   * x̂0 for each conditioning in `conds` at the same (x, σ). One ONNX call when batchable.
   * Counts as one model evaluation per call of the guided denoiser, whatever `conds.length` is.
   */
  denoise(x: Latent, sigma: number, conds: readonly CondValue[], signal?: AbortSignal): Promise<Latent[]>;
  /**
   * What `denoise` would refuse for a latent of `shape` under these conditionings (shapes, labels, inputs the
   * conditionings must feed), found without a network call: validation calls it before the first evaluation.
   */
  check?(shape: readonly number[], conds: readonly CondValue[]): void;
  /**
   * What the model's time input receives at noise level σ (discrete timestep, flow t), for the inspector; null for
   * σ-input models (EDM: σ or c_noise) and at σ = 0 (no network call). Absent: the model does not say.
   */
  timeOf?(sigma: number): number | null;
  /** Model identity for the run record. */
  readonly info: ModelIdentity;
  /** How to show this model's latents as RGB (live previews, the inspector); undefined: 1 channel gray, 3 RGB. */
  readonly preview?: LatentPreview;
  /** A small ONNX decoder (TAESD-style) for live previews: latent [B, C, h, w] → image [B, 3, H, W] in `range`. */
  readonly previewDecoder?: { readonly path: string; readonly range: readonly [number, number]; readonly inputScale?: number };
}

/**
 * A cheap latent → RGB view: rgb = P·c + b per pixel (P 3×C row-major), shown over the value range [−1, 1]; for a
 * model folder, P and b are fitted on its own VAE decoder (`vae/preview.ts`).
 */
export interface LatentPreview {
  readonly projection: readonly number[];
  readonly bias: readonly number[];
  /** Where the projection came from, for the record (e.g. "fitted on vae_decoder/model.onnx"). */
  readonly source: string;
}

export interface GuidedOutput {
  readonly denoised: Latent;
  /** Named intermediate predictions (e.g. `cond`, `uncond`) for the inspector. */
  readonly branches?: Readonly<Record<string, Latent>>;
}

/** GUIDER: a model with its conditioning and guidance bound in. */
export interface GuiderValue {
  readonly model: ModelValue;
  /** The conditionings it evaluates the model with (for validation: `ModelValue.check`); absent when unknown. */
  readonly conds?: readonly CondValue[];
  /** Names of the branches its outputs may carry (for the trajectory's size); absent when unknown. */
  readonly branches?: readonly string[];
  denoise(x: Latent, sigma: number, req: EvalRequest, signal?: AbortSignal): Promise<GuidedOutput>;
}

/** NOISE: where the initial noise and the per-step draws come from. */
export interface NoiseValue {
  /** Standard-normal initial noise for a batch of `shape`. */
  initial(shape: readonly number[]): Float64Array;
  /** A fresh per-step sampler for a run on states of `shape` (the SDE solvers' draws). */
  stepSampler(shape: readonly number[], sigmas: Float64Array): NoiseSampler;
  /** Seeds per batch item, for the run record (empty when noise comes from a file). */
  readonly seeds: readonly number[];
  readonly describe: string;
}

/** CORRECTOR: builds the hook a solver calls. */
export interface CorrectorValue {
  readonly type: string;
  readonly params: Params;
  readonly nfePerStep: number;
  make(): CorrectorHook;
}

/** SAMPLER: a solver with its options. */
export interface SamplerValue {
  readonly type: string;
  readonly info: SolverInfo;
  readonly run: SolverFn<Params>;
  readonly params: Params;
  /** Exact model evaluations on `sigmas` with these options (correctors not included); undefined: the run decides. */
  nfe(sigmas: Float64Array): number | undefined;
  readonly corrector?: CorrectorValue;
}

export interface PortValues {
  MODEL: ModelValue;
  CONDITIONING: CondValue;
  GUIDER: GuiderValue;
  NOISE: NoiseValue;
  SIGMAS: Float64Array;
  SAMPLER: SamplerValue;
  CORRECTOR: CorrectorValue;
  LATENT: Latent;
  TEXT_ENCODER: TextEncoderValue;
  VAE: VaeValue;
}
