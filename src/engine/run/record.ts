/**
 * The run record, `run.json` in a run's output folder: enough to reproduce and to judge a run — the pipeline
 * as it ran (overrides applied), seeds, model identity, NFE, where time went (per evaluation and per step, the
 * model's time beside the engine's), and every file written.
 */
import type { PipelineDoc } from '../format/types';
import type { ModelIdentity } from '../registry/types';

export const RUN_RECORD_VERSION = 1;
export const RUN_RECORD_FILE = 'run.json';

export type RunStatus = 'completed' | 'aborted' | 'failed';

export interface EvalTiming {
  /** Evaluation number across the run. */
  readonly i: number;
  readonly step: number;
  readonly sigma: number;
  readonly role: string;
  /** Time inside the model (guided: all its ONNX calls for this evaluation). */
  readonly modelMs: number;
  /** Wall time since the previous evaluation (or the Sample start) minus the model time: solver, guidance arithmetic, recording. */
  readonly engineMs: number;
}

export interface StepTiming {
  readonly step: number;
  readonly sigma: number;
  readonly sigmaNext: number;
  /** Model evaluations in this step. */
  readonly nfe: number;
  readonly wallMs: number;
  readonly modelMs: number;
  readonly engineMs: number;
}

export interface SampleRecord {
  readonly node: string;
  /** The solver block type, e.g. `solver.euler`. */
  sampler: string;
  readonly shape: readonly number[];
  readonly sigmas: readonly number[];
  readonly steps: number;
  /** Model evaluations made. */
  nfe: number;
  /**
   * Model evaluations planned, announced at the Sample start: the exact count (`exactNfe`: the solver's own
   * the solver entry's `nfe` on this schedule with its preset applied, plus the corrector's evaluations on every step that does
   * not end at σ = 0), which a completed run's `nfe` equals. Only for a solver that picks its own steps (adaptive,
   * e.g. solver.gotta_go_fast) is it the nominal nfePerStep × steps, and `nfe` says what the run really took.
   */
  readonly expectedNfe: number;
  modelMs: number;
  engineMs: number;
  wallMs: number;
  readonly evals: EvalTiming[];
  readonly stepTimes: StepTiming[];
}

export interface ModelRecord extends ModelIdentity {
  readonly node: string;
  /** The latent → RGB preview view the inspector uses for this model's latents. */
  readonly preview?: { readonly projection: readonly number[]; readonly bias: readonly number[]; readonly source: string };
}

/** A note that did not stop the run (a truncated prompt, a CPU fallback, …). */
export interface WarningRecord {
  readonly node: string;
  readonly message: string;
}

export interface NoiseRecord {
  readonly node: string;
  readonly seeds: readonly number[];
  readonly describe: string;
}

export interface OutputRecord {
  readonly node: string;
  readonly kind: 'png' | 'npy' | 'json';
  /** Path relative to the output folder (the file name). */
  readonly file: string;
}

export interface RunRecord {
  readonly dpipeRunRecord: number;
  readonly dpipeVersion: string;
  status: RunStatus;
  error?: { readonly code: string; readonly message: string };
  /** The .dpipe file, absolute, when the run came from a file. */
  readonly file: string | null;
  readonly baseDir: string;
  /** The pipeline as it ran (overrides applied). */
  readonly pipeline: PipelineDoc;
  /** The overrides given: `node.param=value` after typing (from --set, --seed, --batch). */
  readonly overrides: readonly string[];
  /** Seeds of every seeded noise block, per batch item (first block's first). */
  seeds: number[];
  readonly noise: NoiseRecord[];
  /** Batch size of the (first) Sample block; null when none ran. */
  batch: number | null;
  /** Model evaluations of the whole run. */
  nfe: number;
  readonly samples: SampleRecord[];
  readonly models: ModelRecord[];
  /** Notes that did not stop the run (absent in older records). */
  readonly warnings?: WarningRecord[];
  /** onnxruntime version (`onnxruntime-node 1.30.0`), null when no ONNX model ran. */
  onnxruntime: string | null;
  readonly startedAt: string;
  finishedAt: string;
  readonly timings: {
    /** Whole run, wall clock. */
    totalMs: number;
    /** Model loading (MODEL blocks). */
    loadMs: number;
    /** Sample blocks, wall clock. */
    sampleMs: number;
    /** Inside the model, all Sample blocks. */
    modelMs: number;
    /** Sample wall time minus model time. */
    engineMs: number;
    /** Recording the trajectory (part of engineMs). */
    trajectoryMs: number;
    /** Output blocks (encoding and writing files). */
    outputMs: number;
  };
  readonly outputs: OutputRecord[];
  trajectory: { readonly dir: string | null; evals: number; framesInMemory: number; framesOnDisk: number } | null;
  readonly platform: { readonly node: string; readonly os: string; readonly arch: string };
}
