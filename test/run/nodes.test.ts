import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { latent } from '../../src/engine/core/latent';
import { parseNpy } from '../../src/engine/core/npy';
import type { Latent } from '../../src/engine/core/types';
import { latentEmpty, latentNpy } from '../../src/engine/nodes/latent';
import { outputLatent } from '../../src/engine/nodes/output';
import { startState } from '../../src/engine/nodes/sample';
import type { EvalContext, RunServices } from '../../src/engine/registry/node';
import { gaussModel } from './helpers';

function ctx(services: Partial<RunServices> = {}, nodeId = 'n'): EvalContext {
  return {
    nodeId,
    baseDir: '/pipelines',
    services: {
      loadModel: async () => gaussModel(),
      readNpy: async () => latent([1], new Float64Array(1)),
      ...services,
    },
  };
}

describe('nodes: latent sources, start state, latent output', () => {
  it('latent.empty: zeros, sizes 0 from the model, --batch over the block\'s batch', async () => {
    const m = gaussModel({ shape: [3, 8, 6] });
    const a = (await latentEmpty.evaluate(ctx(), { model: m }, { batch: 2, channels: 0, height: 0, width: 5 })).latent as Latent;
    assert.deepEqual(a.shape, [2, 3, 8, 5]);
    assert.ok(a.data.every((v) => v === 0));
    const b = (await latentEmpty.evaluate(ctx({ batch: 4 }), {}, { batch: 2, channels: 1, height: 2, width: 2 })).latent as Latent;
    assert.deepEqual(b.shape, [4, 1, 2, 2]);
    await assert.rejects(latentEmpty.evaluate(ctx(), {}, { batch: 1, channels: 0, height: 2, width: 2 }),
      (e: DpipeError) => e.code === 'E_COMPOSE' && /channels is 0 \("from the model"\), but no model is connected/.test(e.message));
  });

  it('latent.npy: [C,H,W] and [1,C,H,W] files are repeated to the batch; paths resolve against the .dpipe folder', async () => {
    let asked = '';
    const readNpy = async (p: string) => {
      asked = p;
      return latent([1, 2, 2], Float64Array.from([1, 2, 3, 4]));
    };
    const x = (await latentNpy.evaluate(ctx({ readNpy }), {}, { file: 'img/a.npy', batch: 3 })).latent as Latent;
    assert.equal(asked, path.resolve('/pipelines', 'img/a.npy'));
    assert.deepEqual(x.shape, [3, 1, 2, 2]);
    assert.deepEqual(Array.from(x.data), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    const wrong = async () => latent([4], new Float64Array(4));
    await assert.rejects(latentNpy.evaluate(ctx({ readNpy: wrong }), {}, { file: 'a.npy', batch: 1 }), (e: DpipeError) => e.code === 'E_SHAPE' && /expected \[B, C, H, W\] or \[C, H, W\]/.test(e.message));
    await assert.rejects(latentNpy.evaluate(ctx(), {}, { file: '', batch: 1 }), (e: DpipeError) => e.code === 'E_PARAM_VALUE');
  });

  it('startState: x_T = latent + σ0·z (sigma) or latent + √(σ0²+1)·z (vp)', () => {
    const lat = latent([1, 2], Float64Array.from([0.5, -1]));
    const z = Float64Array.from([1, 2]);
    assert.deepEqual(Array.from(startState(lat, z, 3, 'sigma').data), [3.5, 5]);
    const c = Math.sqrt(10);
    assert.deepEqual(Array.from(startState(lat, z, 3, 'vp').data), [0.5 + c, -1 + 2 * c]);
  });

  it('output.latent: .npy in float32 or float64 through writeOutput; names are checked', async () => {
    const files: { name: string; data: Uint8Array }[] = [];
    const writeOutput = async (_n: string, _k: string, name: string, data: Uint8Array) => {
      files.push({ name, data });
      return `/out/${name}.npy`;
    };
    const x = latent([1, 1, 1, 2], Float64Array.from([1 / 3, 2]));
    const r = await outputLatent.evaluate(ctx({ writeOutput }), { latent: x }, { name: 'z', dtype: 'float64' });
    assert.deepEqual(r.files, ['/out/z.npy']);
    const back = parseNpy(files[0].data);
    assert.equal(back.dtype, '<f8');
    assert.equal(back.data[0], 1 / 3);
    await outputLatent.evaluate(ctx({ writeOutput }), { latent: x }, { name: 'z', dtype: 'float32' });
    assert.equal(parseNpy(files[1].data).dtype, '<f4');
    await assert.rejects(outputLatent.evaluate(ctx({ writeOutput }), { latent: x }, { name: '../up', dtype: 'float32' }), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /no path separators/.test(e.message));
  });

  it('output.latent space: ve writes x as is, vp writes x/√(1+σ_end²) with σ_end the last σ of the connected schedule', async () => {
    const written: Float64Array[] = [];
    const writeOutput = async (_n: string, _k: string, name: string, data: Uint8Array) => {
      written.push(parseNpy(data).data);
      return `/out/${name}.npy`;
    };
    const x = latent([1, 1, 1, 3], Float64Array.from([1, -2.5, 0.3]));
    const save = (inputs: Record<string, unknown>, space?: string) =>
      outputLatent.evaluate(ctx({ writeOutput }), inputs, { name: 'z', dtype: 'float64', ...(space ? { space } : {}) });
    const sigmas = Float64Array.of(10, 2, 0.75); // √(1 + 0.75²) = 1.25
    await save({ latent: x, sigmas }, 'vp');
    assert.equal(written[0].length, 3);
    for (const [i, v] of [1, -2.5, 0.3].entries()) assert.ok(Math.abs(written[0][i] - v / 1.25) < 1e-15, `${written[0][i]} vs ${v / 1.25}`);
    // The default is VE, and a connected schedule does not change it.
    assert.equal(outputLatent.params.find((p) => p.name === 'space')!.default, 've');
    await save({ latent: x, sigmas });
    assert.deepEqual(Array.from(written[1]), [1, -2.5, 0.3]);
    // A run that ends at σ = 0: both coordinates agree.
    await save({ latent: x, sigmas: Float64Array.of(10, 1, 0) }, 'vp');
    assert.deepEqual(Array.from(written[2]), [1, -2.5, 0.3]);
    await assert.rejects(save({ latent: x }, 'vp'), (e: DpipeError) => e.code === 'E_INPUT_MISSING' && /"sigmas"/.test(e.message) && /space "ve"/.test(e.message));
  });
});
