/** Running pipelines: the runner, its outputs (PNG text chunks, trajectory, run record) and overrides. */
export { runPipeline, pipelineText, rebaseFiles } from './runner';
export type { RunOptions, RunResult, RunOutput, RunTrajectoryOptions } from './runner';
export { planRun, parseEndpoint } from './graph';
export type { RunPlan, PlannedNode } from './graph';
export { applyOverrides, parseSetArg, coerceParamText } from './overrides';
export type { Overrides, ParamOverride, AppliedOverrides } from './overrides';
export { PIPELINE_KEYWORD, encodePng, addPngText, readPngText, readPipelineFromPng, isPng, asciiEscape } from './png';
export type { Image8 } from './png';
export {
  Trajectory, openTrajectory, epsilonOf, evalFileName,
  TRAJECTORY_FORMAT, TRAJECTORY_VERSION, TRAJECTORY_INDEX, DEFAULT_TRAJECTORY_MEMORY,
} from './trajectory';
export type { TrajectoryView, TrajectoryFrame, TrajectoryIndex, EvalMeta, SampleMeta, TrajectoryOptions } from './trajectory';
export { RUN_RECORD_FILE, RUN_RECORD_VERSION } from './record';
export type { RunRecord, RunStatus, SampleRecord, EvalTiming, StepTiming, ModelRecord, NoiseRecord, OutputRecord } from './record';
