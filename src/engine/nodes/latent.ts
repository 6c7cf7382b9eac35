/**
 * LATENT sources: an empty (all-zero) latent for text/class-to-image runs, and a latent read from a .npy file
 * (img2img: the clean image the Sample block noises to the first σ of a truncated schedule).
 */
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { checkAllocation } from '../core/budget';
import { latent } from '../core/latent';
import type { Latent } from '../core/types';
import { defineBlock } from '../registry/node';
import { checkParamValue, defineParam, defineParams } from '../registry/params';
import type { ModelValue } from '../registry/types';

const BATCH = defineParam({ name: 'batch', type: 'integer', default: 1, min: 1, max: 4096, doc: 'Number of samples (the CLI\'s --batch overrides it).' });

/** Effective batch size: the run's override (`--batch`) wins over the block's own parameter. */
function batchOf(services: { batch?: number }, param: number): number {
  const b = services.batch ?? param;
  const why = checkParamValue(BATCH, b);
  if (why) throw new DpipeError('E_PARAM_VALUE', `batch ${why}`);
  return b;
}

const EMPTY_PARAMS = defineParams(
  BATCH,
  { name: 'channels', type: 'integer', default: 0, min: 0, max: 4096, doc: 'Channels; 0 = from the model.' },
  { name: 'height', type: 'integer', default: 0, min: 0, max: 16384, doc: 'Height; 0 = from the model.' },
  { name: 'width', type: 'integer', default: 0, min: 0, max: 16384, doc: 'Width; 0 = from the model.' },
);
const NPY_PARAMS = defineParams(
  { name: 'file', type: 'file', default: '', extensions: ['.npy'], mustExist: true, doc: 'Path of the .npy file, relative to the .dpipe file.' },
  { ...BATCH, doc: 'Batch size when the file holds one item, which is then repeated (the CLI\'s --batch overrides it); a file with several items keeps its own batch.' },
);

export const latentEmpty = defineBlock({
  type: 'latent.empty',
  category: 'Latent',
  title: 'Empty latent',
  doc:
    'An all-zero latent of shape [batch, channels, height, width]. A size of 0 takes the connected model\'s sample shape ' +
    '(sidecar `sampleShape` or the ONNX input shape). Connected to a Sample block, the start is pure noise at the first σ.',
  inputs: [{ name: 'model', type: 'MODEL', optional: true, doc: 'The model whose sample shape fills sizes left at 0.' }],
  outputs: [{ name: 'latent', type: 'LATENT', doc: 'Zeros, [batch, channels, height, width].' }],
  params: EMPTY_PARAMS,
  async evaluate(ctx, inputs, o) {
    const model = inputs.model as ModelValue | undefined;
    const batch = batchOf(ctx.services, o.batch);
    const dims = [o.channels, o.height, o.width];
    const names = ['channels', 'height', 'width'];
    const shape = dims.map((d, i) => {
      if (d > 0) return d;
      const fromModel = model?.sampleShape?.[i];
      if (fromModel === undefined) {
        throw new DpipeError(
          'E_COMPOSE',
          model
            ? `latent.empty "${ctx.nodeId}": ${names[i]} is 0 ("from the model"), but the model does not fix its sample shape; set ${names[i]}`
            : `latent.empty "${ctx.nodeId}": ${names[i]} is 0 ("from the model"), but no model is connected; connect a MODEL or set ${names[i]}`,
        );
      }
      return fromModel;
    });
    checkAllocation([batch, ...shape], `latent.empty "${ctx.nodeId}"${dims.some((d) => d === 0) ? ' (sizes from the model\'s sample shape)' : ''}`, ctx.services.budget);
    return { latent: latent([batch, ...shape]) };
  },
});

export const latentNpy = defineBlock({
  type: 'latent.npy',
  category: 'Latent',
  title: 'Latent from .npy',
  doc:
    'A latent read from a NumPy .npy file (float32/float64, C order), shape [B, C, H, W] or [C, H, W]. A single item is ' +
    'repeated to the batch size. For img2img, feed it to a Sample block with a schedule truncated to start at the ' +
    'strength\'s σ: the Sample block adds σ₀·z to it.',
  inputs: [],
  outputs: [{ name: 'latent', type: 'LATENT', doc: 'The array, [batch, channels, height, width].' }],
  params: NPY_PARAMS,
  async evaluate(ctx, _inputs, o) {
    const file = o.file;
    if (!file) throw new DpipeError('E_PARAM_VALUE', `latent.npy "${ctx.nodeId}": set "file" to a .npy file`);
    const arr = await ctx.services.readNpy(path.resolve(ctx.baseDir, file));
    if (arr.shape.length !== 3 && arr.shape.length !== 4) {
      throw new DpipeError('E_SHAPE', `latent.npy "${ctx.nodeId}": ${file} has shape [${arr.shape.join(', ')}]; expected [B, C, H, W] or [C, H, W]`);
    }
    const item = arr.shape.length === 3 ? arr.shape : arr.shape.slice(1);
    let x: Latent = latent(arr.shape.length === 3 ? [1, ...item] : arr.shape, arr.data);
    const batch = batchOf(ctx.services, o.batch);
    checkAllocation([x.shape[0] === 1 ? batch : x.shape[0], ...item], `latent.npy "${ctx.nodeId}"`, ctx.services.budget);
    if (x.shape[0] === 1 && batch > 1) {
      const n = arr.data.length;
      const data = new Float64Array(n * batch);
      for (let b = 0; b < batch; b++) data.set(arr.data, b * n);
      x = latent([batch, ...item], data);
    }
    return { latent: x };
  },
});
