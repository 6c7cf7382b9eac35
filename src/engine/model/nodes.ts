/**
 * Model and conditioning blocks: `model.onnx` (an ONNX network wrapped into the one denoiser contract,
 * `wrap.ts`), `cond.class` (class labels) and `cond.tensor` (a tensor for a named input, from .npy).
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import type { NodeType } from '../registry/node';
import type { CondValue, Params } from '../registry/types';
import { MODEL_ONNX_PARAMS } from './params';

const MODEL_ONNX: NodeType = {
  type: 'model.onnx',
  category: 'Model',
  title: 'ONNX model',
  doc:
    'An ONNX denoiser, wrapped into the engine\'s one contract x̂0 = D(x, σ, cond) in EDM (variance-exploding) ' +
    'coordinates, whatever it predicts (ε, v, x0, flow velocity, or an EDM denoiser) and whatever time input it takes ' +
    '(DDPM timestep, σ, EDM c_noise, flow t). A DDPM timestep is fractional: log-σ interpolation between training steps ' +
    '(k-diffusion, ComfyUI) or, with timeInterpolation "log_alpha", the DPM-Solver / UniPC repositories\' continuous time ' +
    '(log α linear in t ∈ [1/N, 1], fed 1000·(t − 1/N)). Settings left at "auto" come from the sidecar `<file>.onnx.json`, then ' +
    'from the tensor names (`dpipe inspect MODEL.onnx` shows what is detected). One onnxruntime session per file, ' +
    'reused across runs and reloaded when the file changes; conditional and unconditional evaluations go in one batch ' +
    'when the batch dimension is dynamic.',
  paper:
    'Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models" (EDM, eq. 7 and Table 1); ' +
    'wrappers as k-diffusion external.py (DiscreteEpsDDPMDenoiser / DiscreteVDDPMDenoiser) and DPM-Solver\'s model_wrapper ' +
    '(LuChengTHU/dpm-solver NoiseScheduleVP("discrete") and get_model_input_time; Lu et al. 2022, "DPM-Solver").',
  inputs: [],
  outputs: [{ name: 'model', type: 'MODEL', doc: 'The model as a denoiser in EDM coordinates, with its noise schedule.' }],
  params: MODEL_ONNX_PARAMS,
  async evaluate(ctx, _inputs, params) {
    const p = params.path;
    if (typeof p !== 'string' || p === '') throw new DpipeError('E_PARAM_VALUE', 'model.onnx needs `path`: the .onnx file, relative to the .dpipe file.');
    const model = await ctx.services.loadModel(params, path.resolve(ctx.baseDir, p));
    return { model };
  },
};

function labelList(params: Params): number[] {
  const list = params.labels;
  const one = params.label;
  const labels = Array.isArray(list) && list.length > 0 ? [...list] : [one as number];
  for (const l of labels) {
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 0) {
      throw new DpipeError('E_PARAM_VALUE', `class labels must be integers ≥ 0; got ${String(l)}.`);
    }
  }
  return labels;
}

const COND_CLASS: NodeType = {
  type: 'cond.class',
  category: 'Conditioning',
  title: 'Class label',
  doc:
    'A class label for a class-conditional model, fed as int64 [B] to its class input. With `labels` non-empty, the ' +
    'labels are cycled over the batch (item i gets labels[i mod n]) — e.g. 0..9 to sample every class of MNIST in one run.',
  inputs: [],
  outputs: [{ name: 'conditioning', type: 'CONDITIONING', doc: 'The class conditioning.' }],
  params: [
    { name: 'label', type: 'integer', default: 0, min: 0, doc: 'The class label (0..numClasses−1) for every batch item.' },
    { name: 'labels', type: 'numberList', default: [], min: 0, doc: 'Labels cycled over the batch items; empty = `label` for all.' },
  ],
  async evaluate(_ctx, _inputs, params) {
    const labels = labelList(params);
    const conditioning: CondValue = labels.length > 1 ? { kind: 'class', label: labels[0], labels } : { kind: 'class', label: labels[0] };
    return { conditioning };
  },
};

const COND_TENSOR: NodeType = {
  type: 'cond.tensor',
  category: 'Conditioning',
  title: 'Tensor conditioning',
  doc:
    'A tensor read from a .npy file and fed (as float32) to the named model input, e.g. text-encoder hidden states for ' +
    '`encoder_hidden_states`. Give one item (the input\'s shape without the batch dimension, or with batch 1) to use it ' +
    'for every batch item, or one per batch item.',
  inputs: [],
  outputs: [{ name: 'conditioning', type: 'CONDITIONING', doc: 'The tensor conditioning.' }],
  params: [
    { name: 'path', type: 'file', default: '', extensions: ['.npy'], mustExist: true, doc: 'The tensor, a .npy file relative to the .dpipe file.' },
    { name: 'input', type: 'string', default: 'encoder_hidden_states', doc: 'Name of the model input it goes to.' },
  ],
  async evaluate(ctx, _inputs, params) {
    const p = params.path;
    const input = params.input;
    if (typeof p !== 'string' || p === '') throw new DpipeError('E_PARAM_VALUE', 'cond.tensor needs `path`: a .npy file, relative to the .dpipe file.');
    if (typeof input !== 'string' || input === '') throw new DpipeError('E_PARAM_VALUE', 'cond.tensor needs `input`: the name of the model input it feeds.');
    const arr = await ctx.services.readNpy(path.resolve(ctx.baseDir, p));
    const conditioning: CondValue = { kind: 'tensor', input, shape: [...arr.shape], data: Float32Array.from(arr.data) };
    return { conditioning };
  },
};

export const MODEL_NODES: NodeType[] = [MODEL_ONNX, COND_CLASS, COND_TENSOR];
