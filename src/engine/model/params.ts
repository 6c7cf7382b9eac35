/**
 * Parameters of the `model.onnx` block. The model sidecar `X.onnx.json` uses exactly these names as keys
 * (see `/work/notes/sidecar.md` in the design notes): a parameter left at its "auto" value takes the
 * sidecar's value, so a node pointed at a file with a sidecar needs no hand settings.
 */
import type { ParamSpec } from '../registry/types';
import { BETA_SCHEDULES, TIME_INTERPOLATIONS, TIME_KINDS } from './schedule';
import { EXECUTION_PROVIDERS } from './onnx';

export const PROVIDER_PARAM: ParamSpec = {
  name: 'provider', type: 'enum', default: 'auto', options: ['auto', ...EXECUTION_PROVIDERS],
  doc: 'onnxruntime execution provider. "auto": the run\'s default (the CLI\'s --provider, the extension\'s dpipe.executionProvider setting), else cpu. The provider used is recorded in run.json.',
  optionDocs: {
    auto: 'The run\'s default, else cpu.',
    cpu: 'The CPU (always available).',
    cuda: 'NVIDIA GPUs: needs onnxruntime-node\'s CUDA binaries (install them with ONNXRUNTIME_NODE_INSTALL=cuda12, see the README).',
    tensorrt: 'NVIDIA TensorRT: needs the CUDA binaries and TensorRT.',
    dml: 'DirectML (Windows GPUs).',
    coreml: 'Core ML (macOS).',
    webgpu: 'WebGPU (Dawn; Linux needs Vulkan drivers).',
  },
};

export const FALLBACK_PARAM: ParamSpec = {
  name: 'fallbackToCpu', type: 'boolean', default: false,
  doc: 'When the provider cannot be used on this machine, run on the CPU instead (the run says so and records it). Off: the run stops with the reason.',
};

export const PREDICTIONS = ['epsilon', 'v_prediction', 'sample', 'flow', 'edm'] as const;
export type Prediction = (typeof PREDICTIONS)[number];

export const INPUT_SCALINGS = ['vp', 'flow', 'none'] as const;
export type InputScaling = (typeof INPUT_SCALINGS)[number];

