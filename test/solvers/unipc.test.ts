import { strict as assert } from 'assert';
import { DpipeError } from '../../src/engine/core/errors';
import { unipc, UNIC_CORRECTOR_NODE } from '../../src/engine/solvers/unipc';
import { SOLVER_NODES } from '../../src/engine/solvers/index';
import type { CorrectorValue } from '../../src/engine/registry/types';
import type { RunServices } from '../../src/engine/registry/node';
import { timeUniformSigmas } from '../../src/engine/schedules/timeUniform';
import { counted, ctxWith, gmmDenoiser } from '../helpers/gmm';
import { goldenZ, runMeta, SD_TABLE, startVE } from '../helpers/golden';

describe('solvers: UniPC', () => {
  const z = goldenZ();
  const zero = timeUniformSigmas(10, SD_TABLE, 'linspace', 'multistep', 1, 'zero');
  it('bh1 to a final σ = 0 (diffusers gives NaN: df_unipc_bh1_o2/o3_n10) is a clear E_NAN error, after no NaN was produced', async () => {
    for (const order of [2, 3]) {
      await assert.rejects(
        unipc(gmmDenoiser, startVE(z, zero[0], 'vp'), zero, { order, variant: 'bh1' }, ctxWith()),
        (e: unknown) => e instanceof DpipeError && e.code === 'E_NAN' && /variant bh1/.test(e.message) && /bh2/.test(e.message),
      );
    }
    // The reference outputs are indeed NaN.
    assert.ok(runMeta('df_unipc_bh1_o2_n10'));
  });
  it('zeroFinal "ddim" takes the limit: the last step returns x̂0', async () => {
    const { model, calls } = counted(gmmDenoiser);
    const x = await unipc(model, startVE(z, zero[0], 'vp'), zero, { order: 2, variant: 'bh1', zeroFinal: 'ddim' }, ctxWith());
    assert.equal(calls.length, 10);
    assert.ok(x.data.every(Number.isFinite));
  });
  it('costs one evaluation per step; corrector off = UniP only; disableCorrector on every step = corrector off', async () => {
    const s = timeUniformSigmas(8, SD_TABLE, 'linspace', 'multistep', 1, 'sigma_min');
    const x0 = startVE(z, s[0], 'vp');
    const a = counted(gmmDenoiser);
    const withC = await unipc(a.model, x0, s, { order: 2 }, ctxWith());
    assert.equal(a.calls.length, 8);
    const off = await unipc(gmmDenoiser, x0, s, { order: 2, corrector: false }, ctxWith());
    const dis = await unipc(gmmDenoiser, x0, s, { order: 2, disableCorrector: [0, 1, 2, 3, 4, 5, 6, 7] }, ctxWith());
    assert.deepEqual([...dis.data], [...off.data]);
    assert.notDeepEqual([...withC.data], [...off.data]);
  });
  it('solver.unipc is registered; corrector.unic builds a hook declaring one evaluation per step', async () => {
    assert.ok(SOLVER_NODES.some((n) => n.type === 'solver.unipc'));
    const out = await UNIC_CORRECTOR_NODE.evaluate({ nodeId: 'c', baseDir: '.', services: {} as RunServices }, {}, { order: 2 });
    const cv = out.corrector as CorrectorValue;
    assert.equal(cv.nfePerStep, 1);
    assert.equal(cv.make().id, 'corrector.unic');
    await assert.rejects(UNIC_CORRECTOR_NODE.evaluate({ nodeId: 'c', baseDir: '.', services: {} as RunServices }, {}, { order: 4 }), /"order" must be an integer in \[1, 3\], got 4/);
  });
});
