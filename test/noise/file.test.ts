import { strict as assert } from 'assert';
import { fileNoise } from '../../src/engine/noise/file';
import { NOISE_NODES } from '../../src/engine/noise/nodes';
import { DpipeError } from '../../src/engine/core/errors';
import { readNpy, GOLDEN } from '../helpers/fixtures';
import type { RunServices } from '../../src/engine/registry/node';
import type { NoiseValue } from '../../src/engine/registry/types';
import * as path from 'path';

describe('noise: .npy files', () => {
  const z = readNpy('noise/z.npy');
  const steps = readNpy('noise/steps24.npy');

  it('initial noise and per-step slices come back in order, then E_NOISE_EXHAUSTED', () => {
    const nv = fileNoise({ initial: z, steps, seed: 0 });
    assert.deepEqual([...nv.initial([4, 3, 8, 8])], [...z.data]);
    // Fewer batch items than the file: the first ones.
    assert.deepEqual([...nv.initial([2, 3, 8, 8])], [...z.data.subarray(0, 384)]);
    const s = nv.stepSampler([4, 3, 8, 8], new Float64Array());
    const per = 4 * 192;
    for (let k = 0; k < 24; k++) assert.deepEqual([...s(1, 0)], [...steps.data.subarray(k * per, (k + 1) * per)]);
    assert.throws(() => s(1, 0), (e: unknown) => e instanceof DpipeError && e.code === 'E_NOISE_EXHAUSTED' && /has 24 draws/.test(e.message));
  });

  it('rejects shape mismatches with E_SHAPE naming both shapes', () => {
    const nv = fileNoise({ initial: z, steps, seed: 0 });
    assert.throws(() => nv.initial([5, 3, 8, 8]), (e: unknown) => e instanceof DpipeError && e.code === 'E_SHAPE' && /\[4, 3, 8, 8\].*\[5, 3, 8, 8\]/.test(e.message));
    assert.throws(() => nv.stepSampler([4, 3, 8, 9], new Float64Array()), (e: unknown) => e instanceof DpipeError && e.code === 'E_SHAPE');
  });

  it('noise.npy node reads files relative to the .dpipe and falls back to the seed', async () => {
    const node = NOISE_NODES.find((n) => n.type === 'noise.npy')!;
    const services = { readNpy: async (p: string) => readNpy(p), loadModel: async () => { throw new Error('no'); } } as unknown as RunServices;
    const out = await node.evaluate({ nodeId: 'n', baseDir: GOLDEN, services }, {}, { initial: path.join('noise', 'z.npy'), steps: '', seed: 5 });
    const nv = out.noise as NoiseValue;
    assert.deepEqual([...nv.initial([4, 3, 8, 8])], [...z.data]);
    const seeded = NOISE_NODES.find((n) => n.type === 'noise.seeded')!;
    const o2 = await seeded.evaluate({ nodeId: 'm', baseDir: GOLDEN, services }, {}, { seed: 5 });
    const a = nv.stepSampler([1, 4], new Float64Array())(1, 0);
    const b = (o2.noise as NoiseValue).stepSampler([1, 4], new Float64Array())(1, 0);
    assert.deepEqual([...a], [...b]);
    // --seed override replaces the node's seed.
    const o3 = await seeded.evaluate({ nodeId: 'm', baseDir: GOLDEN, services: { ...services, seed: 9 } }, {}, { seed: 5 });
    assert.deepEqual((o3.noise as NoiseValue).initial([1, 2]).length, 2);
    assert.deepEqual([...(o3.noise as NoiseValue).initial([1, 2])], [...fileNoise({ seed: 9 }).initial([1, 2])]);
  });
});
