/**
 * The Latent Inspector's engine side (no vscode, no DOM): random access to recorded trajectories, statistics,
 * alignment of two runs by σ, reference solutions and errors, the convergence sweep, rendering and exports.
 */
export { TrajectoryReader, ByteLru, locateRun, DEFAULT_CACHE_BYTES } from './reader';
export type { ReaderOptions, ReaderStats, RunLocation, PlaneName } from './reader';
export { computeStats, logSigmaSteps, scheduleLogSteps, rmsDiff } from './stats';
export type { EvalStats, StatsOptions } from './stats';
export { alignBySigma, alignedDistances, mix, ALIGN_MODES } from './align';
export type { AlignMode, AlignedPair } from './align';
export { dopri5, referenceTrajectory, stateAt, stopSigmas, solverNodes, scheduleNodeOf, DOPRI5_DEFAULTS } from './reference';
export type { Dopri5Options, Dopri5Result, ReferenceMethod, ReferenceOptions, ReferenceStates, LogSigmaRhs } from './reference';
export { errorAgainstReference, referenceForRun, readReferenceFile, REFERENCE_FILE } from './error';
export type { RunError, ReferenceFile, RunReferenceOptions } from './error';
export { errorPlotBySigma } from './errorseries';
export type { ErrorPlot, ErrorRunInput, ErrorSeries } from './errorseries';
export { sweep, logLogSlope, sweepUnits, runSweepUnits, finishSweep } from './sweep';
export type { SweepOptions, SweepPipeline, SweepPoint, SweepResult, SweepSeries, SweepUnit, SweepUnitResult } from './sweep';
export { renderItem, renderView, zoomRgba, gridRgba, rgbaToRgb, displayChannels, defaultProjection, DEFAULT_VIEW } from './render';
export type { ChannelMode, ViewOptions, Rgba } from './render';
export { stepPng, stepNpy, runGif, contactSheet, subsample, pngOf, EXPORT_KEYWORD } from './export';
export type { FrameExportOptions, RunExportOptions } from './export';
