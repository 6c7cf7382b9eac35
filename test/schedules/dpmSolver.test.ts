import { strict as assert } from 'assert';
import { DiscreteVP, dpmSolverSigmas } from '../../src/engine/schedules/dpmSolver';
import { makeModelSchedule } from '../../src/engine/model/schedule';
import { runMeta, SD_TABLE } from '../helpers/golden';

describe('schedules: DPM-Solver / UniPC repository time grids', () => {
  const vp = new DiscreteVP(SD_TABLE);
  const model = makeModelSchedule({ kind: 'discrete', discreteSigmas: SD_TABLE });
  const tInput = (sigma: number) => 1000 * (vp.inverseLambda(-Math.log(sigma)) - 1 / 1000);
  it('the continuous-time view: t_i = (i+1)/N gives the training σ; λ and its inverse round-trip', () => {
    for (const i of [0, 1, 500, 998, 999]) assert.ok(Math.abs(vp.sigmaAt((i + 1) / 1000) / SD_TABLE[i] - 1) < 1e-12);
    for (const t of [0.001, 0.0123, 0.5, 0.777, 1]) assert.ok(Math.abs(vp.inverseLambda(vp.lambdaAt(t)) - t) < 1e-12);
  });
  for (const [run, skip, so] of [
    ['dpms_dpmpp_multistep_o2_logSNR_n10', 'logSNR', 0],
    ['dpms_dpmpp_multistep_o2_time_uniform_n10', 'time_uniform', 0],
    ['unipc_bh2_o3_logSNR_n10', 'logSNR', 0],
    ['dpms_dpm_singlestep_o3_logSNR_n10', 'logSNR', 3],
    ['dpms_dpm_singlestep_o3_time_uniform_n10', 'time_uniform', 3],
  ] as const) {
    it(`${skip}${so ? ` singlestep order ${so}` : ''}: the model's time inputs of ${run} (to 1e-3 of a timestep; the reference grids are float32)`, () => {
      const s = dpmSolverSigmas(model, 10, skip, so, 1, 0);
      const ref = runMeta(run).model_calls_timestep!;
      assert.equal(s.length, 11);
      ref.forEach((t, i) => assert.ok(Math.abs(tInput(s[i]) - t) < 1e-3, `call ${i}: ${tInput(s[i])} vs ${t}`));
      assert.ok(Math.abs(s[10] - SD_TABLE[0]) < 1e-12, 'ends at the smallest training σ');
    });
  }
  it('time_quadratic: √t uniform', () => {
    const s = dpmSolverSigmas(model, 4, 'time_quadratic', 0, 1, 0);
    const r = [1, 0.75, 0.5, 0.25, 0].map((u) => (Math.sqrt(0.001) + u * (1 - Math.sqrt(0.001))) ** 2);
    r.forEach((t, i) => assert.ok(Math.abs(s[i] / vp.sigmaAt(t) - 1) < 1e-12));
  });
});
