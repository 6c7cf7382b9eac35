/**
 * The engine's public surface for Node.js consumers (the CLI, the extension host, its runner process):
 * contracts, the error catalog, the block registry, the .dpipe format, graph edits, models, and running.
 * Browser code (the webview) imports the browser-safe modules directly (`format/core`, `graph`, `registry/types`).
 */
export * from './core/types';
export { ERROR_CODES, DpipeError, isAbort, formatProblem } from './core/errors';
export type { ErrorCode, Location, Problem } from './core/errors';
export { latent, like, lincomb, combine, maxAbsDiff, rms, assertFinite } from './core/latent';
export { parseNpy, encodeNpy } from './core/npy';
export type { NpyArray } from './core/npy';

export * from './registry/types';
export type { EvalEvent, RunServices, EvalContext, NodeType, SolverDefinition, ScheduleDefinition } from './registry/node';
export { defineSolver, defineSchedule } from './registry/node';
export { nodeTypes, getNodeType, registryInfo } from './registry/index';

export * from './format/index';
export * as graph from './graph/index';

export { loadModel, describeModel, onnxruntimeVersion, releaseAll as releaseModels } from './model/index';
export type { ModelDescription } from './model/index';

export { latentToImages, imageGrid, startState, expectedNfe, exactNfe, DEFAULT_VALUE_RANGE, resolveValueRange } from './nodes/index';
export type { ToImageOptions, NoiseScale } from './nodes/index';

export {
  runPipeline, pipelineText, rebaseFiles, planRun, applyOverrides, parseSetArg, coerceParamText,
  PIPELINE_KEYWORD, encodePng, addPngText, readPngText, readPipelineFromPng, isPng,
  Trajectory, openTrajectory, epsilonOf, evalFileName, TRAJECTORY_FORMAT, TRAJECTORY_VERSION, TRAJECTORY_INDEX,
  DEFAULT_TRAJECTORY_MEMORY, RUN_RECORD_FILE, RUN_RECORD_VERSION,
} from './run/index';
export type {
  RunOptions, RunResult, RunOutput, RunTrajectoryOptions, RunPlan, PlannedNode, Overrides, ParamOverride, AppliedOverrides,
  Image8, TrajectoryView, TrajectoryFrame, TrajectoryIndex, EvalMeta, SampleMeta, TrajectoryOptions,
  RunRecord, RunStatus, SampleRecord, EvalTiming, StepTiming, ModelRecord, NoiseRecord, OutputRecord,
} from './run/index';