export const MODEL_ONNX_PARAMS: readonly ParamSpec[] = [
  { name: 'path', type: 'file', default: '', extensions: ['.onnx'], mustExist: true, doc: 'The ONNX model file, relative to the .dpipe file. A sidecar `<file>.json` beside it supplies every setting left at "auto".' },
  {
    name: 'prediction', type: 'enum', default: 'auto', options: ['auto', ...PREDICTIONS],
    doc: 'What the network outputs. "auto": the sidecar, else guessed from the output name (`denoised` → edm, `out_sample` → epsilon, …).',
    optionDocs: {
      auto: 'From the sidecar, else from the tensor names.',
      epsilon: 'The noise ε (Ho et al. 2020): x̂0 = x − σ·ε.',
      v_prediction: 'v = α·ε − σ_vp·x0 (Salimans & Ho 2022, "Progressive Distillation", §4).',
      sample: 'x0 directly.',
      flow: 'Rectified-flow velocity v = ε − x0 with x_t = (1−t)·x0 + t·ε (Liu et al. 2022; Lipman et al. 2022).',
      edm: 'The network is already the EDM denoiser D(x; σ) (Karras et al. 2022, eq. 7), preconditioning included.',
    },
  },
  {
    name: 'time', type: 'enum', default: 'auto', options: ['auto', ...TIME_KINDS],
    doc: 'What the time input receives. "auto": the sidecar, else guessed from the input name (`timestep` → discrete, `sigma` → sigma, …).',
    optionDocs: {
      auto: 'From the sidecar, else from the tensor names.',
      discrete: 'DDPM training timestep index 0..N−1 (float; fractional t as timeInterpolation says, or rounded with roundTimesteps).',
      sigma: 'σ itself.',
      edm_cnoise: "EDM's c_noise = ¼·ln σ.",
      flow: 'Flow time t = σ/(1+σ) ∈ [0, 1).',
      flow1000: 'Flow time ×1000 (Stable Diffusion 3 style exports).',
    },
  },
  {
    name: 'betaSchedule', type: 'enum', default: 'auto', options: ['auto', ...BETA_SCHEDULES],
    doc: 'Discrete time only: the training β schedule, as diffusers names it. "auto": sidecar, else scaled_linear (Stable Diffusion).',
  },
  { name: 'betaStart', type: 'number', default: 0, min: 0, max: 1, doc: 'Discrete time: β at the first timestep (diffusers beta_start). 0 = auto (sidecar, else 0.00085).' },
  { name: 'betaEnd', type: 'number', default: 0, min: 0, max: 1, doc: 'Discrete time: β at the last timestep (diffusers beta_end). 0 = auto (sidecar, else 0.012).' },
  { name: 'numTrainTimesteps', type: 'integer', default: 0, min: 0, max: 100000, doc: 'Discrete time: number of training timesteps N. 0 = auto (sidecar, else 1000).' },
  { name: 'alphasCumprod', type: 'numberList', default: [], min: 0, max: 1, advanced: true, doc: 'betaSchedule "explicit": ᾱ_0..ᾱ_{N−1}, strictly decreasing. Empty = auto (sidecar).' },
  {
    name: 'roundTimesteps', type: 'boolean', default: false,
    doc: 'Discrete time: feed the model round(t) instead of the fractional t of timeInterpolation (diffusers multistep schedulers round; k-diffusion and the DPM-Solver / UniPC repositories do not). Off = the sidecar decides.',
  },
  {
    name: 'timeInterpolation', type: 'enum', default: 'auto', options: ['auto', ...TIME_INTERPOLATIONS],
    doc:
      'Discrete time: how σ becomes the fractional timestep fed to the network. "auto": the sidecar, else log_sigma. ' +
      'log_alpha reproduces the DPM-Solver / UniPC reference code (LuChengTHU/dpm-solver NoiseScheduleVP("discrete") + ' +
      'model_wrapper, wl-zhao/UniPC the same; the golden dpms_* / unipc_* runs, /work/shared/golden/README.md); ' +
      'log_sigma reproduces k-diffusion / ComfyUI (and diffusers before rounding).',
    optionDocs: {
      auto: 'From the sidecar, else log_sigma.',
      log_sigma: 'log σ linear between integer timesteps (k-diffusion DiscreteSchedule.sigma_to_t, ComfyUI, diffusers _sigma_to_t).',
      log_alpha:
        'Lu et al. 2022 (DPM-Solver) / Zhao et al. 2023 (UniPC) reference code: step i at t_i = (i+1)/N, log α piecewise ' +
        'linear in t (extended linearly past the ends), σ → t by inverting it, fed t_input = 1000·(t − 1/N).',
    },
  },
  {
    name: 'inputScaling', type: 'enum', default: 'auto', options: ['auto', ...INPUT_SCALINGS], advanced: true,
    doc: 'How x (VE, x = x0 + σ·ε) is scaled before the network sees it. "auto": edm → none, flow prediction or flow time → flow, else vp.',
    optionDocs: { auto: 'From the prediction and time.', vp: 'x/√(σ²+1) (variance preserving).', flow: 'x/(1+σ) = (1−t)·x0 + t·ε.', none: 'x unchanged.' },
  },
  { name: 'sampleInput', type: 'string', default: '', advanced: true, doc: 'Name of the noisy-sample input. Empty = detected (sample, x, x_t, latent, …).' },
  { name: 'timeInput', type: 'string', default: '', advanced: true, doc: 'Name of the time/noise-level input. Empty = detected (timestep, sigma, t, …).' },
  { name: 'output', type: 'string', default: '', advanced: true, doc: 'Name of the prediction output. Empty = detected (out_sample, denoised, …, or the only output).' },
  { name: 'classInput', type: 'string', default: '', advanced: true, doc: 'Name of the class-label input (int64 [B]). Empty = detected (class_labels, y, label, …).' },
  { name: 'numClasses', type: 'integer', default: 0, min: 0, advanced: true, doc: 'Number of classes of a class-conditional model (labels 0..numClasses−1). 0 = auto (sidecar).' },
  { name: 'unconditionalClass', type: 'integer', default: -1, min: -1, advanced: true, doc: 'The label meaning "no class" (used by guidance for the unconditional branch). −1 = auto (sidecar).' },
  { name: 'sigmaMin', type: 'number', default: 0, min: 0, advanced: true, doc: 'Continuous time: the smallest σ of the model. 0 = auto (sidecar; else EDM 0.002, flow t = 0.001; discrete: σ at t = 0).' },
  { name: 'sigmaMax', type: 'number', default: 0, min: 0, advanced: true, doc: 'Continuous time: the largest σ of the model. 0 = auto (sidecar; else EDM 80, flow t = 0.999; discrete: σ at t = N−1).' },
  { name: 'sampleShape', type: 'numberList', default: [], min: 1, advanced: true, doc: 'Per-item latent shape [C,H,W]. Empty = auto (sidecar, else the input\'s fixed dimensions).' },
  { name: 'valueRange', type: 'numberList', default: [], advanced: true, doc: 'Data range [lo, hi] of x0, used by image outputs. Empty = auto (sidecar, else the output block\'s own setting).' },
  { name: 'threads', type: 'integer', default: 0, min: 0, max: 256, advanced: true, doc: "onnxruntime intra-op threads. 0 = onnxruntime's default (one per core)." },
  PROVIDER_PARAM,
  FALLBACK_PARAM,
];

/** Sidecar keys besides the parameters. */
export const SIDECAR_EXTRA_KEYS = ['dpipeModel', 'description'] as const;
