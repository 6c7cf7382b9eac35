import { strict as assert } from 'assert';
import { diffusersSinglestepOrders, repoSinglestepOrders, dpmSinglestepSolver, dpm2 } from '../../src/engine/solvers/singlestep';
import { counted, ctxWith, gmmDenoiser } from '../helpers/gmm';
import { karrasSigmas } from '../../src/engine/schedules/kdiffusion';
import { finish } from '../../src/engine/schedules/common';

describe('solvers: singlestep DPM-Solver', () => {
  it('step orders: dpm-solver repository and diffusers lists', () => {
    assert.deepEqual(repoSinglestepOrders(10, 3), [3, 3, 3, 1]);
    assert.deepEqual(repoSinglestepOrders(9, 3), [3, 3, 2, 1]);
    assert.deepEqual(repoSinglestepOrders(11, 3), [3, 3, 3, 2]);
    assert.deepEqual(repoSinglestepOrders(7, 2), [2, 2, 2, 1]);
    assert.deepEqual(diffusersSinglestepOrders(10, 2), [1, 2, 1, 2, 1, 2, 1, 2, 1, 1]);
    assert.deepEqual(diffusersSinglestepOrders(7, 3), [1, 2, 3, 1, 2, 3, 1]);
    assert.deepEqual(diffusersSinglestepOrders(9, 3), [1, 2, 3, 1, 2, 3, 1, 2, 1]);
  });
  it('NFE: interior order k costs k per step (1 on the step to σ = 0); grouped stages cost 1 per point', async () => {
    const s = finish(karrasSigmas(6, 0.002, 80, 7), 'zero', 0);
    for (const [p, nfe] of [[{ order: 3 }, 5 * 3 + 1], [{ order: 2 }, 5 * 2 + 1], [{ order: 3, stages: 'dpm-solver' }, 6], [{ order: 2, stages: 'diffusers' }, 6]] as const) {
      const { model, calls } = counted(gmmDenoiser);
      const x = { shape: [1, 3, 8, 8], data: new Float64Array(192).fill(40) };
      await dpmSinglestepSolver(model, x, s, p, ctxWith());
      assert.equal(calls.length, nfe, JSON.stringify(p));
    }
    const { model, calls } = counted(gmmDenoiser);
    await dpm2(model, { shape: [1, 3, 8, 8], data: new Float64Array(192).fill(40) }, s, {}, ctxWith());
    assert.deepEqual(calls.map((c) => c.role), ['predictor', 'stage', 'predictor', 'stage', 'predictor', 'stage', 'predictor', 'stage', 'predictor', 'stage', 'predictor']);
    // the stage of DPM-Solver-2 sits at the log-σ midpoint
    assert.ok(Math.abs(calls[1].sigma - Math.sqrt(s[0] * s[1])) < 1e-12 * s[0]);
  });
});
