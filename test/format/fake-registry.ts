/**
 * A small registry for format and graph tests, independent of which real blocks exist.
 */
import type { NodeTypeInfo } from '../../src/engine/registry/types';

export const FAKE_REGISTRY: NodeTypeInfo[] = [
  {
    type: 'model.onnx', category: 'Model', title: 'ONNX model', doc: 'An ONNX denoiser.',
    inputs: [],
    outputs: [{ name: 'model', type: 'MODEL', doc: 'The model.' }],
    params: [
      { name: 'path', type: 'file', default: '', extensions: ['.onnx'], doc: 'The ONNX file.' },
      { name: 'prediction', type: 'enum', default: 'epsilon', options: ['epsilon', 'v_prediction', 'sample'], doc: 'What the network predicts.' },
    ],
  },
  {
    type: 'noise.seeded', category: 'Noise', title: 'Seeded noise', doc: 'Gaussian noise from a seed.',
    inputs: [],
    outputs: [{ name: 'noise', type: 'NOISE', doc: 'Noise.' }],
    params: [{ name: 'seed', type: 'seed', default: 0, doc: 'The seed.' }],
  },
  {
    type: 'schedule.karras', category: 'Schedule', title: 'Karras', doc: 'Karras et al. 2022 σ schedule.',
    inputs: [{ name: 'model', type: 'MODEL', optional: true, doc: 'σ range from the model.' }],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'σ values.' }],
    params: [
      { name: 'steps', type: 'integer', default: 10, min: 1, max: 1000, doc: 'Number of steps.' },
      { name: 'rho', type: 'number', default: 7, min: 0, exclusiveMin: true, doc: 'ρ.' },
      { name: 'sigma_min', type: 'number', default: 0.002, min: 0, exclusiveMin: true, doc: 'σ_min.' },
    ],
  },
  {
    type: 'schedule.explicit', category: 'Schedule', title: 'Explicit', doc: 'A list of σ values.',
    inputs: [],
    outputs: [{ name: 'sigmas', type: 'SIGMAS', doc: 'σ values.' }],
    params: [{ name: 'sigmas', type: 'numberList', default: [1, 0], min: 0, doc: 'The σ values, descending.' }],
  },
  {
    type: 'solver.euler', category: 'Solver', title: 'Euler', doc: 'Euler method.',
    inputs: [],
    outputs: [{ name: 'sampler', type: 'SAMPLER', doc: 'The solver.' }],
    params: [
      { name: 's_churn', type: 'number', default: 0, min: 0, doc: 'Churn.' },
      { name: 'denoise_last', type: 'boolean', default: true, doc: 'Denoise at the last step.' },
    ],
    solver: { order: 1, nfePerStep: 1, stochastic: false },
  },
  {
    type: 'solver.unipc', category: 'Solver', title: 'UniPC', doc: 'UniPC.',
    inputs: [{ name: 'corrector', type: 'CORRECTOR', optional: true, doc: 'A corrector.' }],
    outputs: [{ name: 'sampler', type: 'SAMPLER', doc: 'The solver.' }],
    params: [{ name: 'order', type: 'integer', default: 2, min: 1, max: 3, doc: 'Order.' }],
    solver: { order: 2, nfePerStep: 1, stochastic: false, acceptsCorrector: true },
  },
  {
    type: 'corrector.unic', category: 'Corrector', title: 'UniC', doc: 'UniC corrector.',
    inputs: [],
    outputs: [{ name: 'corrector', type: 'CORRECTOR', doc: 'The corrector.' }],
    params: [],
  },
  {
    type: 'guider.cfg', category: 'Guidance', title: 'CFG', doc: 'Classifier-free guidance.',
    inputs: [
      { name: 'model', type: 'MODEL', doc: 'The model.' },
      { name: 'cond', type: 'CONDITIONING', optional: true, doc: 'Conditioning.' },
    ],
    outputs: [{ name: 'guider', type: 'GUIDER', doc: 'The guided model.' }],
    params: [{ name: 'scale', type: 'number', default: 1, min: 0, max: 30, doc: 'Guidance scale.' }],
  },
  {
    type: 'sample', category: 'Sample', title: 'Sample', doc: 'Runs the solver.',
    inputs: [
      { name: 'guider', type: 'GUIDER', doc: 'Model with guidance.' },
      { name: 'sampler', type: 'SAMPLER', doc: 'Solver.' },
      { name: 'sigmas', type: 'SIGMAS', doc: 'Schedule.' },
      { name: 'noise', type: 'NOISE', doc: 'Noise.' },
    ],
    outputs: [{ name: 'latent', type: 'LATENT', doc: 'The result.' }],
    params: [{ name: 'batch', type: 'integer', default: 1, min: 1, max: 64, doc: 'Batch size.' }],
  },
  {
    type: 'latent.scale', category: 'Latent', title: 'Scale', doc: 'Multiplies a latent.',
    inputs: [{ name: 'latent', type: 'LATENT', doc: 'Latent.' }],
    outputs: [{ name: 'latent', type: 'LATENT', doc: 'Scaled latent.' }],
    params: [{ name: 'factor', type: 'number', default: 1, doc: 'Factor.' }],
  },
  {
    type: 'output.image', category: 'Output', title: 'Image', doc: 'Writes images.',
    inputs: [{ name: 'latent', type: 'LATENT', doc: 'Latent.' }],
    outputs: [],
    params: [{ name: 'name', type: 'string', default: 'image', doc: 'File name stem.' }],
  },
];
