/**
 * The model layer's public surface: the onnxruntime adapter (generic, for any ONNX model), the denoiser
 * wrapper (any parameterization → x̂0 = D(x, σ, cond) in EDM coordinates), the model's noise schedule,
 * and the model blocks.
 */
export {
  openSession, inspect, run, onnxruntimeVersion, releaseSession, releaseAll, sessionStats,
  float32, int64, toFloat64, listIO,
} from './onnx';
export type { ElementType, TensorInfo, ModelIO, Tensor, SessionOptions, OnnxSession } from './onnx';
export { loadModel, wrapSession, describeModel, resolveConfig, readSidecar, scheduleFor, inputScale, toDenoised, fileSha256 } from './wrap';
export type { ModelConfig, LoadOptions, ModelDescription, SettingSource } from './wrap';
export {
  BETA_SCHEDULES, TIME_KINDS, TIME_INTERPOLATIONS, DEFAULT_DISCRETE, DEFAULT_SIGMA_RANGE, betas, alphasCumprod, discreteSigmas,
  sigmaToT, tToSigma, sigmaToContinuousT, continuousTToSigma, sigmaToRepoTimestep, repoTimestepToSigma, roundHalfEven, flowT, timeFromSigma, sigmaFromTime, makeModelSchedule,
} from './schedule';
export type { BetaSchedule, TimeKind, TimeInterpolation, DiscreteOptions, TimeOptions } from './schedule';
export { PREDICTIONS, INPUT_SCALINGS, MODEL_ONNX_PARAMS } from './params';
export type { Prediction, InputScaling } from './params';
export { MODEL_NODES } from './nodes';
